package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

func TestSlackPostsTextAndBlocks(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("body is not JSON: %v", err)
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	n := platform.Notification{Title: "ops-skill: scaled backend", Text: "Action: scale 3 → 4", IncidentID: "INC-2026-11-26-001",
		Fields: map[string]string{"verification": "resolved"}, Links: map[string]string{"dashboard": "http://grafana.local/d/x"}}
	if err := NewSlack(srv.URL+"/services/T000/B000/XXXX", nil, time.Second).Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	text, _ := got["text"].(string)
	if !strings.Contains(text, "scale 3 → 4") {
		t.Errorf("text fallback = %q", text)
	}
	blocks, _ := json.Marshal(got["blocks"])
	for _, want := range []string{"INC-2026-11-26-001", "verification", "dashboard", "header"} {
		if !strings.Contains(string(blocks), want) {
			t.Errorf("blocks lack %q: %s", want, blocks)
		}
	}
}

func TestSlackErrorsNeverShowTheWebhookURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
	}))
	secret := srv.URL + "/services/TSECRET/BSECRET/abcdefSECRET"
	err := NewSlack(secret, nil, time.Second).Notify(context.Background(), platform.Notification{Title: "t", Text: "x"})
	if !errors.Is(err, ErrDelivery) || !strings.Contains(err.Error(), "invalid_payload") {
		t.Fatalf("err = %v", err)
	}
	srv.Close() // now the host refuses connections
	err = NewSlack(secret, nil, time.Second).Notify(context.Background(), platform.Notification{Title: "t", Text: "x"})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("error leaks the webhook or is nil: %v", err)
	}
}
