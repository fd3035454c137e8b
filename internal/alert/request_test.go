package alert

import (
	"testing"
	"time"
)

func TestParseRequestDetectsTheOperatorsIntent(t *testing.T) {
	p := Parser{Namespace: "ai-data-labs", Services: []string{"backend", "frontend", "clickhouse", "postgresql", "redis"}, Aliases: DefaultAliases()}
	cases := []struct {
		text    string
		intent  Intent
		service string
	}{
		{"check system health and auto-scale if needed", IntentAutoscale, ""},
		{"is everything healthy?", IntentHealth, ""},
		{"why did you scale backend at 14:02?", IntentHistory, "backend"},
		{"show ClickHouse disk growth", IntentStorage, "clickhouse"},
		{"what would you do if CPU stayed at 90%?", IntentWhatIf, ""},
		{"what is the status of frontend", IntentStatus, "frontend"},
		{"backend CPU at 95% for 10 minutes", IntentIncident, "backend"},
		{"tell me a joke", IntentHelp, ""},
		{"and for frontend?", IntentFollowUp, "frontend"},
		{"what about redis?", IntentFollowUp, "redis"},
		{"why?", IntentHistory, ""},
		{"scale it to 3", IntentScale, ""},
		{"restart frontend", IntentRestart, "frontend"},
	}
	for _, c := range cases {
		a, err := p.ParseRequest(c.text, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if a.Intent != c.intent || a.Service != c.service || a.Source != "chat" {
			t.Errorf("ParseRequest(%q) = intent %q service %q source %q; want %q %q chat", c.text, a.Intent, a.Service, a.Source, c.intent, c.service)
		}
	}
	if _, err := p.ParseRequest("   ", time.Unix(0, 0)); err == nil {
		t.Error("an empty request was accepted")
	}
}

func TestParseRequestReadsTheReplicasAScaleAsksFor(t *testing.T) {
	p := Parser{Namespace: "ai-data-labs", Services: []string{"backend"}}
	for text, want := range map[string]int32{"scale it to 3": 3, "scale backend to 12 replicas": 12, "status of backend to 3": 0} {
		a, err := p.ParseRequest(text, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if a.Replicas != want {
			t.Errorf("ParseRequest(%q).Replicas = %d, want %d", text, a.Replicas, want)
		}
	}
}
