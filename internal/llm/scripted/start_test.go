package scripted_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/llm/scripted"
)

const userOnly = `{"model":"m","messages":[{"role":"user","content":"hi"}]}`

func post(t *testing.T, url, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// Start serves without a test: a request the real API would reject is
// answered and listed by Rejected (and passed to OnRejected), and Close may
// be called more than once.
func TestStartServesWithoutATestAndRecordsRejections(t *testing.T) {
	var hooked []int
	srv, err := scripted.Start(scripted.Steps(scripted.Reply{Content: "hello"}), scripted.WithAPIKey("sk-k"),
		scripted.OnRejected(func(rec scripted.RecordedRequest, status int) { hooked = append(hooked, rec.Index, status) }))
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
	if len(hooked) != 2 || hooked[0] != 1 || hooked[1] != http.StatusUnauthorized {
		t.Errorf("OnRejected saw %v, want [1 401]", hooked)
	}
	srv.Close()
	srv.Close()
	if _, err := http.Post(srv.URL()+"/chat/completions", "application/json", strings.NewReader(userOnly)); err == nil {
		t.Error("the server still answers after Close")
	}
}
