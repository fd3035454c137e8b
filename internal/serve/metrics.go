package serve

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/tools"
)

// Metrics are the server's Prometheus metrics, registered on a registry the
// caller owns (never the global one).
type Metrics struct {
	requests        *prometheus.CounterVec
	requestSeconds  prometheus.Histogram
	alertsReceived  *prometheus.CounterVec
	deduplicated    *prometheus.CounterVec
	truncatedAlerts prometheus.Counter
	rejectedAlerts  prometheus.Counter
	actions         *prometheus.CounterVec
	refusals        *prometheus.CounterVec
	runs            *prometheus.CounterVec
	runSeconds      prometheus.Histogram
	llmCalls        prometheus.Counter
	llmTokens       *prometheus.CounterVec
	queueDepth      prometheus.Gauge
	inFlight        prometheus.Gauge
	loopSeconds     *prometheus.HistogramVec
	leader          prometheus.Gauge
	incidentsClosed prometheus.Counter
	abandoned       *prometheus.CounterVec
	ledgerPruned    prometheus.Counter
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ops_skill_serve_webhook_requests_total",
			Help: "Webhook requests by HTTP status code."}, []string{"code"}),
		requestSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ops_skill_serve_webhook_request_seconds",
			Help: "Time to answer a webhook request.", Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5, 1}}),
		alertsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ops_skill_serve_alerts_received_total",
			Help: "Alerts received in accepted webhook deliveries, by status (firing, resolved)."}, []string{"status"}),
		deduplicated: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ops_skill_serve_deliveries_deduplicated_total",
			Help: "Alert deliveries recognised as already handled, by where (memory: this process; ledger: the shared history)."}, []string{"layer"}),
		truncatedAlerts: prometheus.NewCounter(prometheus.CounterOpts{Name: "ops_skill_serve_truncated_alerts_total",
			Help: "Alerts Alertmanager left out of deliveries (truncatedAlerts)."}),
		rejectedAlerts: prometheus.NewCounter(prometheus.CounterOpts{Name: "ops_skill_serve_alerts_rejected_total",
			Help: "Alerts of accepted deliveries that could not be read (no text, too long)."}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ops_skill_serve_actions_total",
			Help: "Tool calls by tool and outcome (ok, executed, dry_run, refused, invalid, failed, cancelled)."}, []string{"tool", "outcome"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ops_skill_serve_refusals_total",
			Help: "Refused actions by the rule that refused them."}, []string{"rule"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ops_skill_serve_runs_total",
			Help: "Agent runs by kind (alert, health, escalation) and resolution."}, []string{"kind", "resolution"}),
		runSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ops_skill_serve_run_seconds",
			Help: "Wall time of one agent run.", Buckets: prometheus.ExponentialBuckets(0.005, 4, 10)}),
		llmCalls: prometheus.NewCounter(prometheus.CounterOpts{Name: "ops_skill_serve_llm_calls_total",
			Help: "LLM requests made by agent runs."}),
		llmTokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ops_skill_serve_llm_tokens_total",
			Help: "LLM tokens used by agent runs, by direction (prompt, completion)."}, []string{"direction"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ops_skill_serve_queue_depth",
			Help: "Jobs waiting in the queue."}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ops_skill_serve_runs_in_flight",
			Help: "Jobs being worked on."}),
		loopSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ops_skill_serve_loop_seconds",
			Help: "Duration of one round of a loop (health, scaling, escalation).", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"loop"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ops_skill_serve_leader",
			Help: "1 while this replica leads (acts), 0 otherwise."}),
		incidentsClosed: prometheus.NewCounter(prometheus.CounterOpts{Name: "ops_skill_serve_incidents_resolved_total",
			Help: "Incidents closed because Alertmanager reported their alert resolved."}),
		abandoned: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ops_skill_serve_jobs_abandoned_total",
			Help: "Jobs dropped before they ran, by why (shutdown, leadership_lost, resolved, ledger_unavailable)."}, []string{"why"}),
		ledgerPruned: prometheus.NewCounter(prometheus.CounterOpts{Name: "ops_skill_serve_ledger_pruned_total",
			Help: "Deliveries deleted from the ledger past serve.ledger_ttl."}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.requestSeconds, m.alertsReceived, m.deduplicated, m.truncatedAlerts,
		m.rejectedAlerts, m.actions, m.refusals, m.runs, m.runSeconds, m.llmCalls, m.llmTokens, m.queueDepth, m.inFlight,
		m.loopSeconds, m.leader, m.incidentsClosed, m.abandoned, m.ledgerPruned} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// outcome counts one tool call by tool and outcome, and its refusal by rule.
func (m *Metrics) outcome(o tools.Outcome) {
	m.actions.WithLabelValues(string(o.Tool), string(o.Status)).Inc()
	if o.Status == tools.StatusRefused {
		m.refusals.WithLabelValues(ruleLabel(o.Rule)).Inc()
	}
}

// summary counts what a run reports beyond its tool calls: the refusals made
// before any tool (the alert cooldown), LLM usage and the resolution.
func (m *Metrics) summary(kind string, s agent.Summary) {
	m.runs.WithLabelValues(kind, string(s.Resolution)).Inc()
	for _, r := range s.Refusals {
		if r.Tool == "alert" { // refusals of tool calls were counted as they happened
			m.refusals.WithLabelValues(ruleLabel(r.Rule)).Inc()
		}
	}
	m.llmCalls.Add(float64(s.LLMCalls))
	m.llmTokens.WithLabelValues("prompt").Add(float64(s.TokensIn))
	m.llmTokens.WithLabelValues("completion").Add(float64(s.TokensOut))
}

func ruleLabel(rule string) string {
	if rule == "" {
		return "unknown"
	}
	return rule
}
