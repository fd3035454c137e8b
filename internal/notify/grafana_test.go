package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

const grafanaToken = "glsa_T0KENsecret_0123456789abcdef"

func newTestAnnotator(t *testing.T, rc *receiver, fc *testingclock.FakeClock, dash func(string) string) *Annotator {
	t.Helper()
	g, err := NewGrafana(rc.URL, grafanaToken, GrafanaOptions{SenderOptions: SenderOptions{Clock: fc}, DashboardUID: dash})
	if err != nil {
		t.Fatal(err)
	}
	a := NewAnnotator(g, DispatcherOptions{Clock: fc})
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

func TestGrafanaAnnotatesEachExecutedWrite(t *testing.T) {
	rc := newReceiver(t, always(200, `{"message":"Annotation added","id":1}`))
	fc := testingclock.NewFakeClock(t0)
	a := newTestAnnotator(t, rc, fc, func(s string) string { return map[string]string{"clickhouse": "ch-overview"}[s] })
	var err error
	run(t, fc, func() { err = a.Notify(context.Background(), oomIncident()) }, a.d)
	if err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d annotations, want 2 (memory raise, scale)", len(reqs))
	}
	for _, r := range reqs {
		if r.Path != "/api/annotations" || r.Header.Get("Authorization") != "Bearer "+grafanaToken {
			t.Errorf("posted to %s with %q", r.Path, r.Header.Get("Authorization"))
		}
	}
	golden(t, "grafana_oom_1.json", reqs[0].Body)
	golden(t, "grafana_oom_2.json", reqs[1].Body)
}

func TestGrafanaSkipsDryRunsRefusalsAndNotificationsWithoutWrites(t *testing.T) {
	g, _ := NewGrafana("http://grafana.example", grafanaToken, GrafanaOptions{})
	dry := cpuIncident()
	dry.Actions[0].Status = StatusDryRun
	refused := cpuIncident()
	refused.Actions = []platform.NotificationAction{{Tool: "scaleDeployment", Status: StatusRefused, Rule: "max_replicas"}}
	legacyDry := legacy(cpuIncident())
	legacyDry.Title = "ops-skill: Would scale ai-data-labs/backend from 3 to 4 replicas (observe mode: nothing changed)"
	for name, n := range map[string]platform.Notification{"dry run": dry, "refusal": refused, "legacy dry run": legacyDry, "cleared": oomCleared()} {
		if got := g.Annotations(n, t0); len(got) != 0 || HasWrites(n) {
			t.Errorf("%s: %d annotations", name, len(got))
		}
	}
	// Today's agent: the "Action:" lines of a run that wrote.
	if got := g.Annotations(legacy(oomIncident()), t0); len(got) != 2 || got[0].Tags[1] != "clickhouse" || got[0].Time != t0.UnixMilli() {
		t.Errorf("legacy annotations %+v", got)
	}
}

func TestGrafanaRetryNeverDuplicatesAnAnnotation(t *testing.T) {
	rc := newReceiver(t, func(i int, _ request) answer {
		if i == 1 { // the second write's first post fails
			return answer{status: 502, body: `{"message":"bad gateway"}`}
		}
		return answer{status: 200, body: `{"message":"Annotation added"}`}
	})
	fc := testingclock.NewFakeClock(t0)
	a := newTestAnnotator(t, rc, fc, nil)
	var err error
	run(t, fc, func() { err = a.Notify(context.Background(), oomIncident()) }, a.d)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, r := range rc.requests() {
		var an Annotation
		_ = json.Unmarshal(r.Body, &an)
		texts = append(texts, an.Text[:24])
	}
	want := "[ops-skill: raise the mem ops-skill: scale ai-data ops-skill: scale ai-data]"
	if fmt.Sprint(texts) != want {
		t.Errorf("posts %v, want %s", texts, want)
	}
}

func TestGrafanaBadTokenIsFinal(t *testing.T) {
	rc := newReceiver(t, always(401, `{"message":"invalid API key"}`))
	fc := testingclock.NewFakeClock(t0)
	a := newTestAnnotator(t, rc, fc, nil)
	var err error
	run(t, fc, func() { err = a.Notify(context.Background(), cpuIncident()) }, a.d)
	var de *DeliveryError
	if !errors.As(err, &de) || !errors.Is(err, ErrRejected) || de.Status != 401 || de.Reason != "invalid API key" || len(rc.requests()) != 1 {
		t.Fatalf("err = %v after %d posts", err, len(rc.requests()))
	}
}

func TestGrafanaNeedsAURLAndAToken(t *testing.T) {
	for _, tc := range [][2]string{{"", grafanaToken}, {"grafana:3000", grafanaToken}, {"http://grafana:3000", ""}} {
		if _, err := NewGrafana(tc[0], tc[1], GrafanaOptions{}); !errors.Is(err, ErrConfig) {
			t.Errorf("%q: err = %v", tc[0], err)
		}
	}
}
