package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// insertAlertsBulk writes alerts in one transaction (setup for benchmarks
// only: the product commits each record as it happens).
func (s *Store) insertAlertsBulk(ctx context.Context, alerts []AlertRecord) error {
	return s.writeTx(ctx, func(tx *txn) error {
		stmt, err := tx.tx.PrepareContext(ctx, `INSERT INTO alerts (received_at, source, fingerprint, service,
			namespace, kind, summary, env, outcome, planner, incident_id, error, finished_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, a := range alerts {
			if _, err := stmt.ExecContext(ctx, nanos(a.ReceivedAt), a.Source, a.Fingerprint, a.Service,
				a.Namespace, a.Kind, a.Summary, a.Env, a.Outcome, a.Planner, a.IncidentID, a.Error,
				nanos(a.FinishedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

// syntheticAlerts spreads n alerts evenly over the 90 days before t0, across
// the spec's five services and two environments.
func syntheticAlerts(n int) []AlertRecord {
	services := []string{"backend", "frontend", "clickhouse", "postgresql", "redis"}
	envs := []string{EnvSimulated, "prod"}
	outcomes := []string{OutcomeResolved, OutcomeNoAction, OutcomeUnresolved, OutcomeEscalated}
	step := 90 * 24 * time.Hour / time.Duration(n)
	out := make([]AlertRecord, n)
	for i := range out {
		svc := services[i%len(services)]
		at := t0.Add(-time.Duration(n-i) * step)
		out[i] = AlertRecord{
			ReceivedAt: at, Source: SourceAlertmanager, Fingerprint: fmt.Sprintf("fp-%s-%d", svc, i%97),
			Service: svc, Namespace: "ai-data-labs", Kind: "HighCPU", Env: envs[i%len(envs)],
			Summary: "Alert: " + svc + " service CPU at 85% for 5 minutes", Outcome: outcomes[i%len(outcomes)],
			Planner: "rules", FinishedAt: at.Add(90 * time.Second),
		}
	}
	return out
}

// benchStore opens a file store holding n synthetic alerts.
func benchStore(b *testing.B, n int) *Store {
	b.Helper()
	s := openFile(b, filepath.Join(b.TempDir(), "h.db"), newClock())
	if err := s.insertAlertsBulk(context.Background(), syntheticAlerts(n)); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkListAlerts100k(b *testing.B) {
	s := benchStore(b, 100_000)
	ctx := context.Background()
	cases := []struct {
		name string
		f    AlertFilter
		want int
	}{
		{"since24h_limit50", AlertFilter{Since: t0.Add(-24 * time.Hour), Limit: 50}, 50},
		{"service", AlertFilter{Service: "clickhouse"}, defaultLimit},
		{"service_since7d_env", AlertFilter{Service: "backend", Since: t0.Add(-7 * 24 * time.Hour), Env: "prod", Limit: 1000}, 0},
		{"all_limit10000", AlertFilter{Limit: maxLimit}, maxLimit},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				got, err := s.ListAlerts(ctx, c.f)
				if err != nil {
					b.Fatal(err)
				}
				if c.want > 0 && len(got) != c.want {
					b.Fatalf("got %d alerts, want %d", len(got), c.want)
				}
			}
		})
	}
}

func BenchmarkLastActedAlert100k(b *testing.B) {
	s := benchStore(b, 100_000)
	ctx := context.Background()
	for b.Loop() {
		if _, ok, err := s.LastActedAlert(ctx, "fp-backend-3", "prod"); err != nil || !ok {
			b.Fatalf("LastActedAlert: %v, %v", ok, err)
		}
	}
}

func BenchmarkRecordToolCall(b *testing.B) {
	ctx := context.Background()
	for _, mode := range []string{"file", "memory"} {
		b.Run(mode, func(b *testing.B) {
			var s *Store
			if mode == "file" {
				s = openFile(b, filepath.Join(b.TempDir(), "h.db"), newClock())
			} else {
				s = openMem(b, newClock())
			}
			alertID, err := s.RecordAlert(ctx, AlertRecord{Source: SourceText})
			if err != nil {
				b.Fatal(err)
			}
			call := ToolCallRecord{AlertID: alertID, Tool: "scaleDeployment", Target: "ai-data-labs/backend",
				Args: `{"namespace":"ai-data-labs","name":"backend","replicas":4}`, Verdict: VerdictExecuted,
				Rule: "scale_up.cpu", Reason: "cpu 85% > 80% for 5m", Result: "3 -> 4", Write: true, Env: EnvSimulated}
			for b.Loop() {
				if _, err := s.RecordToolCall(ctx, call); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpenListAlerts100k measures what `ops-skill --alert-history` does
// in a fresh process: open an existing 100,000-alert history, list, close.
func BenchmarkOpenListAlerts100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "h.db")
	ctx := context.Background()
	seed, err := Open(ctx, path, newClock())
	if err != nil {
		b.Fatal(err)
	}
	if err := seed.insertAlertsBulk(ctx, syntheticAlerts(100_000)); err != nil {
		b.Fatal(err)
	}
	if err := seed.Close(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := Open(ctx, path, newClock())
		if err != nil {
			b.Fatal(err)
		}
		got, err := s.ListAlerts(ctx, AlertFilter{Since: t0.Add(-24 * time.Hour), Service: "backend"})
		if err != nil || len(got) != defaultLimit {
			b.Fatalf("ListAlerts: %d alerts, %v", len(got), err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
