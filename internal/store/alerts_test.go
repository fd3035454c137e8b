package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestAlertRoundTrip(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openMem(t, clk)
	in := AlertRecord{
		ReceivedAt: t0.Add(-time.Minute).In(time.FixedZone("CET", 3600)), Source: SourceAlertmanager,
		Fingerprint: "fp1", Service: "backend", Namespace: "ai-data-labs", Kind: "HighCPU",
		Summary: "Backend service CPU at 85% for 5 minutes", Env: EnvSimulated,
	}
	id, err := s.RecordAlert(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	clk.SetTime(t0.Add(90 * time.Second))
	if err := s.FinishAlert(ctx, id, OutcomeResolved, "rules", "INC-2026-02-16-001", ""); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetAlert(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.ID, want.ReceivedAt = id, in.ReceivedAt.UTC()
	want.Outcome, want.Planner, want.IncidentID, want.FinishedAt = OutcomeResolved, "rules", "INC-2026-02-16-001", t0.Add(90*time.Second)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestRecordAlertDefaults(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	pending, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText})
	if err != nil {
		t.Fatal(err)
	}
	rejected, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText, Outcome: OutcomeRejected, Error: "empty alert"})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s.GetAlert(ctx, pending)
	if !p.ReceivedAt.Equal(t0) || !p.FinishedAt.IsZero() {
		t.Errorf("pending alert: received %v finished %v; want %v and zero", p.ReceivedAt, p.FinishedAt, t0)
	}
	r, _ := s.GetAlert(ctx, rejected)
	if !r.FinishedAt.Equal(t0) || r.Outcome != OutcomeRejected {
		t.Errorf("rejected alert: finished %v outcome %q; want %v rejected", r.FinishedAt, r.Outcome, t0)
	}
}

func TestAlertValidation(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	id, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"unknown source", func() error { _, err := s.RecordAlert(ctx, AlertRecord{Source: "pager"}); return err }, ErrInvalid},
		{"empty source", func() error { _, err := s.RecordAlert(ctx, AlertRecord{}); return err }, ErrInvalid},
		{"unknown outcome", func() error {
			_, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText, Outcome: "done"})
			return err
		}, ErrInvalid},
		{"finish with pending outcome", func() error { return s.FinishAlert(ctx, id, "", "", "", "") }, ErrInvalid},
		{"finish with unknown outcome", func() error { return s.FinishAlert(ctx, id, "fixed", "", "", "") }, ErrInvalid},
		{"finish unknown alert", func() error { return s.FinishAlert(ctx, id+100, OutcomeFailed, "", "", "") }, ErrNotFound},
		{"get unknown alert", func() error { _, err := s.GetAlert(ctx, id+100); return err }, ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, c.want) {
				t.Errorf("error = %v, want %v", err, c.want)
			}
		})
	}
}

// seedAlerts records alerts one minute apart, oldest first, cycling through
// services and envs, and returns their IDs.
func seedAlerts(t *testing.T, s *Store, n int, services, envs []string) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range n {
		id, err := s.RecordAlert(context.Background(), AlertRecord{
			ReceivedAt: t0.Add(time.Duration(i-n) * time.Minute), Source: SourceText,
			Service: services[i%len(services)], Env: envs[i%len(envs)],
		})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids
}

func TestListAlertsFilters(t *testing.T) {
	s := openMem(t, newClock())
	// 12 alerts at t0-12m … t0-1m; services alternate backend/frontend, envs cycle a/b/c.
	ids := seedAlerts(t, s, 12, []string{"backend", "frontend"}, []string{"a", "b", "c"})
	rev := func(idx ...int) []int64 {
		out := make([]int64, len(idx))
		for i, x := range idx {
			out[i] = ids[x]
		}
		return out
	}
	cases := []struct {
		name string
		f    AlertFilter
		want []int64
	}{
		{"no filter newest first", AlertFilter{}, rev(11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{"limit", AlertFilter{Limit: 3}, rev(11, 10, 9)},
		{"since is inclusive", AlertFilter{Since: t0.Add(-3 * time.Minute)}, rev(11, 10, 9)},
		{"service", AlertFilter{Service: "frontend"}, rev(11, 9, 7, 5, 3, 1)},
		{"env", AlertFilter{Env: "b"}, rev(10, 7, 4, 1)},
		{"service and env", AlertFilter{Service: "backend", Env: "a"}, rev(6, 0)},
		{"all filters", AlertFilter{Service: "frontend", Env: "b", Since: t0.Add(-8 * time.Minute), Limit: 1}, rev(7)},
		{"unknown service", AlertFilter{Service: "redis"}, nil},
		{"future since", AlertFilter{Since: t0.Add(time.Hour)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.ListAlerts(context.Background(), c.f)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []int64
			for _, a := range got {
				gotIDs = append(gotIDs, a.ID)
			}
			if !reflect.DeepEqual(gotIDs, c.want) {
				t.Errorf("ids = %v, want %v", gotIDs, c.want)
			}
		})
	}
}

func TestListAlertsLimitDefaultsAndCaps(t *testing.T) {
	s := openMem(t, newClock())
	seedAlerts(t, s, defaultLimit+5, []string{"backend"}, []string{""})
	got, err := s.ListAlerts(context.Background(), AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != defaultLimit {
		t.Errorf("default limit returned %d, want %d", len(got), defaultLimit)
	}
	got, err = s.ListAlerts(context.Background(), AlertFilter{Limit: maxLimit * 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != defaultLimit+5 {
		t.Errorf("large limit returned %d, want all %d", len(got), defaultLimit+5)
	}
}

func TestListAlertsSameInstantNewestIDFirst(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	first, _ := s.RecordAlert(ctx, AlertRecord{Source: SourceText})
	second, _ := s.RecordAlert(ctx, AlertRecord{Source: SourceText})
	got, err := s.ListAlerts(ctx, AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != second || got[1].ID != first {
		t.Errorf("order = %+v, want %d then %d", got, second, first)
	}
}

func TestLastActedAlert(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	record := func(at time.Duration, fp, env, outcome string) int64 {
		t.Helper()
		id, err := s.RecordAlert(ctx, AlertRecord{ReceivedAt: t0.Add(at), Source: SourceAlertmanager,
			Fingerprint: fp, Env: env, Outcome: outcome})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	acted := record(-30*time.Minute, "fp", "prod", OutcomeResolved)
	record(-20*time.Minute, "fp", "prod", OutcomeNoAction)   // not acted on
	record(-15*time.Minute, "fp", "prod", OutcomeRejected)   // not acted on
	record(-10*time.Minute, "fp", "prod", OutcomePending)    // still running
	record(-5*time.Minute, "fp", "staging", OutcomeResolved) // other env
	record(-1*time.Minute, "other", "prod", OutcomeResolved) // other fingerprint
	escalated := record(-40*time.Minute, "fp2", "prod", OutcomeEscalated)
	unresolved := record(-50*time.Minute, "fp3", "prod", OutcomeUnresolved)

	cases := []struct {
		name, fp, env string
		wantID        int64
		wantOK        bool
	}{
		{"newest resolved in env", "fp", "prod", acted, true},
		{"escalated counts", "fp2", "prod", escalated, true},
		{"unresolved counts", "fp3", "prod", unresolved, true},
		{"other env", "fp2", "staging", 0, false},
		{"unknown fingerprint", "nope", "prod", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, ok, err := s.LastActedAlert(ctx, c.fp, c.env)
			if err != nil {
				t.Fatal(err)
			}
			if ok != c.wantOK || a.ID != c.wantID {
				t.Errorf("LastActedAlert = %d, %v; want %d, %v", a.ID, ok, c.wantID, c.wantOK)
			}
		})
	}
}
