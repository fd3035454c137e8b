package alert

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readPayload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "alerts", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeWebhookReadsAVersion4Payload(t *testing.T) {
	w, err := DecodeWebhook(readPayload(t, "am-two-firing.json"), true)
	if err != nil {
		t.Fatal(err)
	}
	if w.Version != "4" || w.Receiver != "ops-skill" || w.Status != "firing" || len(w.Alerts) != 3 {
		t.Fatalf("decoded %+v", w)
	}
	if w.Alerts[0].StartsAt.IsZero() || w.Alerts[2].EndsAt.IsZero() {
		t.Errorf("times not decoded: %+v", w.Alerts)
	}
}

func TestParseWebhookReturnsEachFiringAlert(t *testing.T) {
	w, err := DecodeWebhook(readPayload(t, "am-two-firing.json"), true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := specParser().ParseWebhook(w, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d alerts, want the 2 firing ones (the resolved one skipped)", len(got))
	}
	cpu, disk := got[0], got[1]
	checks := []struct {
		name      string
		a         Alert
		service   string
		namespace string
		kind      Kind
		value     float64
		fp        string
		gen       string
		starts    time.Time
	}{
		{"service label and common namespace", cpu, "backend", "ai-data-labs", KindCPU, 85, "0a0a0a0a0a0a0001",
			"http://prometheus.example:9090/graph?g0.expr=backend_cpu", time.Date(2026, 2, 16, 9, 55, 0, 0, time.UTC)},
		{"statefulset label and own namespace", disk, "clickhouse", "analytics", KindDisk, 85, "0a0a0a0a0a0a0002",
			"http://prometheus.example:9090/graph?g0.expr=disk_usage", time.Date(2026, 2, 16, 9, 0, 0, 0, time.UTC)},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			a := c.a
			if a.Source != "alertmanager" || a.Status != "firing" {
				t.Errorf("source/status = %q/%q", a.Source, a.Status)
			}
			if a.Service != c.service || a.Namespace != c.namespace || a.Kind != c.kind {
				t.Errorf("service/namespace/kind = %q/%q/%q, want %q/%q/%q", a.Service, a.Namespace, a.Kind, c.service, c.namespace, c.kind)
			}
			if !a.HasValue || a.Value != c.value {
				t.Errorf("value = %v (set %v), want %v", a.Value, a.HasValue, c.value)
			}
			if a.Fingerprint != c.fp {
				t.Errorf("fingerprint = %q, want Alertmanager's %q", a.Fingerprint, c.fp)
			}
			if a.GeneratorURL != c.gen {
				t.Errorf("generatorURL = %q", a.GeneratorURL)
			}
			if !a.StartsAt.Equal(c.starts) {
				t.Errorf("startsAt = %v, want %v", a.StartsAt, c.starts)
			}
		})
	}
	if cpu.Labels["namespace"] != "ai-data-labs" || cpu.Labels["alertname"] != "BackendHighCPU" {
		t.Errorf("common labels not merged into the alert's: %v", cpu.Labels)
	}
	if disk.Text != "Database disk usage at 85%" {
		t.Errorf("text = %q, want the description when there is no summary", disk.Text)
	}
}

func TestParseWebhookPrefersTheValueAnnotation(t *testing.T) {
	w, err := DecodeWebhook(readPayload(t, "am-high-cpu.json"), true)
	if err != nil {
		t.Fatal(err)
	}
	w.Alerts[0].Annotations["value"] = "91.5"
	got, err := specParser().ParseWebhook(w, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Value != 91.5 {
		t.Errorf("value = %v, want the annotation's 91.5 over the summary's 85", got[0].Value)
	}
	if got[0].For != 5*time.Minute {
		t.Errorf("for = %v, want 5m from the summary", got[0].For)
	}
}

func TestParseWebhookFallsBackWhereThePayloadIsSilent(t *testing.T) {
	payload := `{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"KubePodCrashLooping","app":"frontend"}}]}`
	w, err := DecodeWebhook([]byte(payload), true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := specParser().ParseWebhook(w, testNow)
	if err != nil {
		t.Fatal(err)
	}
	a := got[0]
	if a.Text != "KubePodCrashLooping" || a.Kind != KindCrashLoop {
		t.Errorf("text/kind = %q/%q, want the alertname and crashloop", a.Text, a.Kind)
	}
	if a.Service != "frontend" || a.Namespace != "ai-data-labs" {
		t.Errorf("service/namespace = %q/%q, want app label and the parser's namespace", a.Service, a.Namespace)
	}
	if !a.StartsAt.Equal(testNow) {
		t.Errorf("startsAt = %v, want now when the payload has none", a.StartsAt)
	}
	if a.Fingerprint == "" || a.Fingerprint != Fingerprint("KubePodCrashLooping KubePodCrashLooping", "ai-data-labs/frontend") {
		t.Errorf("fingerprint = %q, want one computed from alertname, text and target", a.Fingerprint)
	}
}

func TestParseWebhookWithNothingFiring(t *testing.T) {
	w, err := DecodeWebhook(readPayload(t, "am-resolved-only.json"), true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = specParser().ParseWebhook(w, testNow)
	if !errors.Is(err, ErrNothingFiring) {
		t.Fatalf("err = %v, want ErrNothingFiring", err)
	}
	if errors.Is(err, ErrInvalid) {
		t.Error("a resolved-only payload is not invalid input")
	}
}

func TestParseWebhookRejectsAnAlertWithoutText(t *testing.T) {
	w := Webhook{Version: "4", Alerts: []WebhookAlert{
		{Status: "firing", Labels: map[string]string{"alertname": "Fine"}},
		{Status: "firing", Labels: map[string]string{"severity": "page"}, Annotations: map[string]string{"summary": "  "}},
	}}
	_, err := specParser().ParseWebhook(w, testNow)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if !strings.HasPrefix(err.Error(), "alert 2:") {
		t.Errorf("message %q does not say which alert", err)
	}
}

func TestDecodeWebhookUnknownFields(t *testing.T) {
	b := readPayload(t, "am-unknown-field.json")
	_, err := DecodeWebhook(b, true)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("strict: err = %v, want ErrInvalid", err)
	}
	if !strings.Contains(err.Error(), `"alertz"`) {
		t.Errorf("strict: message %q does not name the field", err)
	}
	w, err := DecodeWebhook(b, false)
	if err != nil {
		t.Fatalf("lenient: %v", err)
	}
	if len(w.Alerts) != 1 {
		t.Errorf("lenient: %d alerts", len(w.Alerts))
	}
}

func TestDecodeWebhookRejectsBadPayloads(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    []string
	}{
		{"version 3", `{"version":"3","alerts":[{"status":"firing","labels":{"alertname":"X"}}]}`, []string{`"3"`, "version 4"}},
		{"zero alerts", string(readPayloadNoT("am-empty.json")), []string{"no alerts"}},
		{"missing alerts", `{"version":"4","status":"firing"}`, []string{"no alerts"}},
		{"syntax error reports the offset", `{"version":"4",,"alerts":[]}`, []string{"invalid JSON at byte 16"}},
		{"truncated", `{`, []string{"ends"}},
		{"truncated mid-payload", `{"version":"4","alerts":[{"status":"fir`, []string{"ends"}},
		{"wrong type names the field", `{"version":"4","alerts":{"status":"firing"}}`, []string{`"alerts"`}},
		{"an array is not a payload", `[{"status":"firing"}]`, []string{"JSON object"}},
		{"trailing data", `{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"X"}}]} {}`, []string{"after the JSON"}},
		{"over 1 MiB", `{"version":"4","groupKey":"` + strings.Repeat("x", MaxPayloadBytes) + `"}`, []string{"at most"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeWebhook([]byte(tt.payload), true)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestDecodeWebhookAcceptsAPayloadWithoutVersion(t *testing.T) {
	_, err := DecodeWebhook([]byte(`{"alerts":[{"status":"firing","labels":{"alertname":"X"}}]}`), true)
	if err != nil {
		t.Fatalf("a payload without a version field: %v", err)
	}
}

func TestLooksLikeJSON(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{"version":"4"}`, true},
		{"  \n{", true},
		{"[]", true},
		{`[{"status":"firing"}]`, true},
		{"{not json", true},
		{"[FIRING:1] Backend service CPU at 85% for 5 minutes", false},
		{"[warning] disk at 85%", false},
		{"Alert: Backend service CPU at 85%", false},
		{"", false},
		{"   ", false},
	}
	for _, tt := range tests {
		if got := LooksLikeJSON([]byte(tt.in)); got != tt.want {
			t.Errorf("LooksLikeJSON(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSamplePayloadsAreValidJSON(t *testing.T) {
	for _, name := range []string{"am-high-cpu.json", "am-two-firing.json", "am-resolved-only.json", "am-empty.json", "am-unknown-field.json"} {
		b := readPayloadNoT(name)
		if _, err := DecodeWebhook(b, false); err != nil && !bytes.Contains([]byte(err.Error()), []byte("no alerts")) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// readPayloadNoT reads a sample payload for table literals; a missing file
// gives an empty payload, which every test using it rejects loudly.
func readPayloadNoT(name string) []byte {
	b, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "alerts", name))
	return b
}
