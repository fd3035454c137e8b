package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/tools"
)

func newToolsCmd(f *Factory, root *rootOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "tools", Short: "List or call the typed tools"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the tools, their risk and their argument schemas",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := root.checkOutput(); err != nil {
				return err
			}
			specs := tools.NewRegistry(tools.Deps{}).Specs()
			if root.output == "json" {
				return writeJSON(f.IO.Out, specs)
			}
			for _, s := range specs {
				fmt.Fprintf(f.IO.Out, "%-17s %-11s %s\n  args: %s\n", s.Name, s.Risk, s.Description, s.Parameters)
			}
			return nil
		},
	})
	var args string
	call := &cobra.Command{
		Use:   "call TOOL --args JSON",
		Short: "Call one tool through the same gate as the agent (decode, validate, guard, mode, record)",
		Long: `Call one tool through the same gate as the agent. Arguments that name a workload without a
namespace get the current one (-n/--namespace, NAMESPACE, the config file or the kubeconfig
context); every field the tool's schema requires must be given.`,
		Example: `  ops-skill tools call getServiceStatus --args '{"namespace":"ai-data-labs","name":"backend"}'
  ops-skill -n shop tools call getServiceStatus --args '{"name":"backend"}'
  ops-skill tools call scaleDeployment --args '{"namespace":"ai-data-labs","name":"backend","replicas":4}'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			return runToolCall(cmd, f, root, a[0], args)
		},
	}
	call.Flags().StringVar(&args, "args", "{}", "the tool's arguments as a JSON object")
	cmd.AddCommand(call)
	return cmd
}

func runToolCall(cmd *cobra.Command, f *Factory, root *rootOptions, name, args string) error {
	cfg, err := f.LoadConfig(root.configFile, cmd.Flags())
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	rt, err := f.NewRuntime(cmd.Context(), cfg, RuntimeOptions{Simulate: root.simulate, Scenario: root.scenario, Notify: root.notify})
	if err != nil {
		return err
	}
	defer rt.Close()
	tool, ok := rt.Registry.Lookup(tools.Name(name))
	if !ok {
		return usageError("unknown tool %q (available: %s)", name, strings.Join(rt.Registry.Names(), ", "))
	}
	// A workload named without a namespace is in the current one (-n,
	// NAMESPACE, the config file, the kubeconfig context), as with kubectl.
	raw := tool.Spec().WithNamespace(json.RawMessage(args), cfg.Kubernetes.Namespace)
	mode, err := guard.ParseMode(string(rt.Mode))
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	run := tools.NewRun(0, mode, newTerminalApprover(f.IO, rt.Where), cfg.Agent.MaxWrites)
	out := rt.Registry.Invoke(cmd.Context(), run, tools.Call{ID: "cli", Tool: tools.Name(name), Args: raw})
	if err := writeJSON(f.IO.Out, out); err != nil {
		return err
	}
	switch {
	case out.Status == tools.StatusInvalid:
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s", out.Error)}
	case len(out.AuditErrors) > 0:
		// The history promises every call: one it could not record is a failure.
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s %s, but the history is incomplete: %s", name, out.Status, out.AuditErrors[0])}
	}
	switch out.Status {
	case tools.StatusFailed, tools.StatusCanceled:
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s failed: %s", name, out.Error)}
	case tools.StatusRefused:
		return &ExitError{Code: ExitUnresolved, Err: fmt.Errorf("%s refused by %s: %s", name, out.Rule, out.Reason)}
	}
	return nil
}
