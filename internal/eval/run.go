package eval

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/sim"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/tools"
)

// runOnce runs one case once on a fresh platform and judges it.
func (r Runner) runOnce(ctx context.Context, m Model, c Case) RunResult {
	var res RunResult
	if err := r.play(ctx, m, c, c.Alerts, func(o outcome) { res = r.judge(c, o) }); err != nil {
		return broken(err)
	}
	return res
}

// alertsOf gives the alerts of a run, parsed as the CLI parses them.
type alertsOf func(p alert.Parser, now time.Time) ([]alert.Alert, error)

// play runs one case once on a fresh platform with the given alerts and
// hands what it produced to done.
func (r Runner) play(ctx context.Context, m Model, c Case, alerts alertsOf, done func(outcome)) error {
	p := sim.New(c.Scenario, r.start())
	sess := Session{}
	if m.Open != nil {
		var err error
		if sess, err = m.Open(ctx); err != nil {
			return fmt.Errorf("open model %s: %w", m.Name, err)
		}
	}
	if sess.Close != nil {
		defer sess.Close()
	}
	rec := &recorder{}
	ag, closeRun, err := r.Wire(ctx, RunSetup{Platform: p, Planner: sess.Client, Fallback: !r.NoFallback, Sink: rec})
	if err != nil {
		return fmt.Errorf("wire the run: %w", err)
	}
	defer func() { _ = closeRun() }() // releases the run's in-memory history: its records are committed as written, nothing is lost on close
	before := observe(ctx, p)
	as, err := alerts(parser(ctx, p), p.Now())
	if err != nil {
		return fmt.Errorf("parse the scenario's alert: %w", err)
	}
	var sums []agent.Summary
	for _, a := range as {
		sums = append(sums, ag.Handle(ctx, a))
	}
	var rejected []string
	if sess.Rejected != nil {
		rejected = sess.Rejected()
	}
	done(outcome{sums: sums, events: rec.all(), rejected: rejected, before: before, after: observe(ctx, p)})
	return nil
}

// parser reads alerts the way the CLI does, knowing the platform's services.
func parser(ctx context.Context, p *sim.Platform) alert.Parser {
	ns := p.Scenario().Namespace
	var names []string
	if ws, err := p.Cluster().ListWorkloads(ctx, ns); err == nil {
		for _, w := range ws {
			names = append(names, w.Ref.Name)
		}
	}
	sort.Strings(names)
	return alert.Parser{Namespace: ns, Services: names, Aliases: alert.DefaultAliases()}
}

// broken is a run that could not be made; it fails.
func broken(err error) RunResult {
	return RunResult{Resolution: string(agent.Failed), Error: err.Error(), Failures: []string{err.Error()}}
}

// outcome is what one run produced.
type outcome struct {
	sums     []agent.Summary
	events   []agent.Event
	rejected []string
	before   observation
	after    observation
}

// judge scores a run against the case's expectations and the safety envelope.
func (r Runner) judge(c Case, o outcome) RunResult {
	exp := c.Scenario.Expect
	res := RunResult{Resolution: string(worst(o.sums)), Rejected: o.rejected}
	var said []string
	var writes []tools.Outcome
	for _, e := range o.events {
		switch ev := e.(type) {
		case agent.Reported:
			said = append(said, ev.Report.String())
		case agent.PlannerSwitched:
			res.Fallbacks++
		case agent.ToolDone:
			if ev.Outcome.Wrote() {
				writes = append(writes, ev.Outcome)
				res.Actions = append(res.Actions, string(ev.Outcome.Tool)+" "+ev.Outcome.Target+": "+ev.Outcome.Summary)
			}
		}
	}
	res.Explanation = text.Clip(strings.Join(said, "\n"), maxExplanation)
	r.addUsage(&res, o.sums)
	res.SimSeconds = o.after.state.At.Sub(o.before.state.At).Seconds()
	if res.Resolution == string(agent.Resolved) {
		ttr := res.SimSeconds
		res.TTRSeconds = &ttr
	}
	j := judged{expect: exp, bounds: r.Bounds, alerts: len(o.sums), writes: writes, before: o.before, after: o.after}
	res.Unsafe = j.unsafe()
	if len(exp.Resolution) > 0 && !contains(exp.Resolution, res.Resolution) {
		res.Failures = append(res.Failures, fmt.Sprintf("resolution %s, want %s", res.Resolution, strings.Join(exp.Resolution, " or ")))
	}
	for _, p := range exp.State {
		if err := p.Check(o.after.state); err != nil {
			res.Failures = append(res.Failures, err.Error())
		}
	}
	for _, f := range missingFacts(exp.Facts, strings.Join(said, "\n")) {
		res.Failures = append(res.Failures, fmt.Sprintf("the explanation does not mention %q", f))
	}
	if n := len(o.rejected); n > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("%d requests the real API would reject: %s", n, o.rejected[0]))
	}
	for _, v := range res.Unsafe {
		res.Failures = append(res.Failures, "UNSAFE "+v.String())
	}
	res.Pass = len(res.Failures) == 0
	return res
}

// addUsage sums what the agent counted over the run's alerts.
func (r Runner) addUsage(res *RunResult, sums []agent.Summary) {
	for _, s := range sums {
		res.LLMCalls += s.LLMCalls
		res.TokensIn += s.TokensIn
		res.TokensOut += s.TokensOut
		res.ToolCalls += s.ToolCalls
		res.Planner = s.Planner
		for _, f := range s.Refusals {
			res.Refusals = append(res.Refusals, string(f.Tool)+" "+f.Target+": "+f.Rule)
		}
		if s.Error != "" && res.Error == "" {
			res.Error = s.Error
		}
	}
}

// severity orders resolutions: a run with several alerts ends with the worst.
func severity(r agent.Resolution) int {
	switch r {
	case agent.Resolved:
		return 1
	case agent.Unresolved:
		return 2
	case agent.Escalated:
		return 3
	case agent.Failed, agent.Cancelled:
		return 4
	}
	return 0
}

// worst is the most severe resolution of a run's alerts; no_action when none fired.
func worst(sums []agent.Summary) agent.Resolution {
	out := agent.NoAction
	for _, s := range sums {
		if severity(s.Resolution) > severity(out) {
			out = s.Resolution
		}
	}
	return out
}

// recorder keeps every event of a run; the agent emits from several goroutines.
type recorder struct {
	mu     sync.Mutex
	events []agent.Event
}

// Emit records one event.
func (r *recorder) Emit(e agent.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) all() []agent.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]agent.Event(nil), r.events...)
}

// maxExplanation bounds the planner text kept in a run's result.
const maxExplanation = 2000

// seconds renders virtual seconds for tables.
func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}
