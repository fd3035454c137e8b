package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// secretEnv sets every secret-bearing value with a recognisable secret.
func secretEnv(t *testing.T) (map[string]string, []string) {
	t.Helper()
	secrets := []string{"whsec-s3cr3t", "cloud-s3cr3t", "llm-s3cr3t", "ch-s3cr3t", "prom-s3cr3t", "graf-s3cr3t", "base-s3cr3t", "qp-s3cr3t", "hdr-s3cr3t"}
	env := homeEnv(t, map[string]string{
		"ALERT_WEBHOOK":  "https://hooks.slack.com/services/T0/B0/" + secrets[0],
		"CLOUD_API_KEY":  secrets[1],
		"LLM_PROVIDER":   "claude",
		"LLM_API_KEY":    secrets[2],
		"CLICKHOUSE_URL": "clickhouse://default:" + secrets[3] + "@clickhouse:9000/db?dial_timeout=1s&password=" + secrets[7],
		"PROMETHEUS_URL": "https://admin:" + secrets[4] + "@prometheus:9090",
		"GRAFANA_URL":    "https://grafana:3000/?token=" + secrets[5],
		"LLM_BASE_URL":   "https://proxy.example/v1?api-key=" + secrets[6],
		"LLM_HEADERS":    "x-proxy-token: " + secrets[8],
	})
	return env, secrets
}

func TestNoSecretAppearsInAnyRendering(t *testing.T) {
	env, secrets := secretEnv(t)
	cfg := mustLoad(t, env, "")
	if cfg.LLM.APIKey.Reveal() != secrets[2] || !strings.Contains(cfg.Storage.ClickHouseURL, secrets[3]) {
		t.Fatal("secrets were not loaded; the test would prove nothing")
	}
	render := map[string]func() string{
		"Show yaml": func() string { var b bytes.Buffer; must(t, cfg.Show(&b, "yaml")); return b.String() },
		"Show json": func() string { var b bytes.Buffer; must(t, cfg.Show(&b, "json")); return b.String() },
		"Redacted":  func() string { return fmt.Sprint(cfg.Redacted()) },
		"%v":        func() string { return fmt.Sprintf("%v", cfg) },
		"%+v":       func() string { return fmt.Sprintf("%+v", cfg) },
		"%#v":       func() string { return fmt.Sprintf("%#v", cfg) },
		"%s ptr":    func() string { return fmt.Sprintf("%s", &cfg) },
		"sections": func() string {
			return fmt.Sprintf("%v %+v %#v %v %v %q %x", cfg.Monitoring, cfg.Storage, cfg.LLM, cfg.Cloud,
				cfg.Cloud.APIKey, cfg.LLM.APIKey, cfg.Monitoring.AlertWebhook)
		},
		"json.Marshal": func() string { b, err := json.Marshal(cfg); must(t, err); return string(b) },
		"json.Marshal section": func() string {
			b, err := json.Marshal([]any{cfg.Cloud, cfg.LLM, cfg.Storage, cfg.Monitoring})
			must(t, err)
			return string(b)
		},
		"yaml.Marshal": func() string { b, err := yaml.Marshal(cfg); must(t, err); return string(b) },
		"yaml.Marshal section": func() string {
			b, err := yaml.Marshal([]any{cfg.Cloud, cfg.LLM, cfg.Storage, cfg.Monitoring})
			must(t, err)
			return string(b)
		},
	}
	for name, fn := range render {
		t.Run(name, func(t *testing.T) {
			out := fn()
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("secret %q leaked in:\n%s", s, out)
				}
			}
			if !strings.Contains(out, masked) {
				t.Errorf("no masked value in output:\n%s", out)
			}
		})
	}
}

func TestShowMasksButKeepsUsefulParts(t *testing.T) {
	env, _ := secretEnv(t)
	cfg := mustLoad(t, env, "")
	var b bytes.Buffer
	must(t, cfg.Show(&b, "yaml"))
	out := b.String()
	for _, want := range []string{
		"operations:\n", "  llm:\n", "api_key: '***'",
		"clickhouse_url: clickhouse://default:***@clickhouse:9000/db?dial_timeout=1s&password=***",
		"prometheus: https://admin:***@prometheus:9090",
		"grafana: https://grafana:3000/?token=***",
		"scale_up_threshold: 80", "memory_ceiling: 16Gi", "max_bytes_per_run: 500G", "cooldown: 5m",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestShowRejectsUnknownFormat(t *testing.T) {
	if err := validConfig(t).Show(&bytes.Buffer{}, "toml"); err == nil {
		t.Error("Show accepted format toml")
	}
}

func TestValidationErrorsDoNotLeakSecrets(t *testing.T) {
	env := homeEnv(t, map[string]string{
		"ALERT_WEBHOOK":  "hooks.slack.com/services/hunter2",
		"PROMETHEUS_URL": "ftp://u:hunter3@prom",
		"CLICKHOUSE_URL": "mysql://u:hunter4@ch/db",
	})
	_, err := loadWith(t, env, "")
	requireKeyError(t, err, "monitoring.alert_webhook", "ALERT_WEBHOOK")
	for _, s := range []string{"hunter2", "hunter3", "hunter4"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("secret %q leaked in %v", s, err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"http://prometheus:9090", "http://prometheus:9090"},
		{"http://prometheus:9090/api?x=1", "http://prometheus:9090/api?x=1"},
		{"https://user:pw@host/p", "https://user:***@host/p"},
		{"https://tokenonly@host", "https://***@host"},
		{"clickhouse://h:9000?username=u&password=p", "clickhouse://h:9000?username=u&password=***"},
		{"https://h/?access_token=a&Api-Key=b&sig=c&page=2", "https://h/?access_token=***&Api-Key=***&sig=***&page=2"},
		{"https://h/#secret-fragment", "https://h/"},
		{"u:p@tcp(h:9000)/db", "***"},
		{"localhost:9000", "***"},
		{"://bad", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSecretNeverPrintsItsValue(t *testing.T) {
	s := Secret("p4ss")
	for _, out := range []string{
		s.String(), fmt.Sprint(s), fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%d", s, s, s, s, s, s, s),
		mustJSON(t, s), mustJSON(t, struct{ K Secret }{s}), mustYAML(t, map[string]Secret{"k": s}),
	} {
		if strings.Contains(out, "p4ss") || !strings.Contains(out, masked) {
			t.Errorf("rendered %q", out)
		}
	}
	if s.Reveal() != "p4ss" || !s.IsSet() {
		t.Error("Reveal/IsSet do not give the value")
	}
	if empty := Secret(""); empty.String() != "" || mustJSON(t, empty) != `""` || empty.IsSet() {
		t.Error("an empty secret should render empty")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return string(b)
}

func mustYAML(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	must(t, err)
	return string(b)
}
