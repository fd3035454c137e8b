package store

import (
	"context"
	"strings"
	"testing"
)

// TestListQueriesUseIndexes checks the query plans of the history listings:
// no full table scan and no sort of the whole result, which keeps them fast
// on large histories (see BenchmarkListAlerts100k).
func TestListQueriesUseIndexes(t *testing.T) {
	s := openSQLiteMem(t, newClock())
	ctx := context.Background()
	type plan struct {
		name   string
		query  string
		args   []any
		search bool // a filtered query must SEARCH an index, not SCAN and filter
	}
	var cases []plan
	filters := map[string]AlertFilter{
		"alerts all": {}, "alerts since": {Since: t0}, "alerts service": {Service: "b"},
		"alerts env": {Env: "e"}, "alerts service since": {Service: "b", Since: t0},
		"alerts env since": {Env: "e", Since: t0}, "alerts all filters": {Service: "b", Env: "e", Since: t0},
	}
	for name, f := range filters {
		q, args := listAlertsQuery(f)
		cases = append(cases, plan{name, q, args, f != AlertFilter{}})
	}
	for name, f := range map[string]ScaleFilter{
		"scale all": {}, "scale since": {Since: t0}, "scale service since": {Service: "b", Since: t0},
		"scale env": {Env: "e"},
	} {
		q, args := listScaleEventsQuery(f)
		cases = append(cases, plan{name, q, args, f != ScaleFilter{}})
	}
	for name, f := range map[string]IncidentFilter{
		"incidents": {}, "incidents open": {OpenOnly: true}, "incidents env": {Env: "e"},
		"incidents open env": {OpenOnly: true, Env: "e"},
	} {
		q, args := listIncidentsQuery(f)
		cases = append(cases, plan{name, q, args, f.Env != ""})
	}
	cases = append(cases,
		plan{"last acted", lastActedQuery, []any{"f", "e", "a", "b", "c"}, true},
		plan{"tool calls", listToolCallsQuery, []any{1}, true},
		plan{"tool calls without alert", listToolCallsQuery, []any{nil}, true},
		plan{"threshold changes", listThresholdChangesQuery, []any{50}, false},
		plan{"last conversation", lastConversationQuery, []any{"e"}, true},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan := queryPlan(t, s, ctx, c.query, c.args...)
			if strings.Contains(plan, "USE TEMP B-TREE") {
				t.Errorf("plan sorts in a temporary b-tree:\n%s", plan)
			}
			if strings.Contains(plan, "SCAN") && !strings.Contains(plan, "USING") {
				t.Errorf("plan scans a table without an index:\n%s", plan)
			}
			if c.search && !strings.HasPrefix(plan, "SEARCH") {
				t.Errorf("filtered query does not search an index:\n%s", plan)
			}
		})
	}
}

func queryPlan(t *testing.T, s *Store, ctx context.Context, q string, args ...any) string {
	t.Helper()
	rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
