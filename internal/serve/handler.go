package serve

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/duet-company/ops-skill/internal/alert"
)

// Answer is the JSON body of a webhook response.
type Answer struct {
	// Accepted counts the alerts queued for work.
	Accepted int `json:"accepted"`
	// Duplicates counts alerts already queued or handled (not queued again).
	Duplicates int `json:"duplicates"`
	// Rejected counts alerts that could not be read; the rest were accepted.
	Rejected int `json:"rejected,omitempty"`
	// Error says why the delivery was refused.
	Error string `json:"error,omitempty"`
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/webhook", s.webhook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.d.Prometheus, promhttp.HandlerOpts{}))
	if s.d.MCP != nil {
		mux.HandleFunc("/mcp", s.mcp)
	}
	return mux
}

// webhook receives an Alertmanager delivery: authenticate, bound, decode,
// de-duplicate, queue, answer — the work itself happens later.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	start := s.d.Clock.Now()
	code := s.receive(w, r)
	s.m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
	s.m.requestSeconds.Observe(s.d.Clock.Since(start).Seconds())
}

func (s *Server) receive(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return reply(w, http.StatusMethodNotAllowed, Answer{Error: "POST an Alertmanager webhook payload (version 4)"})
	}
	if ok, why := s.auth.check(r); !ok {
		s.log.Warn("webhook refused: not authenticated", "remote", r.RemoteAddr, "why", why)
		w.Header().Set("WWW-Authenticate", s.auth.challenge())
		return reply(w, http.StatusUnauthorized, Answer{Error: "authentication required: " + why})
	}
	body, code, err := s.readBody(w, r)
	if err != nil {
		s.log.Warn("webhook refused", "remote", r.RemoteAddr, "status", code, "error", err.Error())
		return reply(w, code, Answer{Error: err.Error()})
	}
	wh, err := alert.DecodeWebhook(body, false)
	if err != nil {
		s.log.Warn("webhook refused: unreadable payload", "remote", r.RemoteAddr, "error", err.Error())
		return reply(w, http.StatusBadRequest, Answer{Error: err.Error()})
	}
	if wh.TruncatedAlerts > 0 {
		s.m.truncatedAlerts.Add(float64(wh.TruncatedAlerts))
		s.log.Warn("Alertmanager truncated the delivery: raise max_alerts in the receiver to see every alert",
			"groupKey", wh.GroupKey, "truncatedAlerts", wh.TruncatedAlerts, "received", len(wh.Alerts))
	}
	for _, wa := range wh.Alerts {
		s.m.alertsReceived.WithLabelValues(statusOf(wa)).Inc()
	}
	ans, code := s.accept(wh)
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter/time.Second)))
	}
	if ans.Rejected > 0 && ans.Accepted == 0 && ans.Duplicates == 0 && code < 300 {
		code = http.StatusBadRequest
		ans.Error = "no alert of the delivery could be read"
	}
	return reply(w, code, ans)
}

// readBody reads at most MaxBodyBytes; more is 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	limit := s.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge, errTooLarge(r.ContentLength, limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge, errTooLarge(-1, limit)
	case err != nil:
		return nil, http.StatusBadRequest, errors.New("reading the request body failed: " + err.Error())
	}
	return body, 0, nil
}

func errTooLarge(size, limit int64) error {
	if size < 0 {
		return errors.New("the body is larger than " + strconv.FormatInt(limit, 10) + " bytes: lower max_alerts in the Alertmanager receiver")
	}
	return errors.New("the body is " + strconv.FormatInt(size, 10) + " bytes, more than " + strconv.FormatInt(limit, 10) +
		": lower max_alerts in the Alertmanager receiver")
}

// accept queues the alerts of a delivery not seen before, all or none. The
// duplicate check comes first and needs only each alert's key, so a storm
// of duplicates is answered without parsing them.
func (s *Server) accept(wh alert.Webhook) (Answer, int) {
	t, why := s.acting()
	if t == nil {
		return Answer{Error: why + ": retry later"}, http.StatusServiceUnavailable
	}
	keys, fps := make([]string, len(wh.Alerts)), make([]string, len(wh.Alerts))
	for i, wa := range wh.Alerts {
		fps[i] = fingerprintOf(wh, wa)
		keys[i] = DeliveryKey(fps[i], wa.StartsAt, statusOf(wa))
	}
	fresh := s.seen.addAll(keys)
	ans := Answer{Duplicates: len(wh.Alerts) - len(fresh)}
	if ans.Duplicates > 0 {
		s.m.deduplicated.WithLabelValues("memory").Add(float64(ans.Duplicates))
	}
	jobs, unread := s.intake(wh, keys, fps, fresh)
	s.seen.forget(unread)
	ans.Accepted, ans.Rejected = len(jobs), len(unread)
	for _, j := range jobs {
		j.term, j.queued = t.id, s.d.Clock.Now()
	}
	if err := s.q.push(jobs...); err != nil {
		s.seen.forget(fresh)
		s.log.Warn("webhook refused: "+err.Error(), "jobs", len(jobs), "queued", s.q.len())
		return Answer{Error: err.Error() + ": retry later"}, http.StatusServiceUnavailable
	}
	for _, j := range jobs {
		if j.kind == jobResolve {
			s.cancelFiring(j)
		}
	}
	if ans.Accepted == 0 {
		return ans, http.StatusOK
	}
	return ans, http.StatusAccepted
}

// cancelFiring drops queued runs of an alert that is now resolved.
func (s *Server) cancelFiring(resolved *job) {
	dropped := s.q.remove(func(j *job) bool {
		return j.kind == jobAlert && j.fp == resolved.fp && j.alert.StartsAt.Equal(resolved.alert.StartsAt)
	})
	for _, j := range dropped {
		s.m.abandoned.WithLabelValues("resolved").Inc()
		s.log.Info("alert resolved before its run started: not running it", "fingerprint", j.fp, "target", j.lane)
	}
}

// Readiness is the JSON body of /readyz.
type Readiness struct {
	Ready    bool   `json:"ready"`
	Leader   bool   `json:"leader"`
	Observed string `json:"observedLeader,omitempty"`
	Identity string `json:"identity"`
	Store    string `json:"store"`
	Queued   int    `json:"queued"`
}

// readyz is ready when the store answers and, when replicas compete, the
// leadership is known (this replica leads, or it has seen who does).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	rd := Readiness{Identity: s.d.Elector.Identity(), Store: "ok", Queued: s.q.len()}
	storeErr := s.led.probe(ctx)
	if storeErr != nil {
		rd.Store = storeErr.Error()
	}
	s.mu.Lock()
	rd.Leader, rd.Observed = s.term != nil, s.leader
	known := s.observed || !s.d.Elector.Elected()
	draining := s.draining
	s.mu.Unlock()
	rd.Ready = storeErr == nil && known && !draining
	code := http.StatusOK
	if !rd.Ready {
		code = http.StatusServiceUnavailable
	}
	reply(w, code, rd)
}

// reply writes a JSON answer and returns its status code.
func reply(w http.ResponseWriter, code int, body any) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
	return code
}
