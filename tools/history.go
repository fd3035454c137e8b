package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/text"
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

// MaxHistoryAnswerBytes bounds the encoded entries of one queryHistory answer:
// the newest entries that fit are kept and the rest counted in More. The agent
// cuts each tool result to its planner's budget (agent.Config.ToolResultChars,
// 4,000 by default); an answer cut there can no longer be read, so it must fit
// whole, with room for the outcome around it.
const MaxHistoryAnswerBytes = 3000

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
	return 0, fmt.Errorf(`field "since" = %q must be a lookback such as 90m, 24h or 7d`, text.Clip(s, 40))
}

// HistoryAnswer is what queryHistory returns.
type HistoryAnswer struct {
	Since   string         `json:"since"`
	Entries []HistoryEntry `json:"entries"` // newest first
	// More counts older entries found but left out to keep the answer
	// within MaxHistoryAnswerBytes.
	More int `json:"more,omitempty"`
}

// fit keeps the newest entries whose encoding fits MaxHistoryAnswerBytes.
func fit(entries []HistoryEntry) ([]HistoryEntry, int) {
	size := 2 // the brackets of the list
	for i, e := range entries {
		b, err := json.Marshal(e)
		if err != nil || size+len(b)+1 > MaxHistoryAnswerBytes {
			return entries[:i], len(entries) - i
		}
		size += len(b) + 1
	}
	return entries, 0
}

// historyReader answers queryHistory with the backend it uses.
type historyReader struct {
	history HistoryReader
	clock   clock.PassiveClock
}

// NewQueryHistory builds queryHistory: it reads h. Without h its calls fail
// (not configured).
func NewQueryHistory(h HistoryReader, clk clock.PassiveClock) Tool {
	t := reader[queryHistoryArgs]{about: about{QueryHistory, RiskRead, "Past actions or alerts."},
		read: unavailable[queryHistoryArgs](errNoHistory)}
	if h != nil {
		t.read = historyReader{h, realIfNil(clk)}.query
	}
	return t
}

func (hr historyReader) query(ctx context.Context, _ *Run, a queryHistoryArgs) (Answer, error) {
	d, _ := parseSince(a.Since)
	since := hr.clock.Now().Add(-d)
	var entries []HistoryEntry
	var err error
	if a.What == "alerts" {
		entries, err = hr.history.RecentAlerts(ctx, a.Name, since, maxHistoryEntries)
	} else {
		target := ""
		if a.Name != "" {
			target = a.Namespace + "/" + a.Name
		}
		entries, err = hr.history.RecentActions(ctx, target, since, maxHistoryEntries)
	}
	if err != nil {
		return Answer{}, fmt.Errorf("read history: %w", err)
	}
	for i := range entries {
		entries[i].Summary = text.Clip(entries[i].Summary, 300)
	}
	found := len(entries)
	ans := HistoryAnswer{Since: units.Duration(d)}
	ans.Entries, ans.More = fit(entries)
	summary := fmt.Sprintf("%d %s in the last %s", found, a.What, ans.Since)
	if ans.More > 0 {
		summary += fmt.Sprintf(", the newest %d shown", len(ans.Entries))
	}
	return Answer{ans, summary}, nil
}
