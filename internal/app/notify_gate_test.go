package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// receiver is a real HTTP webhook receiver on loopback that keeps every body.
type receiver struct {
	mu     sync.Mutex
	bodies []string
	srv    *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// TestNothingLeavesTheMachineByAccident runs incidents with Slack and the
// generic webhook configured: simulated runs without --notify and observe
// runs must send nothing; with --notify every message says SIMULATED.
func TestNothingLeavesTheMachineByAccident(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		messages int // per channel
	}{
		{"simulated run sends nothing", []string{highCPUAlert}, 0},
		{"simulated escalation pages nobody", []string{oomAlert}, 0},
		{"observe mode sends nothing even with --notify", []string{"--notify", "--mode", "observe", highCPUAlert}, 0},
		{"approve without a terminal sends nothing unasked", []string{"--mode", "approve", highCPUAlert}, 0},
		{"--notify sends, marked SIMULATED", []string{"--notify", highCPUAlert}, 1},
		{"--notify sends the escalation, marked SIMULATED", []string{"--notify", oomAlert}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			slack, hook := newReceiver(t), newReceiver(t)
			h := newHarness(t)
			h.env["ALERT_WEBHOOK"], h.env["GENERIC_WEBHOOK_URL"] = slack.srv.URL+"/services/x", hook.srv.URL+"/hook"
			h.run(c.args...)
			for name, r := range map[string]*receiver{"slack": slack, "webhook": hook} {
				got := r.received()
				if len(got) != c.messages {
					t.Fatalf("%s received %d messages, want %d: %q\nstdout: %s", name, len(got), c.messages, got, h.out.String())
				}
				for _, b := range got {
					if !strings.Contains(b, "[SIMULATED]") || !strings.Contains(b, "SIMULATED (scenario") {
						t.Errorf("%s message does not say SIMULATED: %s", name, b)
					}
				}
			}
			if c.messages == 0 && !strings.Contains(h.out.String(), "Notification not sent: ") && strings.Contains(h.out.String(), "Notification") {
				t.Errorf("the transcript does not say why nothing was sent:\n%s", h.out.String())
			}
		})
	}
}
