package health

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// switchable is an HTTP /health endpoint whose status the test sets.
type switchable struct{ status atomic.Int32 }

func (s *switchable) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	code := int(s.status.Load())
	w.WriteHeader(code)
	if code != http.StatusOK {
		_, _ = w.Write([]byte("database down"))
	}
}

func httpService(t *testing.T, status int) (*switchable, string) {
	t.Helper()
	s := &switchable{}
	s.status.Store(int32(status))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL + "/health"
}

// lineServer accepts connections and answers each with reply (nil: never).
func lineServer(t *testing.T, reply []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 64)
				_, _ = conn.Read(buf)
				if reply == nil {
					<-done
					return
				}
				_, _ = conn.Write(reply)
			}()
		}
	}()
	return ln.Addr().String()
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func checker(t *testing.T, m Matrix) (*Checker, *clocktesting.FakeClock) {
	t.Helper()
	clk := clocktesting.NewFakeClock(t0)
	c, err := New(m.WithDefaults(30*time.Second), clk)
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}

func TestEachProbeTellsHealthyFromUnhealthy(t *testing.T) {
	_, okURL := httpService(t, http.StatusOK)
	_, noContentURL := httpService(t, http.StatusNoContent)
	_, badURL := httpService(t, http.StatusServiceUnavailable)
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hang.Close)
	open := lineServer(t, []byte("x"))
	cases := []struct {
		name   string
		check  Check
		ok     bool
		detail string
	}{
		{"http 200", Check{Type: HTTP, Target: okURL}, true, ""},
		{"http 204", Check{Type: HTTP, Target: noContentURL}, true, ""},
		{"http 503", Check{Type: HTTP, Target: badURL}, false, "HTTP 503 from /health: database down"},
		{"http refused", Check{Type: HTTP, Target: "http://" + closedAddr(t) + "/health"}, false, "connection refused"},
		{"http timeout", Check{Type: HTTP, Target: hang.URL + "/health", Timeout: 50 * time.Millisecond}, false, "no answer within 50ms (timeout)"},
		{"tcp open", Check{Type: TCP, Target: open}, true, ""},
		{"tcp refused", Check{Type: TCP, Target: closedAddr(t)}, false, "connection refused"},
		{"redis pong", Check{Type: Redis, Target: lineServer(t, []byte("+PONG\r\n"))}, true, ""},
		{"redis needs auth but is alive", Check{Type: Redis, Target: lineServer(t, []byte("-NOAUTH Authentication required.\r\n"))}, true, ""},
		{"redis loading", Check{Type: Redis, Target: lineServer(t, []byte("-LOADING Redis is loading the dataset in memory\r\n"))}, false, "LOADING"},
		{"redis silent", Check{Type: Redis, Target: lineServer(t, nil), Timeout: 50 * time.Millisecond}, false, "timeout"},
		{"postgres answers N", Check{Type: Postgres, Target: lineServer(t, []byte("N"))}, true, ""},
		{"postgres answers garbage", Check{Type: Postgres, Target: lineServer(t, []byte("HTTP/1.1 400"))}, false, "unexpected reply"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.check.Service = "svc"
			c, _ := checker(t, Matrix{tc.check})
			res, err := c.Check(context.Background(), "svc")
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tc.ok || !strings.Contains(res.Detail, tc.detail) {
				t.Fatalf("result = %+v, want ok=%v detail containing %q", res, tc.ok, tc.detail)
			}
		})
	}
}

func TestServiceWithSeveralChecksFailsOnAnyAndNamesIt(t *testing.T) {
	_, okURL := httpService(t, http.StatusOK)
	c, _ := checker(t, Matrix{
		{Service: "clickhouse", Type: HTTP, Target: okURL},
		{Service: "clickhouse", Type: TCP, Target: closedAddr(t)},
	})
	res, err := c.Check(context.Background(), "clickhouse")
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !strings.HasPrefix(res.Detail, "tcp ") || !strings.Contains(res.Check, "http /health + tcp ") {
		t.Fatalf("result = %+v, want the tcp check's failure", res)
	}
}

func TestConsecutiveFailuresCountOncePerIntervalAndResetOnSuccess(t *testing.T) {
	svc, url := httpService(t, http.StatusServiceUnavailable)
	c, clk := checker(t, Matrix{{Service: "backend", Type: HTTP, Target: url}})
	steps := []struct {
		name    string
		advance time.Duration
		status  int
		want    int
	}{
		{"first failure", 0, 503, 1},
		{"checked again too soon", 5 * time.Second, 503, 1},
		{"one interval after the first", 25 * time.Second, 503, 2},
		{"within jitter of the interval", 28 * time.Second, 503, 3},
		{"success resets", 30 * time.Second, 200, 0},
		{"failure right after a success", 1 * time.Second, 503, 1},
		{"next interval", 30 * time.Second, 503, 2},
		{"after a missed interval the run starts again", 61 * time.Second, 503, 1},
	}
	for _, s := range steps {
		clk.Step(s.advance)
		svc.status.Store(int32(s.status))
		res, err := c.Check(context.Background(), "backend")
		if err != nil {
			t.Fatal(err)
		}
		if res.ConsecutiveFailures != s.want || !res.At.Equal(clk.Now()) {
			t.Fatalf("%s: consecutive failures = %d at %s, want %d at %s", s.name, res.ConsecutiveFailures, res.At, s.want, clk.Now())
		}
	}
}

func TestUnknownServiceIsNotFound(t *testing.T) {
	c, _ := checker(t, Matrix{{Service: "redis", Type: TCP, Target: closedAddr(t)}})
	_, err := c.Check(context.Background(), "kafka")
	if !errors.Is(err, platform.ErrNotFound) || !strings.Contains(err.Error(), "redis") {
		t.Fatalf("err = %v, want ErrNotFound listing the services", err)
	}
}

func TestCancelledCheckDoesNotCountAsAFailure(t *testing.T) {
	c, _ := checker(t, Matrix{{Service: "redis", Type: TCP, Target: closedAddr(t)}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Check(ctx, "redis"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	res, _ := c.Check(context.Background(), "redis")
	if res.ConsecutiveFailures != 1 {
		t.Fatalf("failures = %d, want 1 (the cancelled check must not count)", res.ConsecutiveFailures)
	}
}

func TestRunOnceChecksEveryServiceInMatrixOrder(t *testing.T) {
	_, okURL := httpService(t, http.StatusOK)
	c, _ := checker(t, Matrix{
		{Service: "backend", Type: HTTP, Target: okURL},
		{Service: "redis", Type: Redis, Target: lineServer(t, []byte("+PONG\r\n"))},
		{Service: "postgresql", Type: TCP, Target: closedAddr(t)},
	})
	got := c.RunOnce(context.Background())
	want := []struct {
		service string
		ok      bool
	}{{"backend", true}, {"redis", true}, {"postgresql", false}}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Service != w.service || got[i].OK != w.ok {
			t.Errorf("result %d = %s ok=%v, want %s ok=%v", i, got[i].Service, got[i].OK, w.service, w.ok)
		}
	}
}

func TestRunRepeatsEveryIntervalUntilCancelled(t *testing.T) {
	c, clk := checker(t, Matrix{{Service: "redis", Type: TCP, Target: closedAddr(t)}})
	ctx, cancel := context.WithCancel(context.Background())
	rounds := make(chan []platform.HealthResult)
	done := make(chan error)
	go func() { done <- c.Run(ctx, func(r []platform.HealthResult) { rounds <- r }) }()
	first := <-rounds
	if !clk.HasWaiters() { // Run makes its ticker before the first round
		t.Fatal("Run has no ticker on the clock")
	}
	clk.Step(30 * time.Second)
	second := <-rounds
	if first[0].ConsecutiveFailures != 1 || second[0].ConsecutiveFailures != 2 {
		t.Fatalf("failures %d then %d, want 1 then 2", first[0].ConsecutiveFailures, second[0].ConsecutiveFailures)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
}

func TestPrintTable(t *testing.T) {
	var b bytes.Buffer
	failing, err := PrintTable(&b, []platform.HealthResult{
		{Service: "backend", Check: "http /health", OK: true, Latency: 1500 * time.Microsecond},
		{Service: "redis", Check: "tcp 6379", Detail: "connect 127.0.0.1:6379: connection refused", ConsecutiveFailures: 3, Latency: 200 * time.Microsecond},
	})
	if err != nil || failing != 1 {
		t.Fatalf("failing = %d, err = %v", failing, err)
	}
	want := "SERVICE  CHECK         STATUS  LATENCY  FAILS  DETAIL\n" +
		"backend  http /health  ok      1.5ms    0      \n" +
		"redis    tcp 6379      FAIL    200µs    3      connect 127.0.0.1:6379: connection refused\n" +
		"1 of 2 services healthy\n"
	if b.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestMatrixValidation(t *testing.T) {
	cases := []struct {
		name string
		m    Matrix
		msg  string
	}{
		{"empty", Matrix{}, "empty"},
		{"no service", Matrix{{Type: TCP, Target: "a:1"}}, "service is empty"},
		{"unknown type", Matrix{{Service: "s", Type: "icmp", Target: "a"}}, `type "icmp"`},
		{"http without scheme", Matrix{{Service: "s", Type: HTTP, Target: "backend/health"}}, "http(s) URL"},
		{"tcp without port", Matrix{{Service: "s", Type: TCP, Target: "redis"}}, "host:port"},
		{"timeout over interval", Matrix{{Service: "s", Type: TCP, Target: "a:1", Timeout: time.Minute}}, "at most the interval"},
		{"two intervals for one service", Matrix{
			{Service: "s", Type: TCP, Target: "a:1", Interval: time.Minute},
			{Service: "s", Type: TCP, Target: "a:2"},
		}, "one interval per service"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.WithDefaults(30 * time.Second).Validate()
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
		})
	}
}

func TestDefaultMatrixIsTheSpecsMatrix(t *testing.T) {
	m := DefaultMatrix("ai-data-labs", 0)
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := New(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Services(), ","); got != "backend,frontend,clickhouse,postgresql,redis" {
		t.Fatalf("services = %s", got)
	}
	var labels []string
	for _, ch := range m {
		labels = append(labels, ch.Service+" "+ch.Label())
		if ch.Interval != DefaultInterval || ch.Timeout != DefaultTimeout {
			t.Errorf("%s: interval %s timeout %s, want defaults", ch.Service, ch.Interval, ch.Timeout)
		}
	}
	want := "backend http /health,frontend http /health,clickhouse tcp 8123,clickhouse http /ping,postgresql tcp 5432,redis tcp 6379"
	if got := strings.Join(labels, ","); got != want {
		t.Fatalf("checks = %s\nwant %s", got, want)
	}
}
