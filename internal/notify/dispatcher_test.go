package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

// newSlackDispatcher builds a Slack dispatcher on the fake clock; the test's
// cleanup stops it.
func newSlackDispatcher(t *testing.T, url string, fc *testingclock.FakeClock, o DispatcherOptions) *Dispatcher {
	t.Helper()
	o.Clock = fc
	d := NewDispatcher(newTestSlack(t, url), o)
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = d.Close(ctx)
	})
	return d
}

func numbered(i int) platform.Notification {
	return platform.Notification{Severity: "info", Title: fmt.Sprintf("ops-skill: storm #%02d", i), Text: "Action: n" + strconv.Itoa(i)}
}

func TestDispatcherAnswersByStatus(t *testing.T) {
	for _, tc := range []struct {
		name     string
		script   func(i int, r request) answer
		deadline time.Duration
		kinds    []error // nil: delivered
		posts    int
		elapsed  time.Duration
	}{
		{"200 is delivered at once", always(200, "ok"), 0, nil, 1, 0},
		{"202 is delivered at once", always(202, ""), 0, nil, 1, 0},
		{"400 invalid_payload is final after one post", always(400, "invalid_payload"), 0, []error{ErrRejected}, 1, 0},
		{"410 channel_is_archived is final after one post", always(410, "channel_is_archived"), 0, []error{ErrRejected}, 1, 0},
		{"429 waits exactly Retry-After seconds", func(i int, _ request) answer {
			if i == 0 {
				return answer{status: 429, retryAfter: "3"}
			}
			return answer{status: 200, body: "ok"}
		}, 0, nil, 2, 3 * time.Second},
		{"429 waits until a Retry-After date", func(i int, _ request) answer {
			if i == 0 {
				return answer{status: 429, retryAfter: t0.Add(5 * time.Second).Format(http.TimeFormat)}
			}
			return answer{status: 200, body: "ok"}
		}, 0, nil, 2, 5 * time.Second},
		{"500 is retried with backoff 1s then 2s", func(i int, _ request) answer {
			if i < 2 {
				return answer{status: 500, body: "rollup_error"}
			}
			return answer{status: 200, body: "ok"}
		}, 0, nil, 3, 3 * time.Second},
		{"500 until the deadline gives up", always(500, "rollup_error"), 10 * time.Second, []error{ErrGaveUp, ErrUnavailable}, 4, 7 * time.Second},
		{"429 asking past the deadline gives up at once", always(429, "rate_limited"), 0, []error{ErrGaveUp, ErrRateLimited}, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, func(i int, r request) answer {
				a := tc.script(i, r)
				if a.status == 429 && a.retryAfter == "" {
					a.retryAfter = "120"
				}
				return a
			})
			fc := testingclock.NewFakeClock(t0)
			d := newSlackDispatcher(t, rc.URL+"/services/T/B/x", fc, DispatcherOptions{Interval: time.Second, Deadline: tc.deadline})
			var err error
			run(t, fc, func() { err = d.Notify(context.Background(), cpuIncident()) }, d)
			checkKinds(t, err, tc.kinds)
			if got := len(rc.requests()); got != tc.posts {
				t.Errorf("%d posts, want %d", got, tc.posts)
			}
			if got := fc.Now().Sub(t0); got != tc.elapsed {
				t.Errorf("virtual time %s, want %s", got, tc.elapsed)
			}
		})
	}
}

func checkKinds(t *testing.T, err error, kinds []error) {
	t.Helper()
	if kinds == nil {
		if err != nil {
			t.Fatalf("err = %v, want delivered", err)
		}
		return
	}
	var de *DeliveryError
	if !errors.As(err, &de) || !errors.Is(err, ErrDelivery) {
		t.Fatalf("err = %v, want a *DeliveryError", err)
	}
	for _, k := range kinds {
		if !errors.Is(err, k) {
			t.Errorf("err = %v, want errors.Is %v", err, k)
		}
	}
}

func TestDispatcherNetworkErrorsAreRetriedUntilTheDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // connections are now refused
	fc := testingclock.NewFakeClock(t0)
	d := newSlackDispatcher(t, "http://"+addr+"/services/T/B/x", fc, DispatcherOptions{Deadline: 5 * time.Second})
	run(t, fc, func() { err = d.Notify(context.Background(), cpuIncident()) }, d)
	checkKinds(t, err, []error{ErrGaveUp})
	var de *DeliveryError
	if errors.As(err, &de); de.Attempts != 3 || fc.Now().Sub(t0) != 3*time.Second {
		t.Errorf("attempts %d at %s, want 3 at 3s (0, +1s, +2s; +4s passes the deadline): %v", de.Attempts, fc.Now().Sub(t0), err)
	}
}

func TestDispatcherTimesOutAHangingReceiverOnTheClock(t *testing.T) {
	rc := newReceiver(t, func(int, request) answer { return answer{hang: true} })
	fc := testingclock.NewFakeClock(t0)
	d := newSlackDispatcher(t, rc.URL+"/services/T/B/x", fc, DispatcherOptions{Deadline: 15 * time.Second, AttemptTimeout: 5 * time.Second})
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		err = d.Notify(context.Background(), cpuIncident())
	}()
	drive(t, fc, done, rc.hung, d)
	// Attempts at 0s (times out at 5s), 6s (11s), 13s (cut to the 15s deadline); the next would be at 19s.
	checkKinds(t, err, []error{ErrGaveUp, context.DeadlineExceeded})
	var de *DeliveryError
	if errors.As(err, &de); de.Attempts != 3 || fc.Now().Sub(t0) != 15*time.Second {
		t.Errorf("attempts %d at %s, want 3 at 15s: %v", de.Attempts, fc.Now().Sub(t0), err)
	}
}

func TestDispatcherPacesOneMessagePerSecond(t *testing.T) {
	var mu sync.Mutex
	var at []time.Duration
	fc := testingclock.NewFakeClock(t0)
	rc := newReceiver(t, func(int, request) answer {
		mu.Lock()
		at = append(at, fc.Now().Sub(t0))
		mu.Unlock()
		return answer{status: 200, body: "ok"}
	})
	d := newSlackDispatcher(t, rc.URL+"/services/T/B/x", fc, DispatcherOptions{Interval: time.Second, MaxBatch: 1})
	for i := range 4 {
		if err := d.Enqueue(numbered(i)); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	run(t, fc, func() { err = d.Flush(context.Background()) }, d)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}
	if fmt.Sprint(at) != fmt.Sprint(want) {
		t.Errorf("posts at %v, want %v", at, want)
	}
}

// gated answers 200, holding the first request until release is closed.
func gated(first chan<- struct{}, release <-chan struct{}, then func(i int, r request) answer) func(int, request) answer {
	return func(i int, r request) answer {
		if i == 0 {
			first <- struct{}{}
			<-release
			return answer{status: 200, body: "ok"}
		}
		return then(i, r)
	}
}

var titleRE = regexp.MustCompile(`storm #(\d+)`)

// titles lists the storm numbers of a Slack body's headers, in order.
func titles(body []byte) []int {
	var out []int
	for _, m := range regexp.MustCompile(`"type":"header","text":\{"type":"plain_text","text":"[^"]*storm #(\d+)`).FindAllSubmatch(body, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		out = append(out, n)
	}
	return out
}

func TestDispatcherCoalescesWhatQueuesDuringTheWait(t *testing.T) {
	first, release := make(chan struct{}), make(chan struct{})
	rc := newReceiver(t, gated(first, release, always(200, "ok")))
	fc := testingclock.NewFakeClock(t0)
	d := newSlackDispatcher(t, rc.URL+"/services/T/B/x", fc, DispatcherOptions{Interval: time.Second, MaxBatch: SlackMaxBatch})
	_ = d.Enqueue(numbered(1))
	<-first
	for i := 2; i <= 11; i++ {
		_ = d.Enqueue(numbered(i))
	}
	close(release)
	var err error
	run(t, fc, func() { err = d.Flush(context.Background()) }, d)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]int
	for _, r := range rc.requests() {
		got = append(got, titles(r.Body))
	}
	if want := "[[1] [2 3 4 5 6 7 8] [9 10 11]]"; fmt.Sprint(got) != want {
		t.Errorf("messages %v, want %s", got, want)
	}
	if s := d.Stats(); s.Messages != 3 || s.Delivered != 11 {
		t.Errorf("stats %+v", s)
	}
}

func TestDispatcherDeliversA429StormInOrder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxBatch int
		messages int
		elapsed  time.Duration
	}{
		{"coalesced (Slack, 7 per message)", SlackMaxBatch, 3, 7 * time.Second},
		{"one per message", 1, 20, 24 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const storm = 5 // the first five posts are answered 429 Retry-After: 1
			rc := newReceiver(t, func(i int, _ request) answer {
				if i < storm {
					return answer{status: 429, body: "rate_limited", retryAfter: "1"}
				}
				return answer{status: 200, body: "ok"}
			})
			fc := testingclock.NewFakeClock(t0)
			d := newSlackDispatcher(t, rc.URL+"/services/T/B/x", fc, DispatcherOptions{Interval: time.Second, MaxBatch: tc.maxBatch})
			errs := make([]error, 20)
			run(t, fc, func() {
				var wg sync.WaitGroup
				for i := range 20 {
					it, err := d.submit(numbered(i+1), true)
					if err != nil {
						t.Error(err)
						continue
					}
					wg.Go(func() { errs[i] = d.wait(context.Background(), it) })
				}
				wg.Wait()
			}, d)
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			var order []int
			for _, r := range rc.requests()[storm:] {
				order = append(order, titles(r.Body)...)
			}
			for i, n := range order {
				if n != i+1 || len(order) != 20 {
					t.Fatalf("delivered %v, want 1..20 in order", order)
				}
			}
			s := d.Stats()
			elapsed := fc.Now().Sub(t0)
			t.Logf("429 storm (%d × 429 Retry-After: 1, 20 notifications): delivered in %s of virtual time, %d messages, %d posts", storm, elapsed, s.Messages, s.Posts)
			if s.Messages != tc.messages || elapsed != tc.elapsed {
				t.Errorf("%d messages in %s, want %d in %s", s.Messages, elapsed, tc.messages, tc.elapsed)
			}
		})
	}
}

func TestDispatcherSplitsACoalescedMessageTheReceiverRejects(t *testing.T) {
	first, release := make(chan struct{}), make(chan struct{})
	rc := newReceiver(t, gated(first, release, func(_ int, r request) answer {
		if regexp.MustCompile(`storm #13`).Match(r.Body) {
			return answer{status: 400, body: "invalid_payload"}
		}
		return answer{status: 200, body: "ok"}
	}))
	fc := testingclock.NewFakeClock(t0)
	d := newSlackDispatcher(t, rc.URL+"/services/T/B/x", fc, DispatcherOptions{Interval: time.Second, MaxBatch: SlackMaxBatch})
	_ = d.Enqueue(numbered(1))
	<-first
	for _, i := range []int{12, 13, 14} {
		_ = d.Enqueue(numbered(i))
	}
	close(release)
	var err error
	run(t, fc, func() { err = d.Flush(context.Background()) }, d)
	if !errors.Is(err, ErrRejected) || !regexp.MustCompile(`invalid_payload`).MatchString(err.Error()) {
		t.Fatalf("flush err = %v, want the rejected notification", err)
	}
	var got [][]int
	for _, r := range rc.requests() {
		got = append(got, titles(r.Body))
	}
	if want := "[[1] [12 13 14] [12] [13] [14]]"; fmt.Sprint(got) != want {
		t.Errorf("posts %v, want %s", got, want)
	}
	if s := d.Stats(); s.Delivered != 3 || s.Failed != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestDispatcherStopsPostingToAWebhookThatIsGone(t *testing.T) {
	rc := newReceiver(t, always(http.StatusGone, "channel_is_archived"))
	fc := testingclock.NewFakeClock(t0)
	d := newSlackDispatcher(t, rc.URL+"/services/T/B/x", fc, DispatcherOptions{Interval: time.Second})
	var err1, err2 error
	run(t, fc, func() {
		err1 = d.Notify(context.Background(), numbered(1))
		err2 = d.Notify(context.Background(), numbered(2))
	}, d)
	for _, err := range []error{err1, err2} {
		if !errors.Is(err, ErrRejected) {
			t.Errorf("err = %v", err)
		}
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("%d posts to a gone webhook, want 1", n)
	}
}

func TestDispatcherKeepsANotificationWhoseCallerStoppedWaiting(t *testing.T) {
	var mu sync.Mutex
	ok := false
	got := make(chan struct{}, 8)
	rc := newReceiver(t, func(int, request) answer {
		got <- struct{}{}
		mu.Lock()
		defer mu.Unlock()
		if ok {
			return answer{status: 200, body: "ok"}
		}
		return answer{status: 503, body: "busy"}
	})
	fc := testingclock.NewFakeClock(t0)
	d := newSlackDispatcher(t, rc.URL+"/services/T/B/x", fc, DispatcherOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		err = d.Notify(ctx, cpuIncident())
	}()
	<-got
	cancel()
	<-done
	if !errors.Is(err, ErrPending) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrPending", err)
	}
	mu.Lock()
	ok = true
	mu.Unlock()
	run(t, fc, func() { err = d.Flush(context.Background()) }, d)
	if err != nil || d.Stats().Delivered != 1 {
		t.Fatalf("flush = %v, stats %+v", err, d.Stats())
	}
}

func TestDispatcherCloseReportsWhatItCouldNotDeliver(t *testing.T) {
	rc := newReceiver(t, always(500, "down"))
	fc := testingclock.NewFakeClock(t0)
	d := newSlackDispatcher(t, rc.URL+"/services/T/B/x", fc, DispatcherOptions{})
	_ = d.Enqueue(numbered(1))
	_ = d.Enqueue(numbered(2))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := d.Close(ctx)
	if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrPending) {
		t.Fatalf("close = %v, want ErrClosed and ErrPending", err)
	}
	if err := d.Notify(context.Background(), numbered(3)); !errors.Is(err, ErrClosed) {
		t.Errorf("notify after close = %v", err)
	}
	if err := d.Close(context.Background()); err != nil {
		t.Errorf("second close = %v", err)
	}
}

func TestDispatcherRefusesBeyondItsQueue(t *testing.T) {
	first, release := make(chan struct{}), make(chan struct{})
	rc := newReceiver(t, gated(first, release, always(200, "ok")))
	fc := testingclock.NewFakeClock(t0)
	d := newSlackDispatcher(t, rc.URL+"/services/T/B/x", fc, DispatcherOptions{QueueSize: 1})
	_ = d.Enqueue(numbered(1))
	<-first
	if err := d.Enqueue(numbered(2)); err != nil {
		t.Fatal(err)
	}
	if err := d.Enqueue(numbered(3)); !errors.Is(err, ErrQueueFull) {
		t.Errorf("err = %v, want ErrQueueFull", err)
	}
	close(release)
	var err error
	run(t, fc, func() { err = d.Flush(context.Background()) }, d)
	if err != nil {
		t.Fatal(err)
	}
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {6, 30 * time.Second}, {60, 30 * time.Second}} {
		if got := backoff(tc.failures, time.Second, 30*time.Second); got != tc.want {
			t.Errorf("backoff(%d) = %s, want %s", tc.failures, got, tc.want)
		}
	}
}

func TestRetryAfterParsesSecondsAndDates(t *testing.T) {
	for _, tc := range []struct {
		h    string
		want time.Duration
	}{{"", 0}, {"7", 7 * time.Second}, {"-3", 0}, {"soon", 0},
		{t0.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second}, {t0.Add(-time.Minute).Format(http.TimeFormat), 0}} {
		if got := retryAfter(tc.h, t0); got != tc.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tc.h, got, tc.want)
		}
	}
}
