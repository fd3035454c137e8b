package prom

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

// seen is one request the fake server received.
type seen struct {
	method string
	path   string
	form   url.Values
	auth   string
}

// fakeProm speaks the Prometheus HTTP API: it answers every request with
// status and body, or, when hang is set, waits until the client gives up.
type fakeProm struct {
	mu     sync.Mutex
	status int
	body   string
	hang   bool
	seen   []seen
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	f.seen = append(f.seen, seen{method: r.Method, path: r.URL.Path, form: r.Form, auth: r.Header.Get("Authorization")})
	status, body, hang := f.status, f.body, f.hang
	f.mu.Unlock()
	if hang {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (f *fakeProm) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.seen...)
}

// serve starts a fake Prometheus answering status and body.
func serve(t *testing.T, status int, body string) (*fakeProm, *httptest.Server) {
	t.Helper()
	f := &fakeProm{status: status, body: body}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// t0 is the fixed "now" of the unit tests.
var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// newClient builds a client on url with a fake clock at t0.
func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = clocktesting.NewFakePassiveClock(t0)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

var backend = platform.WorkloadRef{Namespace: "ai-data-labs", Name: "backend"}

// Envelopes of the Prometheus HTTP API.
const (
	vectorOne = `{"status":"success","data":{"resultType":"vector","result":[
		{"metric":{},"value":[1767268800,"85.5"]}]}}`
	vectorTwo = `{"status":"success","data":{"resultType":"vector","result":[
		{"metric":{"pod":"b"},"value":[1767268800,"1"]},{"metric":{"pod":"a"},"value":[1767268800,"2"]}]}}`
	vectorEmpty = `{"status":"success","data":{"resultType":"vector","result":[]}}`
	matrixOne   = `{"status":"success","data":{"resultType":"matrix","result":[
		{"metric":{"job":"x"},"values":[[1767268740,"81"],[1767268770,"82.5"],[1767268800,"84"]]}]}}`
)

func durationOf(ns int64) time.Duration { return time.Duration(ns) }
