package tools_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

func TestNotify(t *testing.T) {
	cases := []struct {
		name     string
		opt      option
		args     string
		status   tools.Status
		rule     string
		channel  string
		notified int
		mode     guard.Mode
	}{
		{"to the webhook", nil, `{"message":"backend scaled to 4","service":"backend"}`, tools.StatusOK, "", "webhook", 1, guard.ModeAuto},
		{"alerting switched off", withPolicy(func(p *tools.Policy) { p.NotifyEnabled = false }), `{"message":"backend scaled to 4"}`,
			tools.StatusRefused, guard.RuleDisabledAlerting, "", 0, guard.ModeAuto},
		{"no webhook keeps the message in the transcript", func(d *tools.Deps) { d.Notifier = nil }, `{"message":"backend scaled to 4"}`,
			tools.StatusOK, "", "transcript", 0, guard.ModeAuto},
		// Observe mode shows what would be sent and pages nobody.
		{"observe mode sends nothing", nil, `{"message":"backend scaled to 4","service":"backend"}`, tools.StatusDryRun, guard.RuleModeObserve, "", 0, guard.ModeObserve},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opts []option
			if c.opt != nil {
				opts = append(opts, c.opt)
			}
			e := newEnv(t, "high-cpu", opts...)
			o := e.call(tools.NewRun(1, c.mode, nil, 0), "notify", c.args)
			mustStatus(t, o, c.status)
			if o.Rule != c.rule {
				t.Errorf("rule %q (%s)", o.Rule, o.Reason)
			}
			if c.channel != "" {
				if res := result[tools.NotifyResult](t, o); res.Channel != c.channel || res.Delivered != (c.channel == "webhook") {
					t.Errorf("result %+v", res)
				}
			}
			notes := e.p.Notifications()
			if len(notes) != c.notified {
				t.Fatalf("%d notifications, want %d", len(notes), c.notified)
			}
			if c.notified == 1 && (notes[0].Severity != "info" || notes[0].Text != "backend scaled to 4" || notes[0].Service != "backend") {
				t.Errorf("notification %+v", notes[0])
			}
		})
	}
}

// downNotifier fails like a webhook answering 503.
type downNotifier struct{}

func (downNotifier) Notify(context.Context, platform.Notification) error {
	return errors.Join(platform.ErrUnavailable, errors.New("webhook answered 503"))
}

func TestNotifyFailureIsReported(t *testing.T) {
	e := newEnv(t, "high-cpu", func(d *tools.Deps) { d.Notifier = downNotifier{} })
	o := e.call(autoRun(), "notify", `{"message":"hi","severity":"critical"}`)
	mustStatus(t, o, tools.StatusFailed)
	if !strings.Contains(o.Error, "notify: ") || !strings.Contains(o.Error, "503") {
		t.Errorf("error %q", o.Error)
	}
}

func TestCreateIncident(t *testing.T) {
	e := newEnv(t, "clickhouse-oom")
	o := e.call(tools.NewRun(9, guard.ModeAuto, nil, 0), "createIncident",
		`{"title":"ClickHouse OOM loop","service":"clickhouse","summary":"raised memory to 8Gi"}`)
	mustStatus(t, o, tools.StatusOK)
	if res := result[tools.IncidentResult](t, o); res.ID != "INC-2026-11-20-001" || o.Summary != "opened incident INC-2026-11-20-001" {
		t.Errorf("result %+v summary %q", res, o.Summary)
	}
	if len(e.inc.opened) != 1 || e.inc.opened[0] != "high|clickhouse|ClickHouse OOM loop" {
		t.Errorf("opened %v: severity defaults to high", e.inc.opened)
	}
	if len(e.inc.timeline) != 1 || e.inc.timeline[0] != "INC-2026-11-20-001|summary|raised memory to 8Gi" {
		t.Errorf("timeline %v", e.inc.timeline)
	}
	if o.Target != "clickhouse" {
		t.Errorf("target %q", o.Target)
	}
}

func TestCreateIncidentJoinsTheOpenIncidentOfTheRunsSubject(t *testing.T) {
	e := newEnv(t, "clickhouse-oom")
	runOf := func(alertID int64, subject string) *tools.Run {
		r := tools.NewRun(alertID, guard.ModeAuto, nil, 0)
		r.Subject = subject
		return r
	}
	steps := []struct {
		name    string
		run     *tools.Run
		args    string
		want    tools.IncidentResult
		summary string
	}{
		{"the first alert of a subject opens", runOf(1, "ai-data-labs/clickhouse"), `{"title":"ClickHouse pod 0 crash loop","service":"clickhouse"}`,
			tools.IncidentResult{ID: "INC-2026-11-20-001"}, "opened incident INC-2026-11-20-001"},
		{"a later alert of the subject joins", runOf(2, "ai-data-labs/clickhouse"), `{"title":"ClickHouse pod 1 crash loop","service":"clickhouse","summary":"second pod"}`,
			tools.IncidentResult{ID: "INC-2026-11-20-001", Joined: true}, "joined incident INC-2026-11-20-001"},
		{"the subject comes from the run, not the arguments", runOf(3, "ai-data-labs/backend"), `{"title":"ClickHouse again","service":"clickhouse"}`,
			tools.IncidentResult{ID: "INC-2026-11-20-002"}, "opened incident INC-2026-11-20-002"},
		{"a run without a subject always opens", runOf(4, ""), `{"title":"ClickHouse by hand","service":"clickhouse"}`,
			tools.IncidentResult{ID: "INC-2026-11-20-003"}, "opened incident INC-2026-11-20-003"},
	}
	for _, st := range steps {
		o := e.call(st.run, "createIncident", st.args)
		mustStatus(t, o, tools.StatusOK)
		if res := result[tools.IncidentResult](t, o); res != st.want || o.Summary != st.summary {
			t.Errorf("%s: result %+v summary %q; want %+v %q", st.name, res, o.Summary, st.want, st.summary)
		}
	}
	want := []string{"INC-2026-11-20-001|alert|alert joined: ClickHouse pod 1 crash loop (alert #2)", "INC-2026-11-20-001|summary|second pod"}
	if !slices.Equal(e.inc.timeline, want) {
		t.Errorf("timeline %q, want %q", e.inc.timeline, want)
	}
}

func TestCreateIncidentNeedsAnIncidentStore(t *testing.T) {
	e := newEnv(t, "clickhouse-oom", withoutIncidents())
	o := e.call(autoRun(), "createIncident", `{"title":"ClickHouse OOM loop","service":"clickhouse"}`)
	mustStatus(t, o, tools.StatusFailed)
	if !strings.Contains(o.Error, "incident store is not configured") {
		t.Errorf("error %q", o.Error)
	}
}

func TestCheckHealth(t *testing.T) {
	cases := []struct {
		scenario, args string
		status         tools.Status
		checks         int
		summary        string
		failing        string
	}{
		{"health-check-failing", `{}`, tools.StatusOK, 5, "1 of 5 health checks failing", "frontend"},
		{"health-check-failing", `{"service":"frontend"}`, tools.StatusOK, 1, "1 of 1 health checks failing", "frontend"},
		{"clickhouse-oom", `{"service":"clickhouse"}`, tools.StatusOK, 1, "1 of 1 health checks failing", "clickhouse"},
		{"healthy", `{}`, tools.StatusOK, 5, "0 of 5 health checks failing", ""},
		{"healthy", `{"service":"kafka"}`, tools.StatusFailed, 0, "", ""},
	}
	for _, c := range cases {
		e := newEnv(t, c.scenario)
		o := e.call(autoRun(), "checkHealth", c.args)
		mustStatus(t, o, c.status)
		if c.status == tools.StatusFailed {
			if !strings.Contains(o.Error, `service "kafka": not found (checked services: backend, frontend, clickhouse, postgresql, redis)`) {
				t.Errorf("error %q", o.Error)
			}
			continue
		}
		res := result[[]platform.HealthResult](t, o)
		if len(res) != c.checks || o.Summary != c.summary {
			t.Errorf("%s %s: %d checks, summary %q", c.scenario, c.args, len(res), o.Summary)
		}
		for _, r := range res {
			if !r.OK && r.Service != c.failing {
				t.Errorf("%s failing: %+v", r.Service, r)
			}
			if !r.OK && r.ConsecutiveFailures < 3 {
				t.Errorf("%s: %d consecutive failures", r.Service, r.ConsecutiveFailures)
			}
		}
	}
}
