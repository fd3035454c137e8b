package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigShowNeverPrintsASecret(t *testing.T) {
	s := newSandbox(t)
	secrets := map[string]string{
		"LLM_API_KEY":     "sk-e2e-SECRET-123",
		"ALERT_WEBHOOK":   "http://127.0.0.1:1/services/T0/B0/SECRETXYZ",
		"NOTIFY_DEADLINE": "2s", // the webhook never answers: give up quickly
		"CLICKHOUSE_URL":  "clickhouse://u:pw-SECRET@127.0.0.1:9000",
		"CLOUD_API_KEY":   "cloud-SECRET-456",
	}
	for k, v := range secrets {
		s.env[k] = v
	}
	show := s.must(0, "", "config", "show")
	wantContains(t, "config show", show.stdout, "alert_webhook:", "api_key:", "clickhouse_url: clickhouse://u:***@127.0.0.1:9000")
	showJSON := s.must(0, "", "config", "show", "--output", "json")
	if !json.Valid([]byte(showJSON.stdout)) {
		t.Errorf("config show --output json is not JSON:\n%s", showJSON.stdout)
	}
	// A run that tries the (unreachable) webhook, and a history listing.
	run := s.run("", "--notify", highCPUAlert)
	if run.code != 0 {
		t.Fatalf("run: %s", run)
	}
	wantContains(t, "transcript", run.stdout, "Notification not delivered")
	hist := s.must(0, "", "--alert-history")
	leaks := []string{"SECRET", "sk-e2e", "pw-SECRET", "SECRETXYZ"}
	for _, r := range []result{show, showJSON, run, hist} {
		for _, leak := range leaks {
			if strings.Contains(r.stdout+r.stderr, leak) {
				t.Errorf("output contains %q:\n%s", leak, r)
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(s.state, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in the state directory: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range leaks {
			if strings.Contains(string(b), leak) {
				t.Errorf("%s contains %q", filepath.Base(f), leak)
			}
		}
	}
}

func TestUpdateThresholdPersistsAndIsRecorded(t *testing.T) {
	s := newSandbox(t)
	r := s.must(0, "", "--update-threshold", "scale_up.cpu=85")
	wantContains(t, "effective config", r.stdout, "scale_up_threshold: 85")
	wantContains(t, "stderr", r.stderr, "80 → 85")

	show := s.must(0, "", "config", "show")
	wantContains(t, "config show", show.stdout, "scale_up_threshold: 85")

	hist := s.must(0, "", "--threshold-history")
	rows := tsv(hist.stdout)
	if len(rows) != 2 || strings.Join(rows[0], " ") != "AT KEY OLD NEW WHO" {
		t.Fatalf("threshold history:\n%s", hist)
	}
	if !strings.Contains(rows[1][1], "scale_up") || rows[1][2] != "80" || rows[1][3] != "85" {
		t.Errorf("threshold change = %q", rows[1])
	}

	// The new threshold governs the next run: 85% is not above 85%.
	run := s.run("", highCPUAlert)
	if strings.Contains(run.stdout, "Done: scale") {
		t.Errorf("scaled at 85%% CPU with a threshold of 85:\n%s", run)
	}
}

func TestUpdateThresholdRejectsAnInconsistentPolicy(t *testing.T) {
	s := newSandbox(t)
	r := s.must(2, "", "--update-threshold", "scale_down.cpu=85")
	wantContains(t, "stderr", r.stderr, "scale_down")
	show := s.must(0, "", "config", "show")
	wantContains(t, "config show", show.stdout, "scale_down_threshold: 30")
	if rows := tsv(s.must(0, "", "--threshold-history").stdout); len(rows) != 1 {
		t.Errorf("a rejected change was recorded: %q", rows)
	}
	r = s.must(2, "", "--update-threshold", "no_such.key=1")
	wantContains(t, "stderr", r.stderr, "no_such.key")
}

func TestInvalidConfigFailsAtStart(t *testing.T) {
	tests := []struct {
		name, key, value string
		args             []string
		want             []string // on stderr: the key and the fix
	}{
		{"config show", "SCALE_DOWN_THRESHOLD", "90", []string{"config", "show"}, []string{"SCALE_DOWN_THRESHOLD", "lower it"}},
		{"an alert", "SCALE_DOWN_THRESHOLD", "90", []string{highCPUAlert}, []string{"SCALE_DOWN_THRESHOLD"}},
		{"a history listing", "SCALE_DOWN_THRESHOLD", "90", []string{"--alert-history"}, []string{"SCALE_DOWN_THRESHOLD"}},
		{"min over max", "MIN_REPLICAS", "12", []string{"config", "show"}, []string{"min_replicas", "lower min_replicas"}},
		{"bad duration", "ALERT_COOLDOWN", "five minutes", []string{"config", "show"}, []string{"ALERT_COOLDOWN"}},
		{"unknown provider", "LLM_PROVIDER", "skynet", []string{"config", "show"}, []string{"LLM_PROVIDER"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			s.env[tt.key] = tt.value
			r := s.must(2, "", tt.args...)
			wantContains(t, "stderr", r.stderr, tt.want...)
			if strings.Contains(r.stdout, "Automatic Actions Taken") {
				t.Errorf("ran with an invalid config:\n%s", r)
			}
		})
	}
}

func TestBadInputIsRejectedAndRecorded(t *testing.T) {
	big := strings.Repeat("Backend service CPU at 85% ", (1<<20)/27+1) // just over 1 MB
	tests := []struct {
		name    string
		stdin   string
		args    func(t *testing.T, dir string) []string
		code    int
		want    string // on stderr
		outcome string // of the history record
	}{
		{"empty alert", "", literal(""), 2, "empty", "rejected"},
		{"blank alert", "", literal("   "), 2, "empty", "rejected"},
		{"unparseable JSON", "", literal("{"), 2, "invalid JSON", "rejected"},
		{"zero alerts", "", file("am-empty.json"), 2, "no alerts", "rejected"},
		{"resolved only", "", file("am-resolved-only.json"), 0, "nothing to do", "no_action"},
		{"unknown field", "", file("am-unknown-field.json"), 2, `unknown field "alertz"`, "rejected"},
		{"1 MB alert on stdin", big, literal("-"), 2, "at most", "rejected"},
		{"1 MB alert in a file", "", written("big.txt", big), 2, "at most", "rejected"},
		{"empty stdin", "", literal("-"), 2, "empty", "rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			r := s.must(tt.code, tt.stdin, tt.args(t, s.home)...)
			wantContains(t, "stderr", r.stderr, tt.want)
			if strings.Contains(r.stdout, "Automatic Actions Taken") {
				t.Errorf("bad input was acted on:\n%s", r)
			}
			rows := s.alerts()
			if len(rows) != 1 || rows[0].Outcome != tt.outcome {
				t.Errorf("history = %+v, want one record with outcome %s", rows, tt.outcome)
			}
			if n := s.scaleEventCount(); n != 0 {
				t.Errorf("%d scale events after bad input", n)
			}
		})
	}
}

func literal(args ...string) func(*testing.T, string) []string {
	return func(*testing.T, string) []string { return args }
}

func file(name string) func(*testing.T, string) []string {
	return func(t *testing.T, _ string) []string { return []string{"--alert-file", alertFile(t, name)} }
}

func written(name, content string) func(*testing.T, string) []string {
	return func(t *testing.T, dir string) []string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{"--alert-file", p}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"unknown flag", nil, []string{"--bogus", highCPUAlert}, []string{"unknown flag: --bogus"}},
		{"no alert", nil, nil, []string{"no alert given"}},
		{"missing alert file", nil, []string{"--alert-file", "/nonexistent/am.json"}, []string{"--alert-file"}},
		{"unknown scenario", nil, []string{"--scenario", "nope", highCPUAlert}, []string{"--scenario"}},
		{"kubeconfig without --simulate", map[string]string{"KUBECONFIG": "/home/u/.kube/config"}, []string{highCPUAlert},
			[]string{"KUBECONFIG", "--simulate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			for k, v := range tt.env {
				s.env[k] = v
			}
			r := s.must(2, "", tt.args...)
			wantContains(t, "stderr", r.stderr, tt.want...)
			if r.stdout != "" {
				t.Errorf("stdout is not empty:\n%s", r)
			}
			if n := s.scaleEventCount(); n != 0 {
				t.Errorf("%d scale events", n)
			}
		})
	}
}

// slackMessage is what a Slack incoming webhook receives.
type slackMessage struct {
	Text   string            `json:"text"`
	Blocks []json.RawMessage `json:"blocks"`
}

func TestWebhookReceivesTheHighCPUNotification(t *testing.T) {
	got := make(chan slackMessage, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m slackMessage
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/services/T0/B0/X" || json.Unmarshal(body, &m) != nil {
			t.Errorf("unexpected request %s %s: %s", r.Method, r.URL.Path, body)
		}
		got <- m
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s := newSandbox(t)
	s.env["ALERT_WEBHOOK"] = srv.URL + "/services/T0/B0/X"
	// Nothing about a simulated run is sent unless asked, and then it is marked.
	quiet := s.must(0, "", highCPUAlert)
	wantContains(t, "transcript", quiet.stdout, "Notification not sent: simulated platform")
	if len(got) != 0 {
		t.Fatalf("a simulated run without --notify sent %d notifications", len(got))
	}
	r := s.must(0, "", "--notify", highCPUAlert)
	wantContains(t, "transcript", r.stdout, "Team notified (webhook)")
	select {
	case m := <-got:
		if len(m.Blocks) == 0 {
			t.Errorf("notification has no blocks: %+v", m)
		}
		wantContains(t, "notification text", m.Text, "[SIMULATED]", "ai-data-labs/backend", "3 to 4 replicas", "resolved")
	default: // the handler queues the message before it answers, and the binary waited for the answer
		t.Fatal("no notification arrived")
	}
	if len(got) != 0 {
		t.Errorf("%d more notifications for one incident", len(got))
	}
	if strings.Contains(r.stdout, srv.URL) {
		t.Errorf("the webhook URL is printed:\n%s", r.stdout)
	}
}
