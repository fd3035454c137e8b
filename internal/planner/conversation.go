package planner

import (
	"encoding/json"

	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/tools"
)

// conversation is what the rules planner knows at a turn: the facts code
// parsed and every outcome so far, typed and whole. It never reads the alert
// text: a plan.Situation does not carry it.
type conversation struct {
	facts plan.Facts
	seen  []tools.Outcome
	asked []tools.Call // every call asked for so far, whatever came of it
	turns int          // planner turns so far
	ctx   plan.Context // what the conversation established before this request
}

func readSituation(s plan.Situation) conversation {
	return conversation{facts: s.Facts, seen: s.Outcomes, asked: s.Asked, turns: s.Turns, ctx: s.Context}
}

// why says why an outcome gave nothing to read: its error or reason, else
// what happened to it. It is never empty, so a message built on it always
// carries a cause.
func why(o tools.Outcome) string {
	switch {
	case o.Error != "" || o.Reason != "":
		return firstNonEmpty(o.Error, o.Reason)
	case o.Status != tools.StatusOK && o.Status != "":
		return "the call ended " + string(o.Status)
	}
	return "the answer was not in the expected form"
}

// last returns the newest successful outcome of a tool whose result is a T.
func last[T any](c conversation, tool tools.Name, match func(tools.Outcome) bool) (T, bool) {
	for i := len(c.seen) - 1; i >= 0; i-- {
		o := c.seen[i]
		if o.Tool != tool || o.Status != tools.StatusOK || (match != nil && !match(o)) {
			continue
		}
		if v, ok := o.Result.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// called reports whether a tool was already called (whatever the outcome), with an optional filter.
func (c conversation) called(tool tools.Name, match func(tools.Outcome) bool) (tools.Outcome, bool) {
	for i := len(c.seen) - 1; i >= 0; i-- {
		if o := c.seen[i]; o.Tool == tool && (match == nil || match(o)) {
			return o, true
		}
	}
	return tools.Outcome{}, false
}

// queried reports whether a metric was asked for in a turn, whatever came of it.
func (c conversation) queried(name string) bool {
	for _, k := range c.asked {
		var a struct {
			Metric string `json:"metric"`
		}
		if k.Tool == tools.QueryMetrics && json.Unmarshal(k.Args, &a) == nil && a.Metric == name {
			return true
		}
	}
	return false
}

// metric returns the newest summary of a named metric.
func (c conversation) metric(name string) (tools.MetricSummary, bool) {
	return last[tools.MetricSummary](c, tools.QueryMetrics, func(o tools.Outcome) bool {
		m, ok := o.Result.(tools.MetricSummary)
		return ok && m.Metric == name
	})
}

// metricOf returns the newest summary of a metric for one target.
func (c conversation) metricOf(name, target string) (tools.MetricSummary, bool) {
	return last[tools.MetricSummary](c, tools.QueryMetrics, func(o tools.Outcome) bool {
		m, ok := o.Result.(tools.MetricSummary)
		return ok && o.Target == target && m.Metric == name
	})
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
