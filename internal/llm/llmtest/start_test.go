package llmtest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/llm/llmtest"
)

// Start serves outside a test: a request the real API would reject is
// answered and listed by Rejected instead of failing the test, and Close
// may be called more than once.
func TestStartServesWithoutATestAndRecordsRejections(t *testing.T) {
	srv, err := llmtest.Start(llmtest.Steps(llmtest.Reply{Content: "hello"}), llmtest.WithAPIKey("sk-k"))
	if err != nil {
		t.Fatal(err)
	}
	auth := map[string]string{"Authorization": "Bearer sk-k"}
	if resp, body := post(t, srv.URL()+"/chat/completions", userOnly, auth); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "hello") {
		t.Fatalf("valid request: %d %s", resp.StatusCode, body)
	}
	if resp, _ := post(t, srv.URL()+"/chat/completions", userOnly, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("request without the key: %d, want 401", resp.StatusCode)
	}
	rej := srv.Rejected()
	if srv.Calls() != 2 || len(rej) != 1 || rej[0].Index != 1 || !strings.Contains(rej[0].Rejection, "API key") {
		t.Errorf("calls %d, rejected %+v; want the second request rejected for its key", srv.Calls(), rej)
	}
	srv.Close()
	srv.Close()
	if _, err := http.Post(srv.URL()+"/chat/completions", "application/json", strings.NewReader(userOnly)); err == nil {
		t.Error("the server still answers after Close")
	}
}
