package tools_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/tools"
)

// fakeHistory answers from fixed entries and remembers what it was asked.
type fakeHistory struct {
	target, service string
	since           time.Time
}

func (f *fakeHistory) RecentActions(_ context.Context, target string, since time.Time, _ int) ([]tools.HistoryEntry, error) {
	f.target, f.since = target, since
	return []tools.HistoryEntry{{At: since.Add(time.Hour), Kind: "scaleDeployment", Target: target, Summary: "scaleDeployment ai-data-labs/backend: cpu above 80% for 5m", Status: "executed", Rule: "scale_up.cpu"}}, nil
}

func (f *fakeHistory) RecentAlerts(_ context.Context, service string, since time.Time, _ int) ([]tools.HistoryEntry, error) {
	f.service, f.since = service, since
	return nil, nil
}

func TestQueryHistoryAnswersWhyFromTheRecordedActions(t *testing.T) {
	h := &fakeHistory{}
	e := newEnv(t, "high-cpu", func(d *tools.Deps) { d.History = h })
	o := e.call(autoRun(), "queryHistory", `{"what":"actions","namespace":"ai-data-labs","name":"backend","since":"7d"}`)
	mustStatus(t, o, tools.StatusOK)
	ans := result[tools.HistoryAnswer](t, o)
	if h.target != "ai-data-labs/backend" || e.p.Clock().Now().Sub(h.since) != 7*24*time.Hour {
		t.Errorf("asked target %q since %v", h.target, h.since)
	}
	if len(ans.Entries) != 1 || ans.Entries[0].Rule != "scale_up.cpu" || ans.Since != "7d" {
		t.Errorf("answer = %+v", ans)
	}
	o = e.call(autoRun(), "queryHistory", `{"what":"alerts","name":"backend","namespace":"ai-data-labs"}`)
	mustStatus(t, o, tools.StatusOK)
	if h.service != "backend" || e.p.Clock().Now().Sub(h.since) != 24*time.Hour {
		t.Errorf("alerts asked for %q since %v, want backend and a 24h default", h.service, h.since)
	}
}

func TestQueryHistoryRejectsBadLookbacksAndNeedsAHistory(t *testing.T) {
	e := newEnv(t, "high-cpu", func(d *tools.Deps) { d.History = &fakeHistory{} })
	for _, args := range []string{`{"what":"actions","since":"forever"}`, `{"what":"everything"}`, `{"what":"actions","since":"-1h"}`, `{}`} {
		mustStatus(t, e.call(autoRun(), "queryHistory", args), tools.StatusInvalid)
	}
	mustStatus(t, newEnv(t, "high-cpu").call(autoRun(), "queryHistory", `{"what":"alerts"}`), tools.StatusFailed)
}

// manyHistory answers with n long entries, newest first.
type manyHistory struct{ n int }

func (m manyHistory) RecentActions(_ context.Context, target string, since time.Time, limit int) ([]tools.HistoryEntry, error) {
	var out []tools.HistoryEntry
	for i := 0; i < m.n && i < limit; i++ {
		out = append(out, tools.HistoryEntry{At: since.Add(time.Duration(m.n-i) * time.Minute), Kind: "scaleDeployment", Target: target,
			Summary: strings.Repeat("cpu above 80% for 5m: all 21 samples, last 85.0%; ", 10), Status: "executed", Rule: "scale_up.cpu"})
	}
	return out, nil
}

func (manyHistory) RecentAlerts(context.Context, string, time.Time, int) ([]tools.HistoryEntry, error) {
	return nil, nil
}

func TestQueryHistoryKeepsTheNewestEntriesThatFitTheBudget(t *testing.T) {
	for _, n := range []int{1, 5, 13, 20} {
		e := newEnv(t, "high-cpu", func(d *tools.Deps) { d.History = manyHistory{n} })
		o := e.call(autoRun(), "queryHistory", `{"what":"actions","namespace":"ai-data-labs","name":"backend","since":"7d"}`)
		mustStatus(t, o, tools.StatusOK)
		ans := result[tools.HistoryAnswer](t, o)
		entries, _ := json.Marshal(ans.Entries)
		if len(entries) > tools.MaxHistoryAnswerBytes {
			t.Errorf("%d entries: the answer's entries are %d bytes, over %d", n, len(entries), tools.MaxHistoryAnswerBytes)
		}
		if len(ans.Entries) == 0 || len(ans.Entries)+ans.More != n {
			t.Errorf("%d entries: %d shown + %d more", n, len(ans.Entries), ans.More)
		}
		if len(ans.Entries) > 1 && ans.Entries[0].At.Before(ans.Entries[1].At) {
			t.Errorf("%d entries: the oldest were kept", n)
		}
		if ans.More > 0 && !strings.Contains(o.Summary, "newest") {
			t.Errorf("summary %q does not say some are left out", o.Summary)
		}
	}
}
