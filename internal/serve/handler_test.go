package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/tools"
)

// post sends body to /webhook with the given Authorization header.
func post(t *testing.T, s *Server, auth string, body []byte) (*httptest.ResponseRecorder, Answer) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	var ans Answer
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		t.Fatalf("answer %q is not JSON: %v", rec.Body.String(), err)
	}
	return rec, ans
}

func TestWebhookRefusesWhoIsNotAuthenticated(t *testing.T) {
	body := func(t *testing.T) []byte { return payload(t, "firing", cpuAlert("backend", "fp1")) }
	tests := []struct {
		name string
		auth Auth
		hdr  string
		want int
	}{
		{"no credentials", Auth{Token: testToken}, "", http.StatusUnauthorized},
		{"wrong token", Auth{Token: testToken}, "Bearer nope", http.StatusUnauthorized},
		{"token prefix only", Auth{Token: testToken}, "Bearer " + testToken[:4], http.StatusUnauthorized},
		{"right token", Auth{Token: testToken}, "Bearer " + testToken, http.StatusAccepted},
		{"scheme in lower case", Auth{Token: testToken}, "bearer " + testToken, http.StatusAccepted},
		{"basic instead of bearer", Auth{Token: testToken}, basic("am", testToken), http.StatusUnauthorized},
		{"right basic", Auth{Username: "am", Password: "pw"}, basic("am", "pw"), http.StatusAccepted},
		{"wrong basic password", Auth{Username: "am", Password: "pw"}, basic("am", "px"), http.StatusUnauthorized},
		{"wrong basic user", Auth{Username: "am", Password: "pw"}, basic("xx", "pw"), http.StatusUnauthorized},
		{"either configured, token given", Auth{Token: testToken, Username: "am", Password: "pw"}, "Bearer " + testToken, http.StatusAccepted},
		{"anonymous allowed", Auth{AllowAnonymous: true}, "", http.StatusAccepted},
		{"anonymous allowed, wrong token still refused", Auth{Token: testToken, AllowAnonymous: true}, "Bearer nope", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := quietConfig()
			cfg.Auth = tt.auth
			e := newTestEnv(t, cfg, tools.Deps{})
			e.lead(t)
			rec, _ := post(t, e.s, tt.hdr, body(t))
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body.String())
			}
			if tt.want == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tt.want == http.StatusUnauthorized && e.s.q.len() != 0 {
				t.Error("an unauthenticated delivery was queued")
			}
		})
	}
}

func basic(user, pass string) string {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(user, pass)
	return req.Header.Get("Authorization")
}

func TestWebhookRefusesOversizedBodies(t *testing.T) {
	cfg := quietConfig()
	cfg.MaxBodyBytes = 2048
	e := newTestEnv(t, cfg, tools.Deps{})
	e.lead(t)
	big := payload(t, "firing", cpuAlert("backend", "fp1"))
	big = append(big[:len(big)-1], []byte(`,"padding":"`+strings.Repeat("x", 4096)+`"}`)...)

	t.Run("declared length", func(t *testing.T) {
		rec, ans := post(t, e.s, "Bearer "+testToken, big)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(ans.Error, "max_alerts") {
			t.Fatalf("status %d %q, want 413 naming max_alerts", rec.Code, ans.Error)
		}
	})
	t.Run("chunked, no length", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/webhook", io.MultiReader(bytes.NewReader(big)))
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		e.s.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", rec.Code)
		}
	})
	if e.s.q.len() != 0 {
		t.Error("an oversized delivery was queued")
	}
}

func TestWebhookAnswersBadRequestsWithoutQueueing(t *testing.T) {
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.lead(t)
	tests := []struct {
		name, body string
		want       int
	}{
		{"not JSON", "Alert: backend CPU at 85%", http.StatusBadRequest},
		{"truncated JSON", `{"version":"4","alerts":[`, http.StatusBadRequest},
		{"no alerts", `{"version":"4","alerts":[]}`, http.StatusBadRequest},
		{"wrong version", `{"version":"3","alerts":[{"status":"firing","labels":{"alertname":"X"}}]}`, http.StatusBadRequest},
		{"alert without any text", `{"version":"4","alerts":[{"status":"firing","labels":{},"annotations":{}}]}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, ans := post(t, e.s, "Bearer "+testToken, []byte(tt.body))
			if rec.Code != tt.want || ans.Error == "" {
				t.Fatalf("status %d error %q, want %d with an error", rec.Code, ans.Error, tt.want)
			}
		})
	}
	req := httptest.NewRequest(http.MethodGet, "/webhook", nil)
	rec := httptest.NewRecorder()
	e.s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost {
		t.Errorf("GET: status %d Allow %q, want 405 POST", rec.Code, rec.Header().Get("Allow"))
	}
	if e.s.q.len() != 0 {
		t.Errorf("%d jobs queued from bad requests", e.s.q.len())
	}
}

func TestWebhookToleratesUnknownFieldsAndNotesTruncation(t *testing.T) {
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.lead(t)
	body := payload(t, "firing", cpuAlert("backend", "fp1"))
	body = bytes.Replace(body, []byte(`"truncatedAlerts":0`), []byte(`"truncatedAlerts":7,"someFutureField":{"x":1}`), 1)
	rec, ans := post(t, e.s, "Bearer "+testToken, body)
	if rec.Code != http.StatusAccepted || ans.Accepted != 1 {
		t.Fatalf("status %d %+v, want 202 with one accepted", rec.Code, ans)
	}
	if got := metricValue(e.s.m.truncatedAlerts); got != 7 {
		t.Errorf("truncated alerts counted %v, want 7", got)
	}
}

func TestWebhookQueuesEachAlertInstanceOnce(t *testing.T) {
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.lead(t)
	a, b := cpuAlert("backend", "fp-a"), cpuAlert("frontend", "fp-b")
	refired := a
	refired.StartsAt = a.StartsAt.Add(time.Hour)
	steps := []struct {
		name           string
		body           []byte
		code, acc, dup int
	}{
		{"first delivery", payload(t, "firing", a), http.StatusAccepted, 1, 0},
		{"same delivery again", payload(t, "firing", a), http.StatusOK, 0, 1},
		{"second Alertmanager peer, group with another alert", payload(t, "firing", a, b), http.StatusAccepted, 1, 1},
		{"the same alert twice in one delivery", payload(t, "firing", b, b), http.StatusOK, 0, 2},
		{"the alert fires again later", payload(t, "firing", refired), http.StatusAccepted, 1, 0},
		{"its resolution", payload(t, "resolved", resolvedOf(a)), http.StatusAccepted, 1, 0},
		{"its resolution again", payload(t, "resolved", resolvedOf(a)), http.StatusOK, 0, 1},
	}
	for _, st := range steps {
		rec, ans := post(t, e.s, "Bearer "+testToken, st.body)
		if rec.Code != st.code || ans.Accepted != st.acc || ans.Duplicates != st.dup {
			t.Fatalf("%s: status %d %+v, want %d accepted %d duplicates %d", st.name, rec.Code, ans, st.code, st.acc, st.dup)
		}
	}
	if got := metricValue(e.s.m.deduplicated.WithLabelValues("memory")); got != 5 {
		t.Errorf("deduplicated (memory) %v, want 5", got)
	}
	// The resolution dropped the queued run of the resolved instance, and
	// kept the run of the instance that fired again.
	got := map[string]int{}
	for _, j := range e.s.q.remove(func(*job) bool { return true }) {
		key := string(j.kind) + " " + j.lane
		if j.kind == jobAlert && j.lane == "ai-data-labs/backend" && !j.alert.StartsAt.Equal(refired.StartsAt) {
			key += " (resolved instance)"
		}
		got[key]++
	}
	want := map[string]int{"alert ai-data-labs/backend": 1, "alert ai-data-labs/frontend": 1, "resolve ai-data-labs/backend": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("queued %v, want %v", got, want)
	}
}

func TestWebhookAnswers503WhenTheQueueIsFull(t *testing.T) {
	cfg := quietConfig()
	cfg.QueueSize = 2
	e := newTestEnv(t, cfg, tools.Deps{})
	e.lead(t)
	for _, fp := range []string{"fp1", "fp2"} {
		if rec, _ := post(t, e.s, "Bearer "+testToken, payload(t, "firing", cpuAlert("backend", fp))); rec.Code != http.StatusAccepted {
			t.Fatalf("filling the queue: status %d", rec.Code)
		}
	}
	rec, ans := post(t, e.s, "Bearer "+testToken, payload(t, "firing", cpuAlert("frontend", "fp3"), cpuAlert("clickhouse", "fp4")))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" || !strings.Contains(ans.Error, "full") {
		t.Fatalf("status %d Retry-After %q %q, want 503, Retry-After 5, queue full", rec.Code, rec.Header().Get("Retry-After"), ans.Error)
	}
	if e.s.q.len() != 2 {
		t.Fatalf("queue holds %d jobs, want 2: a refused delivery queues nothing", e.s.q.len())
	}
	// The refused delivery is not remembered: once there is room, its retry is accepted.
	e.s.q.remove(func(*job) bool { return true })
	rec, ans = post(t, e.s, "Bearer "+testToken, payload(t, "firing", cpuAlert("frontend", "fp3"), cpuAlert("clickhouse", "fp4")))
	if rec.Code != http.StatusAccepted || ans.Accepted != 2 {
		t.Fatalf("retry: status %d %+v, want 202 with 2 accepted", rec.Code, ans)
	}
}

func TestFollowerAnswers503SoTheSenderRetries(t *testing.T) {
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	e.s.observe("other-replica")
	rec, ans := post(t, e.s, "Bearer "+testToken, payload(t, "firing", cpuAlert("backend", "fp1")))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(ans.Error, "other-replica") {
		t.Fatalf("status %d %q, want 503 with Retry-After naming the leader", rec.Code, ans.Error)
	}
	// Authentication still comes first on a follower.
	if rec, _ := post(t, e.s, "", payload(t, "firing", cpuAlert("backend", "fp1"))); rec.Code != http.StatusUnauthorized {
		t.Fatalf("unauthenticated on a follower: status %d, want 401", rec.Code)
	}
	// Once it leads, the same delivery is accepted: the follower remembered nothing.
	e.lead(t)
	if rec, _ := post(t, e.s, "Bearer "+testToken, payload(t, "firing", cpuAlert("backend", "fp1"))); rec.Code != http.StatusAccepted {
		t.Fatalf("as leader: status %d, want 202", rec.Code)
	}
}

func TestReadinessNeedsTheStoreAndAKnownLeader(t *testing.T) {
	get := func(s *Server, path string) (int, Readiness) {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var rd Readiness
		_ = json.Unmarshal(rec.Body.Bytes(), &rd)
		return rec.Code, rd
	}
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	if code, _ := get(e.s, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz %d", code)
	}
	if code, rd := get(e.s, "/readyz"); code != http.StatusOK || rd.Leader {
		t.Fatalf("solo replica before leading: %d %+v, want ready, not leader", code, rd)
	}
	e.lead(t)
	if code, rd := get(e.s, "/readyz"); code != http.StatusOK || !rd.Leader {
		t.Fatalf("leading: %d %+v, want ready leader", code, rd)
	}
	_ = e.store.Close()
	if code, rd := get(e.s, "/readyz"); code != http.StatusServiceUnavailable || rd.Store == "ok" {
		t.Fatalf("store closed: %d %+v, want 503 naming the store", code, rd)
	}
	if code, _ := get(e.s, "/metrics"); code != http.StatusOK {
		t.Fatalf("/metrics %d", code)
	}
}

// pausedLeader leads but its lease renewal is overdue (it was paused).
type pausedLeader struct{ Solo }

func (pausedLeader) Elected() bool   { return true }
func (pausedLeader) Confirmed() bool { return false }

func TestLeaderWithAnOverdueLeaseNeitherQueuesNorRuns(t *testing.T) {
	e := newTestEnv(t, quietConfig(), tools.Deps{})
	tm := e.lead(t)
	e.s.q.push(&job{kind: jobAlert, lane: "ai-data-labs/backend", key: "k", fp: "fp", term: tm.id, alert: alert.Alert{Text: "queued before the pause"}})
	e.s.d.Elector = pausedLeader{}
	rec, ans := post(t, e.s, "Bearer "+testToken, payload(t, "firing", cpuAlert("backend", "fp1")))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(ans.Error, "not confirmed") {
		t.Fatalf("status %d %q, want 503: leadership not confirmed", rec.Code, ans.Error)
	}
	e.drain(t)
	if n := len(e.runner.handled()); n != 0 {
		t.Fatalf("%d runs started while the lease renewal was overdue", n)
	}
}
