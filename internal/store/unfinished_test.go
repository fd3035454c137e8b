package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestListUnfinishedFindsThePendingAlertsOfTheSubject(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	rec := func(a AlertRecord) int64 {
		t.Helper()
		a.Source = SourceAlertmanager
		id, err := s.RecordAlert(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	dead := rec(AlertRecord{Service: "backend", Namespace: "shop", Env: "prod"})
	self := rec(AlertRecord{Service: "backend", Namespace: "shop", Env: "prod"})
	rec(AlertRecord{Service: "backend", Namespace: "shop", Env: "prod", Outcome: OutcomeResolved})
	rec(AlertRecord{Service: "backend", Namespace: "other", Env: "prod"})
	rec(AlertRecord{Service: "backend", Namespace: "shop", Env: "staging"})
	byPrint := rec(AlertRecord{Fingerprint: "fp1", Env: "prod"})
	rec(AlertRecord{Fingerprint: "fp1", Service: "frontend", Namespace: "shop", Env: "prod"})

	for _, c := range []struct {
		name string
		f    UnfinishedFilter
		want []int64
	}{
		{"workload, own alert excepted", UnfinishedFilter{Env: "prod", Namespace: "shop", Service: "backend", Except: self}, []int64{dead}},
		{"workload, nothing excepted", UnfinishedFilter{Env: "prod", Namespace: "shop", Service: "backend"}, []int64{dead, self}},
		{"fingerprint of no workload", UnfinishedFilter{Env: "prod", Fingerprint: "fp1"}, []int64{byPrint}},
		{"another env", UnfinishedFilter{Env: "dev", Namespace: "shop", Service: "backend"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.ListUnfinished(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			if len(ids) != len(c.want) || (len(ids) > 0 && (ids[0] != c.want[0] || ids[len(ids)-1] != c.want[len(c.want)-1])) {
				t.Errorf("unfinished = %v, want %v", ids, c.want)
			}
		})
	}
	if _, err := s.ListUnfinished(ctx, UnfinishedFilter{Env: "prod"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no subject: %v, want ErrInvalid", err)
	}
}

func TestClaimUnfinishedHasExactlyOneWinner(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	id, err := s.RecordAlert(ctx, AlertRecord{Source: SourceAlertmanager, Service: "backend", Namespace: "shop", Env: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.ClaimUnfinished(ctx, id, "interrupted: resumed")
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d claims won, want exactly 1", wins.Load())
	}
	a, err := s.GetAlert(ctx, id)
	if err != nil || a.Outcome != OutcomeInterrupted || a.FinishedAt.IsZero() {
		t.Fatalf("claimed alert: %+v, %v; want interrupted with a finish time", a, err)
	}
	if err := s.FinishResumed(ctx, id, OutcomeResolved, "rules", "", ""); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.GetAlert(ctx, id); a.Outcome != OutcomeResolved {
		t.Errorf("after FinishResumed: outcome %q, want resolved", a.Outcome)
	}
	if err := s.FinishResumed(ctx, id, OutcomeUnresolved, "rules", "", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("finishing a resumed alert twice: %v, want ErrNotFound", err)
	}
	if ok, err := s.ClaimUnfinished(ctx, id, "again"); ok || err != nil {
		t.Errorf("claiming a finished alert: %v, %v; want false, nil", ok, err)
	}
}

// A run that outlived its deadline, and whose alert another run claimed and
// resumed, cannot overwrite that run's outcome when it finishes late.
func TestALateFinishLeavesTheResumersOutcome(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	id, err := s.RecordAlert(ctx, AlertRecord{Source: SourceAlertmanager, Service: "backend", Namespace: "shop", Env: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ClaimUnfinished(ctx, id, "interrupted: resumed by run 2"); !ok || err != nil {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	err = s.FinishAlert(ctx, id, OutcomeFailed, "rules", "", "run deadline")
	if !errors.Is(err, ErrTakenOver) {
		t.Fatalf("late finish of a claimed alert: %v, want ErrTakenOver", err)
	}
	if a, _ := s.GetAlert(ctx, id); a.Outcome != OutcomeInterrupted || a.Error != "interrupted: resumed by run 2" {
		t.Errorf("after the late finish: outcome %q error %q; want the claim kept", a.Outcome, a.Error)
	}
	if err := s.FinishResumed(ctx, id, OutcomeResolved, "rules", "INC-1", ""); err != nil {
		t.Fatalf("the resumer finishes: %v", err)
	}
	if err := s.FinishAlert(ctx, id, OutcomeFailed, "rules", "", "run deadline"); !errors.Is(err, ErrTakenOver) {
		t.Errorf("late finish after the resumer's: %v, want ErrTakenOver", err)
	}
	if a, _ := s.GetAlert(ctx, id); a.Outcome != OutcomeResolved || a.IncidentID != "INC-1" {
		t.Errorf("the resumer's outcome: %q %q, want resolved INC-1", a.Outcome, a.IncidentID)
	}
}
