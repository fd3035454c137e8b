package store

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// openConcurrently calls OpenIncident from one goroutine per request, on
// two Stores sharing one file (as two processes would), all released at
// once, and returns what each call got.
func openConcurrently(t *testing.T, reqs []Incident) ([]Incident, []bool) {
	t.Helper()
	ctx := context.Background()
	path := newLocation(t, filepath.Join(t.TempDir(), "h.db"))
	clk := newClock()
	stores := []*Store{openFile(t, path, clk), openFile(t, path, clk)}
	got, joined, errs := make([]Incident, len(reqs)), make([]bool, len(reqs)), make([]error, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, in := range reqs {
		wg.Go(func() {
			<-start
			got[i], joined[i], errs[i] = stores[i%len(stores)].OpenIncident(ctx, in)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("OpenIncident %d: %v", i, err)
		}
	}
	all, err := stores[0].ListIncidents(ctx, false, maxLimit)
	if err != nil {
		t.Fatal(err)
	}
	if ids := distinctIDs(got); len(all) != len(ids) {
		t.Fatalf("stored incidents = %d, calls got %d distinct IDs", len(all), len(ids))
	}
	return got, joined
}

func distinctIDs(incs []Incident) map[string]int {
	ids := map[string]int{}
	for _, in := range incs {
		ids[in.ID]++
	}
	return ids
}

func TestConcurrentOpenIncidentForOneSubjectOpensOne(t *testing.T) {
	reqs := make([]Incident, 20)
	for i := range reqs {
		reqs[i] = Incident{Title: fmt.Sprint("run ", i), Service: "clickhouse", Env: "prod", Subject: "shop/clickhouse"}
	}
	got, joined := openConcurrently(t, reqs)
	ids := distinctIDs(got)
	if len(ids) != 1 {
		t.Fatalf("20 concurrent opens for one subject gave %d incidents: %v", len(ids), ids)
	}
	opened := 0
	for i := range got {
		if !joined[i] {
			opened++
		}
	}
	if opened != 1 {
		t.Errorf("%d calls opened the incident, want 1 (the other 19 join it)", opened)
	}
}

func TestConcurrentOpenIncidentForDifferentSubjectsOpensOneEach(t *testing.T) {
	subjects := []string{"shop/clickhouse", "shop/backend", "shop/frontend", "shop/redis"}
	reqs := make([]Incident, 20)
	for i := range reqs {
		reqs[i] = Incident{Title: "t", Env: "prod", Subject: subjects[i%len(subjects)]}
	}
	got, _ := openConcurrently(t, reqs)
	bySubject := map[string]map[string]bool{}
	for i, in := range got {
		if in.Subject != reqs[i].Subject {
			t.Fatalf("call for %s got the incident of %s", reqs[i].Subject, in.Subject)
		}
		if bySubject[in.Subject] == nil {
			bySubject[in.Subject] = map[string]bool{}
		}
		bySubject[in.Subject][in.ID] = true
	}
	if len(bySubject) != len(subjects) || len(distinctIDs(got)) != len(subjects) {
		t.Fatalf("incidents by subject %v, want one distinct incident for each of %d subjects", bySubject, len(subjects))
	}
	for s, ids := range bySubject {
		if len(ids) != 1 {
			t.Errorf("subject %s has %d incidents", s, len(ids))
		}
	}
}

func TestOpenIncidentJoinsOnlyTheOpenIncidentOfTheSameSubject(t *testing.T) {
	first := Incident{Title: "first", Env: "prod", Subject: "shop/backend"}
	tests := []struct {
		name   string
		status IncidentStatus // the first incident's status when the second asks
		second Incident
		joined bool
	}{
		{"same subject, open: joined", StatusOpen, Incident{Title: "second", Env: "prod", Subject: "shop/backend"}, true},
		{"same subject, escalated: joined", StatusEscalated, Incident{Title: "second", Env: "prod", Subject: "shop/backend"}, true},
		{"same subject, mitigated: joined", StatusMitigated, Incident{Title: "second", Env: "prod", Subject: "shop/backend"}, true},
		{"same subject, resolved: a new one", StatusResolved, Incident{Title: "second", Env: "prod", Subject: "shop/backend"}, false},
		{"another subject: a new one", StatusOpen, Incident{Title: "second", Env: "prod", Subject: "shop/frontend"}, false},
		{"another environment: a new one", StatusOpen, Incident{Title: "second", Env: "staging", Subject: "shop/backend"}, false},
		{"another scope: a new one", StatusOpen, Incident{Title: "second", Env: "prod", Subject: "shop/backend", Scope: "sim-1"}, false},
		{"no subject: a new one", StatusOpen, Incident{Title: "second", Env: "prod"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openMem(t, newClock())
			a, joined, err := s.OpenIncident(ctx, first)
			if err != nil || joined {
				t.Fatalf("first OpenIncident: %+v joined=%v, %v", a, joined, err)
			}
			if err := s.SetIncidentStatus(ctx, a.ID, tt.status); err != nil {
				t.Fatal(err)
			}
			b, joined, err := s.OpenIncident(ctx, tt.second)
			if err != nil {
				t.Fatal(err)
			}
			if joined != tt.joined || (b.ID == a.ID) != tt.joined {
				t.Fatalf("second got %s joined=%v, first was %s; want joined=%v", b.ID, joined, a.ID, tt.joined)
			}
			if joined && (b.Title != "first" || b.Status != tt.status) {
				t.Errorf("joined incident %+v, want the first one unchanged", b)
			}
		})
	}
}

func TestOneOpenIncidentPerSubjectIsEnforcedByTheSchema(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	in := Incident{Title: "t", Env: "prod", Subject: "shop/backend"}
	a, err := s.CreateIncident(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateIncident(ctx, in); err == nil {
		t.Fatal("a second open incident for the subject was created")
	}
	if err := s.SetIncidentStatus(ctx, a.ID, StatusResolved); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateIncident(ctx, in); err != nil {
		t.Fatalf("once the first is resolved a new incident opens: %v", err)
	}
	got, _, err := s.GetIncident(ctx, a.ID)
	if err != nil || got.Subject != "shop/backend" {
		t.Fatalf("GetIncident = %+v, %v; want the subject kept", got, err)
	}
}

func TestConcurrentClaimStateHasOneWinner(t *testing.T) {
	ctx := context.Background()
	path := newLocation(t, filepath.Join(t.TempDir(), "h.db"))
	clk := newClock()
	stores := []*Store{openFile(t, path, clk), openFile(t, path, clk)}
	const n = 20
	won := make([]bool, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			won[i], errs[i] = stores[i%2].ClaimState(ctx, "prod", "notify/shop/backend", func(old []byte) ([]byte, bool) {
				return fmt.Appendf(nil, "run %d", i), old == nil // free: take it
			})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("ClaimState %d: %v", i, errs[i])
		}
		if won[i] {
			if winner >= 0 {
				t.Fatalf("runs %d and %d both claimed", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("nobody claimed the free state")
	}
	v, err := stores[0].LoadState(ctx, "prod", "notify/shop/backend")
	if err != nil || !bytes.Equal(v, fmt.Appendf(nil, "run %d", winner)) {
		t.Fatalf("state = %q, %v; want the winner's", v, err)
	}
}

func TestClaimStateStoresOnlyWhatItClaims(t *testing.T) {
	ctx := context.Background()
	s := openMem(t, newClock())
	steps := []struct {
		name  string
		claim func(old []byte) ([]byte, bool)
		won   bool
		after []byte // nil: absent
	}{
		{"a free state is claimed", func(old []byte) ([]byte, bool) { return []byte("a"), old == nil }, true, []byte("a")},
		{"a taken state is left alone", func(old []byte) ([]byte, bool) { return []byte("b"), old == nil }, false, []byte("a")},
		{"a compare-and-set on the value", func(old []byte) ([]byte, bool) { return []byte("c"), bytes.Equal(old, []byte("a")) }, true, []byte("c")},
		{"a claimed nil deletes", func(old []byte) ([]byte, bool) { return nil, true }, true, nil},
	}
	for _, st := range steps {
		won, err := s.ClaimState(ctx, "prod", "k", st.claim)
		if err != nil || won != st.won {
			t.Fatalf("%s: won %v, %v; want %v", st.name, won, err, st.won)
		}
		v, err := s.LoadState(ctx, "prod", "k")
		if err != nil || !bytes.Equal(v, st.after) || (v == nil) != (st.after == nil) {
			t.Fatalf("%s: state %q, %v; want %q", st.name, v, err, st.after)
		}
	}
}
