package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	testclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/store"
)

var fleetStart = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// fleetFactory is a Factory on one store (a SQLite file; with the
// integration tag, a PostgreSQL schema of the test stack: fleetLocation)
// holding the records of two clusters, as one shared store of a fleet does: an alert, a scale event and
// an incident of prod-eu, then of prod-us, a minute apart.
func fleetFactory(t *testing.T) (*Factory, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	ctx := context.Background()
	path := fleetLocation(t, filepath.Join(t.TempDir(), "history.db"))
	clk := testclock.NewFakePassiveClock(fleetStart)
	st, err := store.Open(ctx, path, clk)
	if err != nil {
		t.Fatal(err)
	}
	for i, env := range []string{"prod-eu", "prod-us"} {
		clk.SetTime(fleetStart.Add(time.Duration(i) * time.Minute))
		id, err := st.RecordAlert(ctx, store.AlertRecord{Source: store.SourceAlertmanager, Service: "backend",
			Kind: "cpu", Summary: "CPU at 85% on " + env, Env: env, Outcome: store.OutcomeResolved})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.RecordScaleEvent(ctx, store.ScaleEvent{Namespace: "shop", Name: "backend", From: 3, To: 4,
			Rule: "scale_up.cpu", AlertID: id, Env: env}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateIncident(ctx, store.Incident{Title: "backend CPU on " + env, Service: "backend", AlertID: id, Env: env}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	f := &Factory{
		IO:         Test(strings.NewReader(""), out, errOut),
		LoadConfig: func(string, *pflag.FlagSet) (config.Config, error) { return config.Config{}, nil },
		OpenStore: func(ctx context.Context, _ config.Config) (*store.Store, error) {
			return store.Open(ctx, path, clk)
		},
		Now: func() time.Time { return fleetStart.Add(time.Hour) },
	}
	return f, out, errOut
}

// envsOf reads the "env" of each record of a JSON listing.
func envsOf(t *testing.T, out []byte) []string {
	t.Helper()
	var recs []map[string]any
	if err := json.Unmarshal(out, &recs); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	envs := []string{}
	for _, r := range recs {
		env, ok := r["env"].(string)
		if !ok {
			t.Fatalf("record without env: %v", r)
		}
		envs = append(envs, env)
	}
	return envs
}

func TestHistoryListingsFilterByCluster(t *testing.T) {
	listings := map[string][]string{
		"alert history": {"--alert-history"},
		"scale history": {"--scale-history"},
		"incidents":     {"incidents"},
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"every cluster by default", nil, []string{"prod-us", "prod-eu"}},
		{"one cluster", []string{"--cluster", "prod-eu"}, []string{"prod-eu"}},
		{"the other", []string{"--cluster=prod-us"}, []string{"prod-us"}},
		{"a cluster with no records", []string{"--cluster", "staging"}, []string{}},
	}
	for lname, base := range listings {
		for _, c := range cases {
			t.Run(lname+"/"+c.name, func(t *testing.T) {
				f, out, _ := fleetFactory(t)
				args := append(append(append([]string{}, base...), c.args...), "-o", "json")
				if err := runRoot(f, args...); err != nil {
					t.Fatal(err)
				}
				if got := envsOf(t, out.Bytes()); !reflect.DeepEqual(got, c.want) {
					t.Errorf("%v: envs %v, want %v", args, got, c.want)
				}
			})
		}
	}
}

func TestHistoryTablesNameEachRowsCluster(t *testing.T) {
	cases := []struct {
		args []string
		want []string // in the text listing, in order
	}{
		{[]string{"--alert-history"}, []string{"\tprod-us\tCPU at 85% on prod-us", "\tprod-eu\tCPU at 85% on prod-eu"}},
		{[]string{"--scale-history"}, []string{"\tprod-us\t", "\tprod-eu\t"}},
		{[]string{"incidents"}, []string{"\tcontext prod-us\t", "\tcontext prod-eu\t"}},
		{[]string{"incidents", "--cluster", "prod-eu"}, []string{"\tcontext prod-eu\t"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			f, out, _ := fleetFactory(t)
			if err := runRoot(f, c.args...); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")[1:]
			if len(lines) != len(c.want) {
				t.Fatalf("%d rows, want %d:\n%s", len(lines), len(c.want), out)
			}
			for i, w := range c.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("row %d %q lacks %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestClusterOfNoRecordsNamesTheStoresClusters(t *testing.T) {
	f, _, errOut := fleetFactory(t)
	if err := runRoot(f, "--alert-history", "--cluster", "staging"); err != nil {
		t.Fatal(err)
	}
	if want := "no records of cluster staging; the store has records of: prod-eu, prod-us"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr %q lacks %q", errOut, want)
	}
}

func TestClusterIsRefusedWhereItFiltersNothing(t *testing.T) {
	for _, args := range [][]string{
		{"--cluster", "prod-eu", "Alert: Backend CPU at 85%"},
		{"--cluster", "prod-eu", "--threshold-history"},
		{"--alert-history", "--cluster", ""},
		{"incidents", "--cluster", " "},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			f, _, _ := fleetFactory(t)
			err := runRoot(f, args...)
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Code != ExitUsage {
				t.Errorf("%v: %v, want a usage error", args, err)
			}
		})
	}
}
