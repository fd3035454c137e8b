package tools

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/units"
)

// HistoryEntry is one past alert or action, as the history answers "why did you …?".
type HistoryEntry struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"` // e.g. scaleDeployment, or alert
	Target  string    `json:"target,omitempty"`
	Summary string    `json:"summary"`
	Status  string    `json:"status,omitempty"` // executed, refuse, resolved, …
	Rule    string    `json:"rule,omitempty"`
}

// HistoryReader reads what ops-skill did before.
type HistoryReader interface {
	RecentActions(ctx context.Context, target string, since time.Time, limit int) ([]HistoryEntry, error)
	RecentAlerts(ctx context.Context, service string, since time.Time, limit int) ([]HistoryEntry, error)
}

const maxHistoryEntries = 20

type queryHistoryArgs struct {
	What      string `json:"what" enum:"actions,alerts"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Since     string `json:"since,omitempty" desc:"e.g. 7d"`
}

func (a queryHistoryArgs) Validate() error {
	errs := []error{checkEnum("what", a.What, "actions", "alerts")}
	if a.Name != "" || a.Namespace != "" {
		errs = append(errs, WorkloadArgs{a.Namespace, a.Name}.Validate())
	}
	if _, err := parseSince(a.Since); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (a queryHistoryArgs) target() string {
	if a.Name == "" {
		return "history"
	}
	return a.Namespace + "/" + a.Name
}

// parseSince reads a lookback such as "90m", "24h" or "7d"; empty is 24h.
func parseSince(s string) (time.Duration, error) {
	if s == "" {
		return 24 * time.Hour, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 && n <= 365 {
			return time.Duration(n) * day, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 && d <= 365*day {
		return d, nil
	}
	return 0, fmt.Errorf(`field "since" = %q must be a lookback such as 90m, 24h or 7d`, clip(s, 40))
}

// HistoryAnswer is what queryHistory returns.
type HistoryAnswer struct {
	Since   string         `json:"since"`
	Entries []HistoryEntry `json:"entries"`
}

func queryHistoryTool() Tool {
	return directTool[queryHistoryArgs]{
		name: "queryHistory", risk: RiskRead,
		desc: "Past actions (rule, reason) or alerts.",
		run: func(ctx context.Context, r *Registry, _ *Run, a queryHistoryArgs) (any, string, error) {
			if r.deps.History == nil {
				return nil, "", errNotConfigured("history", "the history database is not open")
			}
			d, _ := parseSince(a.Since)
			since := r.now().Add(-d)
			var entries []HistoryEntry
			var err error
			if a.What == "alerts" {
				entries, err = r.deps.History.RecentAlerts(ctx, a.Name, since, maxHistoryEntries)
			} else {
				target := ""
				if a.Name != "" {
					target = a.Namespace + "/" + a.Name
				}
				entries, err = r.deps.History.RecentActions(ctx, target, since, maxHistoryEntries)
			}
			if err != nil {
				return nil, "", fmt.Errorf("read history: %w", err)
			}
			for i := range entries {
				entries[i].Summary = clip(entries[i].Summary, 300)
			}
			return HistoryAnswer{Since: units.Duration(d), Entries: entries}, fmt.Sprintf("%d %s in the last %s", len(entries), a.What, units.Duration(d)), nil
		},
	}
}
