package store

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// fleet writes an alert, a scale event and an incident per cluster (and the
// simulated platform) to one store, as the replicas of several clusters do.
func fleet(t *testing.T, s *Store, clk interface{ SetTime(time.Time) }) {
	t.Helper()
	ctx := context.Background()
	for i, env := range []string{"prod-eu", "prod-us", EnvSimulated, "prod-eu"} {
		clk.SetTime(t0.Add(time.Duration(i) * time.Minute))
		alert, err := s.RecordAlert(ctx, AlertRecord{Source: SourceAlertmanager, Service: "backend", Env: env})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordScaleEvent(ctx, ScaleEvent{Namespace: "shop", Name: "backend", From: 3, To: 4, AlertID: alert, Env: env}); err != nil {
			t.Fatal(err)
		}
		inc, err := s.CreateIncident(ctx, Incident{Title: "backend CPU", AlertID: alert, Env: env})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := s.SetIncidentStatus(ctx, inc.ID, StatusResolved); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestListingsFilterByCluster(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openMem(t, clk)
	fleet(t, s, clk)
	cases := []struct {
		name    string
		env     string
		open    bool
		want    []string // the envs listed, newest first
		wantInc []string
	}{
		{"every cluster", "", false, []string{"prod-eu", EnvSimulated, "prod-us", "prod-eu"},
			[]string{"prod-eu", EnvSimulated, "prod-us", "prod-eu"}},
		{"one cluster", "prod-eu", false, []string{"prod-eu", "prod-eu"}, []string{"prod-eu", "prod-eu"}},
		{"one cluster, open incidents", "prod-eu", true, []string{"prod-eu", "prod-eu"}, []string{"prod-eu"}},
		{"the simulated platform", EnvSimulated, false, []string{EnvSimulated}, []string{EnvSimulated}},
		{"a cluster with no records", "staging", false, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			alerts, err := s.ListAlerts(ctx, AlertFilter{Env: c.env})
			if err != nil {
				t.Fatal(err)
			}
			scales, err := s.ListScaleEvents(ctx, ScaleFilter{Env: c.env})
			if err != nil {
				t.Fatal(err)
			}
			incs, err := s.QueryIncidents(ctx, IncidentFilter{Env: c.env, OpenOnly: c.open})
			if err != nil {
				t.Fatal(err)
			}
			var a, sc, in []string
			for _, r := range alerts {
				a = append(a, r.Env)
			}
			for _, r := range scales {
				sc = append(sc, r.Env)
			}
			for _, r := range incs {
				in = append(in, r.Env)
			}
			if !reflect.DeepEqual(a, c.want) || !reflect.DeepEqual(sc, c.want) || !reflect.DeepEqual(in, c.wantInc) {
				t.Errorf("%s: alerts %v, scale events %v, incidents %v; want %v, %v, %v",
					s.Engine(), a, sc, in, c.want, c.want, c.wantInc)
			}
		})
	}
}

func TestClustersListsEveryClusterWithRecords(t *testing.T) {
	clk := newClock()
	s := openMem(t, clk)
	ctx := context.Background()
	if got, err := s.Clusters(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Clusters of an empty store = %v, %v; want none", got, err)
	}
	fleet(t, s, clk)
	if _, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText}); err != nil { // no env: not a cluster
		t.Fatal(err)
	}
	if _, err := s.RecordScaleEvent(ctx, ScaleEvent{Namespace: "a", Name: "b", Env: "scale-only"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Clusters(ctx)
	want := []string{"prod-eu", "prod-us", "scale-only", EnvSimulated}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Clusters = %v, %v; want %v", got, err, want)
	}
}
