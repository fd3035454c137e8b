package agent_test

import (
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/platform"
)

// An alert about a pod acts on the pod's controller, as the platform's owner
// records say — not on the exporter that scraped it.
func TestTheRunActsOnTheResolvedSubject(t *testing.T) {
	crashLooping := func(p alert.Parser) alert.Alert {
		a, err := p.ParseText("Pod ai-data-labs/clickhouse-0 (clickhouse) is in waiting state (reason: CrashLoopBackOff)", fixedStart)
		if err != nil {
			t.Fatal(err)
		}
		// As kube-state-metrics labels it: the series' job and service are
		// the exporter's; the pod is the subject.
		a.Service, a.Kind = "kube-state-metrics", alert.KindCrashLoop
		a.Classification = &alert.Classification{Alertname: "KubePodCrashLooping", Family: alert.FamilyApps, Kind: alert.KindCrashLoop,
			Subject: alert.SubjectRef{Kind: alert.SubjectPod, Namespace: namespace, Name: "clickhouse-0"}, Action: alert.ActionPlaybook, Known: true}
		return a
	}
	h := newHarness(t, setup{scenario: "clickhouse-oom", parse: crashLooping})
	sum := h.run()
	res := of[agent.SubjectResolved](h.events)
	if len(res) != 1 || res[0].Resolution.Workload != (platform.WorkloadRef{Namespace: namespace, Name: "clickhouse"}) ||
		!strings.Contains(res[0].Resolution.Chain(), "pod/"+namespace+"/clickhouse-0 → statefulset/"+namespace+"/clickhouse") {
		t.Fatalf("resolution %+v, want pod clickhouse-0 → statefulset clickhouse", res)
	}
	if sum.Target != namespace+"/clickhouse" {
		t.Errorf("target %q, want the pod's StatefulSet", sum.Target)
	}
	for _, a := range sum.Actions {
		if !strings.HasSuffix(a.Target, "/clickhouse") {
			t.Errorf("action %s on %s, want only the pod's StatefulSet", a.Tool, a.Target)
		}
	}
	if len(sum.Actions) == 0 {
		t.Errorf("no action: the crash-loop playbook should raise clickhouse's memory (%s)", sum.Headline)
	}
}

// An object the platform does not have is said, and nothing is done to the
// scrape target instead.
func TestAnUnresolvableSubjectActsOnNothing(t *testing.T) {
	gone := func(p alert.Parser) alert.Alert {
		a, err := p.ParseText("Pod ai-data-labs/clickhouse-9 is crash looping", fixedStart)
		if err != nil {
			t.Fatal(err)
		}
		a.Service, a.Kind = "", alert.KindCrashLoop
		a.Classification = &alert.Classification{Alertname: "KubePodCrashLooping", Family: alert.FamilyApps, Kind: alert.KindCrashLoop,
			Subject: alert.SubjectRef{Kind: alert.SubjectPod, Namespace: namespace, Name: "clickhouse-9"}, Action: alert.ActionPlaybook, Known: true}
		return a
	}
	h := newHarness(t, setup{scenario: "clickhouse-oom", parse: gone})
	sum := h.run()
	res := of[agent.SubjectResolved](h.events)
	if len(res) != 1 || !strings.Contains(res[0].Error, "not found") {
		t.Errorf("resolution %+v, want a not-found error", res)
	}
	if len(sum.Actions) != 0 {
		t.Errorf("actions %+v, want none", sum.Actions)
	}
}
