//go:build integration

package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// schemaOf lists the tables with their columns and the named indexes of s.
func schemaOf(t *testing.T, s *Store) []string {
	t.Helper()
	q := map[string]string{
		"sqlite": `SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' UNION ALL SELECT 'index ' || name FROM sqlite_master
			WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%' ORDER BY 1`,
		"postgres": `SELECT table_name || '.' || column_name FROM information_schema.columns
			WHERE table_schema = current_schema() UNION ALL SELECT 'index ' || indexname FROM pg_indexes
			WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey' ORDER BY 1`,
	}[s.Engine()]
	rows, err := s.db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func TestBothEnginesReachTheSameSchema(t *testing.T) {
	ctx := context.Background()
	lite, pg := openSQLiteMem(t, newClock()), openMem(t, newClock())
	if pg.Engine() != "postgres" || lite.Engine() != "sqlite" {
		t.Fatalf("engines %s and %s", lite.Engine(), pg.Engine())
	}
	for _, s := range []*Store{lite, pg} {
		if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations()) {
			t.Errorf("%s schema version = %d, %v; want %d", s.Engine(), v, err, len(migrations()))
		}
	}
	if a, b := schemaOf(t, lite), schemaOf(t, pg); !reflect.DeepEqual(a, b) {
		t.Errorf("schemas differ:\nsqlite   %v\npostgres %v", a, b)
	}
}

// history writes the same records to s and reads back every listing.
func history(t *testing.T, s *Store) map[string]any {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", s.Engine(), err)
		}
	}
	alert, err := s.RecordAlert(ctx, AlertRecord{Source: SourceAlertmanager, Fingerprint: "fp", Service: "backend",
		Namespace: "shop", Kind: "cpu", Summary: "CPU at 85%", Env: "prod"})
	must(err)
	call, err := s.RecordToolCall(ctx, ToolCallRecord{AlertID: alert, Tool: "scaleDeployment", Target: "shop/backend",
		Args: `{"replicas":4}`, Verdict: VerdictExecuted, Write: true, Env: "prod"})
	must(err)
	_, err = s.RecordToolCall(ctx, ToolCallRecord{Tool: "queryMetrics", Verdict: VerdictAllow, At: t0.Add(time.Second)})
	must(err)
	_, err = s.RecordScaleEvent(ctx, ScaleEvent{Namespace: "shop", Name: "backend", From: 3, To: 4, AlertID: alert, Env: "prod"})
	must(err)
	_, err = s.RecordDecision(ctx, DecisionRecord{ToolCallID: call, AlertID: alert, Kind: DecisionScale, Target: "shop/backend",
		Verdict: VerdictAllow, From: 3, To: 4, Requested: 4, Basis: "{}", Env: "prod"})
	must(err)
	inc, joined, err := s.OpenIncident(ctx, Incident{Title: "backend CPU", Service: "backend", AlertID: alert, Env: "prod", Subject: "shop/backend"})
	must(err)
	_, joined2, err := s.OpenIncident(ctx, Incident{Title: "again", Env: "prod", Subject: "shop/backend"})
	must(err)
	must(s.AppendTimeline(ctx, inc.ID, TimelineEntry{Kind: "action", Text: "scaled 3 -> 4"}))
	must(s.SetIncidentStatus(ctx, inc.ID, StatusMitigated))
	must(s.FinishAlert(ctx, alert, OutcomeResolved, "rules", inc.ID, ""))
	must(s.UpdateState(ctx, "prod", "shop/backend", func([]byte) ([]byte, error) { return []byte{0, 1, 2}, nil }))
	claimed, err := s.ClaimState(ctx, "prod", "shop/backend", func(old []byte) ([]byte, bool) { return nil, old == nil })
	must(err)
	must(s.RecordThresholdChange(ctx, ThresholdChange{Key: "scale_up.cpu", Old: "80", New: "85", Who: "op"}))
	conv, err := s.SaveConversation(ctx, ConversationRecord{Env: "prod", Turns: 1, Transcript: []byte(`{"v":1}`)})
	must(err)

	out := map[string]any{"joined": []bool{joined, joined2, claimed}, "conversation id": conv}
	read := func(name string, v any, err error) {
		t.Helper()
		must(err)
		out[name] = v
	}
	alerts, err := s.ListAlerts(ctx, AlertFilter{Env: "prod"})
	read("alerts", alerts, err)
	last, found, err := s.LastActedAlert(ctx, "fp", "prod")
	read("last acted", fmt.Sprint(last, found), err)
	calls, err := s.ListToolCalls(ctx, alert)
	read("calls", calls, err)
	loose, err := s.ListToolCalls(ctx, 0)
	read("calls of no alert", loose, err)
	recent, err := s.ListRecentToolCalls(ctx, CallFilter{WritesOnly: true})
	read("recent writes", recent, err)
	scales, err := s.ListScaleEvents(ctx, ScaleFilter{Service: "backend"})
	read("scales", scales, err)
	decisions, err := s.ListDecisions(ctx, DecisionFilter{Service: "backend"})
	read("decisions", decisions, err)
	got, timeline, err := s.GetIncident(ctx, inc.ID)
	read("incident", fmt.Sprint(got, timeline), err)
	open, err := s.ListIncidents(ctx, true, 0)
	read("open incidents", open, err)
	ofCluster, err := s.QueryIncidents(ctx, IncidentFilter{Env: "prod", OpenOnly: true})
	read("open incidents of a cluster", ofCluster, err)
	clusters, err := s.Clusters(ctx)
	read("clusters", clusters, err)
	ids, err := s.AlertIDsOfIncident(ctx, inc.ID)
	read("alerts of incident", ids, err)
	state, err := s.LoadState(ctx, "prod", "shop/backend")
	read("state", state, err)
	changes, err := s.ListThresholdChanges(ctx, 0)
	read("thresholds", changes, err)
	c, err := s.LastConversation(ctx, "prod")
	read("conversation", c, err)
	writes, err := s.WritesInPeriod(ctx, PeriodFilter{Service: "backend"})
	read("writes in period", writes, err)
	return out
}

func TestBothEnginesReturnTheSameResults(t *testing.T) {
	lite, pg := history(t, openSQLiteMem(t, newClock())), history(t, openMem(t, newClock()))
	for name, want := range lite {
		if got := pg[name]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\npostgres %+v\nsqlite   %+v", name, got, want)
		}
	}
}

func TestOpenRefusesASearchPathWithNoSchema(t *testing.T) {
	url := strings.Replace(newLocation(t, ""), "search_path=t_", "search_path=missing_", 1)
	_, err := Open(context.Background(), url, newClock())
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Open with a missing schema: %v, want ErrInvalid", err)
	}
}
