// Package planner holds the deterministic rules planner: playbooks for the
// spec's incidents (sustained high CPU, a database crash-looping from OOM, disk
// usage high, a failing health check) that call the same tools, through the same
// guard, as an LLM would. It implements plan.Planner, as the LLM adapter does,
// so the agent cannot tell the two apart, and it is the fallback when the LLM
// fails.
//
// It reads only the facts code parsed and the tools' outcomes, never the alert
// text, so nothing written in an alert can steer it.
package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/tools"
)

// Policy is what the playbooks aim for; the guard enforces its own copy.
type Policy struct {
	ScaleUpThreshold   float64
	ScaleDownThreshold float64
	ErrorRateThreshold float64
	UpStep, OutStep    int32
	MinReplicas        int32
	MaxReplicas        int32
	DiskTargetPct      float64
	MemoryFactor       float64
	StorageWorkload    string        // the workload whose volume is ClickHouse's
	UpWindow           time.Duration // how long CPU must stay above the threshold
	OutWindow          time.Duration // how long the error rate must stay above its threshold
	RetentionDays      int
	// Volumes bounds an expansion; the playbooks ask for its Limit.
	Volumes guard.VolumePolicy
}

// Rules is the rules planner.
type Rules struct {
	p Policy
}

// NewRules builds the rules planner.
func NewRules(p Policy) *Rules { return &Rules{p: p} }

// Name identifies the planner in transcripts.
func (*Rules) Name() string { return "rules" }

// turn is the playbook's next move: calls to make, or the answer when none.
type turn struct {
	report plan.Report
	calls  []call
}

type call struct {
	tool tools.Name
	args any
}

// answer is a turn that ends the planning with a report.
func answer(rep plan.Report) turn { return turn{report: rep} }

// say is a turn that ends the planning with a sentence.
func say(text string) turn { return turn{report: plan.Report{Text: text}} }

// Next picks the playbook's next move in the situation.
func (r *Rules) Next(ctx context.Context, s plan.Situation) (plan.Turn, error) {
	if err := ctx.Err(); err != nil {
		return plan.Turn{}, err
	}
	c := readSituation(s)
	t := r.next(c)
	if s.Final && len(t.calls) > 0 {
		t = say(r.wrapUp(c))
	}
	out := plan.Turn{Report: t.report}
	for i, k := range t.calls {
		args, err := json.Marshal(k.args)
		if err != nil {
			return plan.Turn{}, fmt.Errorf("rules planner: encode %s arguments: %w", k.tool, err)
		}
		out.Calls = append(out.Calls, tools.Call{ID: "rules-" + strconv.Itoa(c.turns) + "-" + strconv.Itoa(i), Tool: k.tool, Args: args})
	}
	return out, nil
}

// next picks the playbook by the kind of alert.
func (r *Rules) next(c conversation) turn {
	if c.facts.Intent != "" {
		return r.request(c)
	}
	if c.facts.Action == alert.ActionDiagnose {
		return r.diagnose(c)
	}
	if c.facts.Service == "" || c.facts.Namespace == "" {
		return answer(plan.Report{Diagnosis: []string{"the alert names no known service, so no playbook applies."}, Decision: "none; a person should look at it."})
	}
	return r.playbook(c)
}

// playbook runs the playbook of the alert's kind on its service.
func (r *Rules) playbook(c conversation) turn {
	if _, ok := c.called(tools.GetServiceStatus, func(o tools.Outcome) bool { return o.Status == tools.StatusFailed || o.Status == tools.StatusRefused }); ok {
		if _, ok := last[tools.ServiceStatus](c, tools.GetServiceStatus, nil); !ok {
			o, _ := c.called(tools.GetServiceStatus, nil)
			return answer(plan.Report{Diagnosis: []string{"the service could not be read: " + why(o)}, Decision: "none."})
		}
	}
	switch c.facts.Kind {
	case alert.KindCPU, alert.KindLatency, alert.KindErrorRate:
		return r.cpu(c)
	case alert.KindMemory, alert.KindConnection, alert.KindCrashLoop:
		return r.crashing(c)
	case alert.KindDisk:
		return r.disk(c)
	case alert.KindHealth:
		return r.health(c)
	}
	return answer(plan.Report{Diagnosis: []string{fmt.Sprintf("no playbook for alerts of kind %q on %s.", c.facts.Kind, c.facts.Service)}, Decision: "none; a person should look at it."})
}

func (r *Rules) wrapUp(c conversation) string {
	var done []string
	for _, o := range c.seen {
		if o.Status == tools.StatusExecuted || o.Status == tools.StatusDryRun || o.Status == tools.StatusRefused {
			done = append(done, fmt.Sprintf("%s %s: %s", o.Tool, o.Status, firstNonEmpty(o.Reason, o.Summary)))
		}
	}
	if len(done) == 0 {
		return "No change was made."
	}
	return "Done: " + strings.Join(done, "; ")
}

func (r *Rules) workload(c conversation) map[string]any {
	return map[string]any{"namespace": c.facts.Namespace, "name": c.facts.Service}
}

func (r *Rules) queryArgs(c conversation, metric, rng string) map[string]any {
	a := r.workload(c)
	a["metric"], a["range"] = metric, rng
	return a
}

// acted reports whether a write to this tool already ran or was refused, so a
// playbook never repeats itself (also after taking over from an LLM).
func (c conversation) acted(tool tools.Name) (tools.Outcome, bool) {
	return c.called(tool, func(o tools.Outcome) bool {
		switch o.Status {
		case tools.StatusExecuted, tools.StatusDryRun, tools.StatusRefused, tools.StatusFailed:
			return true
		}
		return false
	})
}

// PolicyFrom derives the rules planner's policy from the guardrail policy, so
// the playbooks ask for what the gate will allow.
func PolicyFrom(p guard.Policy) Policy {
	s := p.Scaling
	return Policy{ScaleUpThreshold: s.Up.Threshold, ScaleDownThreshold: s.Down.Threshold, ErrorRateThreshold: s.Out.Threshold,
		UpStep: int32(s.Up.Step), OutStep: int32(s.Out.Step), MinReplicas: int32(s.Min), MaxReplicas: int32(s.Max),
		DiskTargetPct: p.Targets.DiskPct, MemoryFactor: p.Healing.MemoryMaxFactor,
		UpWindow: s.Up.Sustain, OutWindow: s.Out.Sustain, RetentionDays: p.RetentionDays(), StorageWorkload: p.Partitions.Workload,
		Volumes: p.Volumes}
}
