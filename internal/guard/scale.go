package guard

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// DefaultOptOutAnnotation is the workload annotation that, set to "true",
// excludes a workload from auto-scaling when the policy names no other.
const DefaultOptOutAnnotation = "ops-skill/opt-out"

// Rule is one sustained-threshold scaling rule: the metric must be beyond
// Threshold (a percentage) for every sample of the last Sustain, and then the
// replicas may move by Step.
type Rule struct {
	Threshold float64       `json:"threshold"`
	Sustain   time.Duration `json:"sustain"`
	Step      int64         `json:"step"`
}

// ScalingPolicy holds the auto-scaling rules of the product spec: Up (cpu
// above), Down (cpu below), Out (error rate above) and the replica bounds.
type ScalingPolicy struct {
	Enabled bool  `json:"enabled"`
	Min     int64 `json:"minReplicas"`
	Max     int64 `json:"maxReplicas"`
	Up      Rule  `json:"scaleUp"`
	Down    Rule  `json:"scaleDown"`
	Out     Rule  `json:"scaleOut"`
	// SampleStep is the expected spacing of samples; a gap over 2*SampleStep
	// makes a window unknown.
	SampleStep time.Duration `json:"sampleStep"`
	// Freshness bounds the age of the newest sample; zero means 2*SampleStep.
	Freshness time.Duration `json:"freshness,omitempty"`
	// OptOutAnnotation names the opt-out annotation; empty means
	// DefaultOptOutAnnotation.
	OptOutAnnotation string `json:"optOutAnnotation,omitempty"`
}

// DefaultScalingPolicy returns the rules of the product spec: up cpu > 80% for
// 5m → +1, down cpu < 30% for 15m → -1, out error rate > 10% for 2m → +2,
// replicas within [2, 10], samples every 30s.
func DefaultScalingPolicy() ScalingPolicy {
	return ScalingPolicy{
		Enabled: true, Min: 2, Max: 10,
		Up:         Rule{Threshold: 80, Sustain: 5 * time.Minute, Step: 1},
		Down:       Rule{Threshold: 30, Sustain: 15 * time.Minute, Step: 1},
		Out:        Rule{Threshold: 10, Sustain: 2 * time.Minute, Step: 2},
		SampleStep: 30 * time.Second,
	}
}

// Validate reports every invalid value as a *PolicyError joined into one
// error, or nil.
func (p ScalingPolicy) Validate() error {
	var ps problems
	ps.check(p.Min >= 1, "min_replicas", "must be at least 1 (scaling to zero is disabled), got %d", p.Min)
	ps.check(p.Max >= p.Min, "max_replicas", "(%d) must not be below min_replicas (%d)", p.Max, p.Min)
	ps.check(p.Max <= math.MaxInt32, "max_replicas", "(%d) is more than a workload can hold", p.Max)
	p.Up.validate(&ps, "scale_up", "cpu", p)
	p.Down.validate(&ps, "scale_down", "cpu", p)
	p.Out.validate(&ps, "scale_out", "error_rate", p)
	ps.check(p.Down.Threshold < p.Up.Threshold, "scale_down.cpu", "(%g) must be below scale_up.cpu (%g)",
		p.Down.Threshold, p.Up.Threshold)
	ps.check(p.SampleStep > 0, "scaling.sample_step", "must be positive, got %s", p.SampleStep)
	ps.check(p.Freshness >= 0, "scaling.freshness", "must not be negative, got %s", p.Freshness)
	return ps.err()
}

func (r Rule) validate(ps *problems, name, metric string, p ScalingPolicy) {
	finite := !math.IsNaN(r.Threshold) && !math.IsInf(r.Threshold, 0)
	ps.check(finite && r.Threshold >= 0, name+"."+metric, "must be a finite percentage of at least 0, got %g", r.Threshold)
	ps.check(r.Sustain > 0 && r.Sustain >= p.SampleStep, name+".duration",
		"(%s) must be positive and at least the sample step (%s)", r.Sustain, p.SampleStep)
	ps.check(r.Step >= 1 && r.Step <= max(p.Max, 1), name+".step", "must be between 1 and max_replicas (%d), got %d", p.Max, r.Step)
}

// ScaleInput is one proposed replica change and what the guard needs to judge it.
type ScaleInput struct {
	Workload  platform.Workload
	Requested int64
	CPU       Observation
	ErrorRate Observation
	State     WorkloadState
	Now       time.Time
}

// Decide judges a replica change. In order: the policy must be enabled and
// valid; the workload must not be owned by an autoscaler, opted out, or at 0
// replicas; the request must be a positive change. An increase needs a firing
// up rule (cpu, error rate), evaluated on samples taken after the last scale
// up (stabilisation); the allowed target is the largest proposal, not the sum,
// capped at Max. A decrease needs no scale up within Down.Sustain, all pods
// ready, the error rate known and not above Out.Threshold, and the cpu down
// rule firing on samples after the last scale down; capped at Min.
//
// Workloads outside the bounds: a workload below Min may be raised to Min
// without a firing rule (or further if a rule fires), and one above Max may be
// lowered to Max without the cpu rule (but not while a metric is unknown, the
// error rate is elevated or pods are not ready); a move away from the bounds
// is refused. A request beyond what is allowed is clamped and names the
// limiting rule; a smaller request in the same direction is allowed as asked.
func (p ScalingPolicy) Decide(in ScaleInput) Decision {
	c := &scaleCtx{p: p, in: in, cur: int64(in.Workload.Replicas), name: in.Workload.Ref.String()}
	c.inputs = map[string]string{
		"replicas":     strconv.FormatInt(c.cur, 10),
		"requested":    strconv.FormatInt(in.Requested, 10),
		"min_replicas": strconv.FormatInt(p.Min, 10),
		"max_replicas": strconv.FormatInt(p.Max, 10),
	}
	if d, stop := c.gate(); stop {
		return c.finish(d)
	}
	if in.Requested > c.cur {
		return c.finish(c.up())
	}
	return c.finish(c.down())
}

// optedOut reports whether the workload carries the opt-out annotation set to true.
func (p ScalingPolicy) optedOut(w platform.Workload) (string, bool) {
	key := p.OptOutAnnotation
	if key == "" {
		key = DefaultOptOutAnnotation
	}
	v, ok := w.Annotations[key]
	if !ok {
		return key, false
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	return key, err == nil && b
}

func (p ScalingPolicy) window(metric string, c Comparison, r Rule, after time.Time) Window {
	return Window{Metric: metric, Compare: c, Threshold: r.Threshold, Sustain: r.Sustain,
		Step: p.SampleStep, Freshness: p.Freshness, After: after}
}

// scaleCtx carries one scaling decision through its steps.
type scaleCtx struct {
	p      ScalingPolicy
	in     ScaleInput
	cur    int64
	name   string
	inputs map[string]string
}

// finish fills the numbers every scaling decision carries.
func (c *scaleCtx) finish(d Decision) Decision {
	d.From, d.Requested, d.Inputs = c.cur, c.in.Requested, c.inputs
	in := c.in
	d.Basis = &Basis{Scale: &in}
	if d.Verdict == Refuse {
		d.To = c.cur
	}
	return d
}

func (c *scaleCtx) note(key string, e Evaluation) {
	c.inputs[key] = e.Truth.String() + ": " + e.Reason
}

// gate applies the refusals that do not depend on metrics.
func (c *scaleCtx) gate() (Decision, bool) {
	p, w, req := c.p, c.in.Workload, c.in.Requested
	if !p.Enabled {
		return refuse(RuleDisabledScaling, "auto-scaling is disabled (AUTO_SCALE_ENABLED=false); %s keeps %d replicas", c.name, c.cur), true
	}
	if err := p.Validate(); err != nil {
		return invalidPolicy(err), true
	}
	if w.AutoscaledBy != "" {
		return refuse(RuleAutoscalerOwned, "%s is scaled by %s; ops-skill does not change replicas an autoscaler owns", c.name, w.AutoscaledBy), true
	}
	if key, out := p.optedOut(w); out {
		return refuse(RuleOptOut, "%s carries the annotation %s=true and is excluded from auto-scaling", c.name, key), true
	}
	switch {
	case req == 0:
		return refuse(RuleReplicasZero, "scaling %s to 0 replicas is disabled; min_replicas is %d", c.name, p.Min), true
	case req < 0:
		return refuse(RuleReplicasInvalid, "%d is not a replica count", req), true
	case c.cur == 0:
		return refuse(RuleReplicasZero, "%s is at 0 replicas, which marks it as stopped on purpose; ops-skill does not scale it", c.name), true
	case c.cur < 0:
		return refuse(RuleReplicasInvalid, "%s reports %d replicas", c.name, c.cur), true
	case req == c.cur:
		return refuse(RuleNoChange, "%s already has %d replicas", c.name, c.cur), true
	}
	return Decision{}, false
}
