package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/store"
)

// runUpdateThreshold validates new values against the whole policy (the
// effective config with the new values, by the loader's own rules), persists
// them where the effective config reads them, records the change and prints
// the effective policy. Nothing is saved when the result is invalid.
//
// A config that decodes but is invalid (an overrides file saved before a rule
// existed, say) may still be repaired: the update is applied to it, and the
// result must be valid as a whole.
func (o *rootOptions) runUpdateThreshold(cmd *cobra.Command) error {
	cfg, err := o.f.LoadConfig(o.configFile, cmd.Flags())
	if err != nil && !decoded(cfg) {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	next, changes, err := config.ApplyUpdates(cfg, o.updateThreshold)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	st, err := o.f.OpenStore(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := config.SaveOverrides(cfg.StateDir, changes); err != nil {
		return fmt.Errorf("save thresholds: %w", err)
	}
	who := whoAmI(o.f.Env)
	for _, c := range changes {
		if err := st.RecordThresholdChange(cmd.Context(), store.ThresholdChange{Key: c.Key, Old: c.Old, New: c.New, Who: who}); err != nil {
			return fmt.Errorf("record threshold change: %w", err)
		}
		fmt.Fprintf(o.f.IO.ErrOut, "%s: %s → %s\n", c.Key, c.Old, c.New)
	}
	for _, s := range config.EnvShadows(o.f.Env, changes) {
		fmt.Fprintf(o.f.IO.ErrOut, "warning: %s is set in the environment and outranks the new %s; unset it for the change to take effect\n", s.EnvVar, s.Key)
	}
	return next.Show(o.f.IO.Out, showFormat(o.output))
}

// decoded reports whether Load decoded cfg despite an error: Load returns a
// zero Config when a value does not parse, and the decoded one, with its state
// directory, when only the policy is invalid.
func decoded(cfg config.Config) bool { return cfg.StateDir != "" }

func showFormat(output string) string {
	if output == "json" {
		return "json"
	}
	return "yaml"
}

func whoAmI(env config.EnvFunc) string {
	for _, k := range []string{"OPS_SKILL_USER", "USER", "LOGNAME"} {
		if v, ok := env(k); ok && v != "" {
			return v
		}
	}
	if h, err := os.Hostname(); err == nil {
		return "unknown@" + h
	}
	return "unknown"
}

func (o *rootOptions) runThresholdHistory(cmd *cobra.Command) error {
	st, err := o.historyStore(cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	chs, err := st.ListThresholdChanges(cmd.Context(), o.limit)
	if err != nil {
		return fmt.Errorf("read the threshold history: %w", err)
	}
	if o.output == "json" {
		return writeJSON(o.f.IO.Out, chs)
	}
	rows := [][]string{{"AT", "KEY", "OLD", "NEW", "WHO"}}
	for _, c := range chs {
		rows = append(rows, []string{c.At.UTC().Format(time.RFC3339), c.Key, c.Old, c.New, dash(c.Who)})
	}
	return o.table(rows)
}
