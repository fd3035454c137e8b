package agent_test

import (
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
)

// classified is an alert of text as the parser reads it, with the service
// and kind a first-of-labels reading would give, and the classification of
// its rule: what the agent resolves.
func classified(t *testing.T, text, service string, kind alert.Kind, c alert.Classification) func(alert.Parser) alert.Alert {
	return func(p alert.Parser) alert.Alert {
		a, err := p.ParseText(text, fixedStart)
		if err != nil {
			t.Fatal(err)
		}
		a.Service, a.Kind, a.Classification = service, kind, c
		return a
	}
}

// An alert about a pod acts on the pod's controller, as the platform's owner
// records say — not on the exporter that scraped it.
func TestTheRunActsOnTheResolvedSubject(t *testing.T) {
	// As kube-state-metrics labels it: the series' job and service are
	// the exporter's; the pod is the subject.
	crashLooping := classified(t, "Pod ai-data-labs/clickhouse-0 (clickhouse) is in waiting state (reason: CrashLoopBackOff)", "kube-state-metrics", alert.KindCrashLoop, alert.Classification{Alertname: "KubePodCrashLooping", Family: alert.FamilyApps, Kind: alert.KindCrashLoop,
		Subject: alert.SubjectRef{Kind: alert.SubjectPod, Namespace: namespace, Name: "clickhouse-0"}, Action: alert.ActionPlaybook, Known: true})
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
	gone := classified(t, "Pod ai-data-labs/clickhouse-9 is crash looping", "", alert.KindCrashLoop, alert.Classification{Alertname: "KubePodCrashLooping", Family: alert.FamilyApps, Kind: alert.KindCrashLoop,
		Subject: alert.SubjectRef{Kind: alert.SubjectPod, Namespace: namespace, Name: "clickhouse-9"}, Action: alert.ActionPlaybook, Known: true})
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

// A disk alert about another workload's volume never reads or drops
// ClickHouse's partitions: it is diagnosed and escalated.
func TestADiskAlertOnAnotherVolumeLeavesClickHouseAlone(t *testing.T) {
	redisDisk := classified(t, "PersistentVolume data-redis-0 in ai-data-labs is 91% full", "", alert.KindDisk, alert.Classification{Alertname: "KubePersistentVolumeFillingUp", Family: alert.FamilyStorage, Kind: alert.KindDisk,
		Subject: alert.SubjectRef{Kind: alert.SubjectPVC, Namespace: namespace, Name: "data-redis-0"}, Action: alert.ActionPlaybook, Known: true})
	// The claim is as full as the alert says, on a class that does not
	// allow expansion: nothing may be done to it either.
	sc := loadScenario(t, "disk-space")
	no := false
	for i := range sc.Services {
		if sc.Services[i].Name == "redis" {
			sc.Services[i].Volume = &sim.VolumeSpec{Size: 10 << 30, Used: &sim.Signal[sim.Bytes]{Value: 91 << 30 / 10}, AllowExpansion: &no}
		}
	}
	h := newHarness(t, setup{platform: sim.New(sc, fixedStart), parse: redisDisk})
	sum := h.run()
	for _, c := range of[agent.ToolCalled](h.events) {
		if c.Tool == "checkStorage" || c.Tool == "dropPartitions" {
			t.Errorf("%s called for redis's volume", c.Tool)
		}
	}
	if len(partitions(t, h.p)) != len(h.parts) || len(sum.Actions) != 0 {
		t.Errorf("actions %+v; want none and every partition kept", sum.Actions)
	}
	if sum.Target != namespace+"/redis" || !strings.Contains(sum.Explanation, "not ClickHouse's") || sum.Resolution != agent.Escalated {
		t.Errorf("target %q, resolution %s, explanation %q; want redis, escalated, not ClickHouse's", sum.Target, sum.Resolution, sum.Explanation)
	}
}

// Watchdog fires by design: no run, no incident, no page.
func TestWatchdogIsANoOp(t *testing.T) {
	watchdog := classified(t, "This is an alert meant to ensure that the entire alerting pipeline is functional.", "", alert.KindUnknown, alert.Classification{Alertname: "Watchdog", Family: alert.FamilyGeneral, Kind: alert.KindUnknown, Action: alert.ActionNoOp, Known: true})
	h := newHarness(t, setup{scenario: "high-cpu", parse: watchdog, notify: true})
	sum := h.run()
	if sum.Resolution != agent.NoAction || sum.Incident != "" || len(of[agent.ToolCalled](h.events)) != 0 || len(h.p.Notifications()) != 0 {
		t.Errorf("resolution %s, incident %q, %d calls, %d notifications; want no_action and nothing else", sum.Resolution, sum.Incident,
			len(of[agent.ToolCalled](h.events)), len(h.p.Notifications()))
	}
}

// A node alert is diagnosed with the node's pods and escalated; nothing is written.
func TestANodeAlertEscalatesWithTheNodesPods(t *testing.T) {
	node := classified(t, "Filesystem on node-2 is predicted to run out of space within the next 24 hours", "", alert.KindDisk, alert.Classification{Alertname: "NodeFilesystemSpaceFillingUp", Family: alert.FamilyNode, Kind: alert.KindDisk,
		Subject: alert.SubjectRef{Kind: alert.SubjectNode, Name: "node-2"}, Action: alert.ActionDiagnose, Known: true,
		Runbook: "https://runbooks.prometheus-operator.dev/runbooks/node/nodefilesystemspacefillingup"})
	h := newHarness(t, setup{scenario: "disk-space", parse: node})
	sum := h.run()
	if len(sum.Actions) != 0 || sum.Resolution != agent.Escalated || sum.Incident == "" {
		t.Errorf("actions %+v, resolution %s, incident %q; want no action, escalated with an incident", sum.Actions, sum.Resolution, sum.Incident)
	}
	if !strings.Contains(sum.Explanation, "node/node-2") || !strings.Contains(sum.Explanation, "pods") || !strings.Contains(sum.Explanation, "runbook") {
		t.Errorf("explanation %q; want the node, its pods and the runbook", sum.Explanation)
	}
}
