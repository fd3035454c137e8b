// Package app is the composition root of ops-skill: it owns the process's
// streams, environment, clock and signals, builds the concrete backends,
// tools, planners and agent, runs the cobra command tree and maps errors to
// exit codes. It is the only package that sees every concrete type.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/sim"
)

// Main runs ops-skill with the process's arguments and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := deps{io: cli.System(), env: os.LookupEnv, clock: clock.RealClock{}, newLLM: newModel, progName: os.Args[0]}
	return Run(ctx, d, os.Args[1:])
}

// Run executes one command line with the given dependencies.
func Run(ctx context.Context, d deps, args []string) int {
	f := &cli.Factory{
		IO: d.io, Env: d.env, Now: d.clock.Now,
		LoadConfig:   d.loadConfig,
		OpenStore:    d.openStore,
		NewRuntime:   d.newRuntime,
		Scenarios:    scenarios,
		HealthChecks: d.healthChecks,
		Eval:         d.evaluate,
		Serve:        d.serve,
		Doctor:       d.doctor,
		MCP:          d.mcp,
	}
	root := cli.NewRoot(f, buildInfo())
	asKubectlPlugin(root, d.progName)
	root.SetArgs(args)
	root.SetIn(d.io.In)
	root.SetOut(d.io.Out)
	root.SetErr(d.io.ErrOut)
	err := root.ExecuteContext(ctx)
	return exitCode(d, err)
}

// asKubectlPlugin makes help and usage say "kubectl ops-skill" when kubectl
// runs the binary as its plugin (kubectl-ops_skill, the name krew links).
func asKubectlPlugin(root *cobra.Command, progName string) {
	name := strings.TrimSuffix(filepath.Base(progName), ".exe")
	if name != "kubectl-ops_skill" {
		return
	}
	if root.Annotations == nil {
		root.Annotations = map[string]string{}
	}
	root.Annotations[cobra.CommandDisplayNameAnnotation] = "kubectl ops-skill"
}

// exitCode maps an error to the documented exit codes, printing it once.
func exitCode(d deps, err error) int {
	if err == nil {
		return cli.ExitOK
	}
	code := cli.ExitFailed
	var ee *cli.ExitError
	switch {
	case errors.Is(err, context.Canceled): // Ctrl-C, SIGTERM, q in the view; what was done is printed
		code = cli.ExitCancelled
	case errors.As(err, &ee):
		code = ee.Code
		if ee.Err == nil {
			return code
		}
	case errors.Is(err, config.ErrInvalid), errors.Is(err, alert.ErrInvalid), isFlagError(err):
		code = cli.ExitUsage
	}
	fmt.Fprintf(d.io.ErrOut, "ops-skill: %v\n", err)
	return code
}

// isFlagError recognises cobra's argument and flag errors, which it returns untyped.
func isFlagError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "unknown command"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func scenarios() ([]cli.ScenarioInfo, error) {
	list, err := sim.ListScenarios(sim.Scenarios())
	if err != nil {
		return nil, err
	}
	out := make([]cli.ScenarioInfo, len(list))
	for i, s := range list {
		out[i] = cli.ScenarioInfo{Name: s.Name, Description: s.Description, Alert: s.Alert}
	}
	return out, nil
}
