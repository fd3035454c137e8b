//go:build integration

package serve

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/store/pgtest"
	"github.com/duet-company/ops-skill/tools"
)

// TestReadinessFollowsPostgres: /readyz is 200 while PostgreSQL answers, 503
// naming the store (not its password) while it is down, and 200 again once
// it is back, with the same Store handle.
func TestReadinessFollowsPostgres(t *testing.T) {
	pg := pgtest.StartServer(t)
	const password = "readiness-s3cret-pw"
	e := newTestEnvAt(t, quietConfig(), tools.Deps{}, pg.URL(password))
	readyz := func() (int, Readiness, string) {
		rec := httptest.NewRecorder()
		e.s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var rd Readiness
		_ = json.Unmarshal(rec.Body.Bytes(), &rd)
		return rec.Code, rd, rec.Body.String()
	}
	if code, rd, _ := readyz(); code != http.StatusOK || rd.Store != "ok" {
		t.Fatalf("PostgreSQL up: %d %+v, want ready", code, rd)
	}
	pg.Stop()
	code, rd, body := readyz()
	if code != http.StatusServiceUnavailable || rd.Ready || rd.Store == "ok" || rd.Store == "" {
		t.Errorf("PostgreSQL down: %d %+v, want 503 saying what the store answered", code, rd)
	}
	if strings.Contains(body, password) {
		t.Errorf("/readyz shows the store's password: %s", body)
	}
	pg.Start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, rd, _ := readyz()
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL back: still %d %+v after 30s", code, rd)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
