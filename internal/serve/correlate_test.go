package serve

import (
	"context"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/tools"
)

func TestAlertsOfOneSubjectShareALane(t *testing.T) {
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.lead(t)
	e.deliverNoDrain(t, payload(t, "firing", cpuAlert("clickhouse", "fp-0"), cpuAlert("backend", "fp-b"), cpuAlert("clickhouse", "fp-1")))
	lanes := map[string][]string{}
	for j := popNow(t, e.s.q); j != nil; j = popNow(t, e.s.q) {
		lanes[j.lane] = append(lanes[j.lane], j.fp)
		e.s.q.done(j)
	}
	if got := lanes["ai-data-labs/clickhouse"]; len(got) != 2 || got[0] != "fp-0" || got[1] != "fp-1" {
		t.Fatalf("lanes %v: the two clickhouse alerts must run one after the other, in order", lanes)
	}
}

func TestSharedIncidentStaysOpenUntilItsLastAlertResolves(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.lead(t)
	inc, _, err := e.store.OpenIncident(ctx, store.Incident{Title: "ClickHouse pods crash looping", Status: store.StatusEscalated,
		Env: store.EnvSimulated, Subject: "ai-data-labs/clickhouse"})
	if err != nil {
		t.Fatal(err)
	}
	// Both runs name the incident: the first opened it, the second joined it.
	e.runner.result = agent.Summary{Resolution: agent.Escalated, Incident: inc.ID, Escalated: true}
	pod0, pod1 := cpuAlert("clickhouse", "fp-0"), cpuAlert("clickhouse", "fp-1")
	e.deliver(t, payload(t, "firing", pod0, pod1))

	e.deliver(t, payload(t, "resolved", resolvedOf(pod0)))
	got, timeline, err := e.store.GetIncident(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status == store.StatusResolved {
		t.Fatal("the incident was resolved while another of its alerts still fires")
	}
	if last := timeline[len(timeline)-1]; last.Kind != "resolved" || !strings.Contains(last.Text, "1 other alert(s) of this incident still firing") {
		t.Errorf("timeline ends %+v, want the first alert's resolution", last)
	}

	e.deliver(t, payload(t, "resolved", resolvedOf(pod1)))
	if got, _, _ := e.store.GetIncident(ctx, inc.ID); got.Status != store.StatusResolved {
		t.Fatalf("incident %s is %s after its last alert resolved, want resolved", inc.ID, got.Status)
	}
	if metricValue(e.s.m.incidentsClosed) != 1 {
		t.Error("incidents resolved not counted once")
	}
}
