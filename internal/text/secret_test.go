package text_test

import (
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/text"
)

// fake builds a token-shaped fixture at run time from its provider prefix
// and an obviously fake body, so that no literal in the source looks like a
// real credential to a secret scanner.
func fake(prefix, body string) string { return prefix + body }

func TestSecretsAreFoundAndRedacted(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"key=value", "retry with token=abc123def", "retry with token=[REDACTED]"},
		{"env password", "PGPASSWORD=hunter2 psql", "PGPASSWORD=[REDACTED] psql"},
		{"colon", "db password: s3cr3t please", "db password: [REDACTED] please"},
		{"json", `{"client_secret": "xyz987"}`, `{"client_secret": "[REDACTED]"}`},
		{"api key flag", "curl --api-key=k-123 x", "curl --api-key=[REDACTED] x"},
		{"token flag", "login --token abcdef123", "login --token [REDACTED]"},
		{"authorization bearer", "Authorization: Bearer eyJhbGciOi.abc.def", "Authorization: Bearer [REDACTED]"},
		{"authorization bare", "authorization=opaque-value", "authorization=[REDACTED]"},
		{"bearer", "send bearer abcdefgh12345 to it", "send bearer [REDACTED] to it"},
		{"dsn", "connect postgres://app:pa55w0rd@db:5432/app", "connect postgres://app:[REDACTED]@db:5432/app"},
		{"dsn empty user", "redis://:hunter2@cache:6379", "redis://:[REDACTED]@cache:6379"},
		{"openai key", "use " + fake("sk-", "proj-FAKE0000000000000000"), "use [REDACTED]"},
		{"github token", fake("ghp_", "FAKE0000000000000000000000"), "[REDACTED]"},
		{"slack token", fake("xox", "b-0000000000-FAKE"), "[REDACTED]"},
		{"aws key", "key " + fake("AKIA", "FAKE000000000000") + " here", "key [REDACTED] here"},
		{"slack webhook", "post to https://hooks.slack.com/services/T000/B000/XXXX", "post to https://hooks.slack.com/services/[REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !text.LooksSecret(tt.in) {
				t.Errorf("LooksSecret(%q) = false", tt.in)
			}
			got := text.RedactSecrets(tt.in)
			if got != tt.want {
				t.Errorf("RedactSecrets(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if text.LooksSecret(got) && !strings.Contains(got, text.Redacted) {
				t.Errorf("redacted text still looks secret: %q", got)
			}
		})
	}
}

func TestOrdinaryRequestsAreNoSecrets(t *testing.T) {
	for _, in := range []string{
		"check system health and auto-scale if needed",
		"why did you scale backend?",
		"Alert: Backend service CPU at 85% for 5 minutes",
		"show ClickHouse disk growth",
		"what would you do if CPU stayed at 90%?",
		"and for frontend?",
		"is the token refresh job healthy",
		"http://prometheus:9090 is slow",
		"ops-skill serve --auth-token-file token",
		"the author: alice",
	} {
		if text.LooksSecret(in) {
			t.Errorf("LooksSecret(%q) = true", in)
		}
		if got := text.RedactSecrets(in); got != in {
			t.Errorf("RedactSecrets(%q) = %q, want it unchanged", in, got)
		}
	}
}
