package tune

import (
	"fmt"
	"math"
	"strconv"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/replay"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/units"
)

func direction(e store.ScaleEvent) int {
	switch {
	case e.To > e.From:
		return 1
	case e.To < e.From:
		return -1
	}
	return 0
}

func workload(namespace, name string) string { return namespace + "/" + name }

// reversals are the scale events that undo the previous one of the same
// workload within the window, keyed by workload.
func reversals(scales []store.ScaleEvent, o Options) map[string][][2]store.ScaleEvent {
	last := map[string]store.ScaleEvent{}
	out := map[string][][2]store.ScaleEvent{}
	for _, e := range scales {
		w := workload(e.Namespace, e.Name)
		if p, ok := last[w]; ok && direction(p)*direction(e) < 0 && e.At.Sub(p.At) <= o.window() {
			out[w] = append(out[w], [2]store.ScaleEvent{p, e})
		}
		if direction(e) != 0 {
			last[w] = e
		}
	}
	return out
}

// thrashFindings reports workloads whose replicas went back and forth; with
// the recorded decisions, the suggestion says what replaying them under it
// would have changed.
func thrashFindings(scales []store.ScaleEvent, decisions []store.DecisionRecord, incidents map[int64]string, o Options) []Finding {
	var out []Finding
	for w, pairs := range reversals(scales, o) {
		if len(pairs) < o.min() {
			continue
		}
		f := Finding{Problem: Thrashing, Service: pairs[0][0].Name,
			Summary: fmt.Sprintf("%s reversed its replica count %d times within %s of the previous scale", w, len(pairs), units.Duration(o.window()))}
		for _, p := range pairs {
			a, b := p[0], p[1]
			f.Evidence = append(f.Evidence, Evidence{At: b.At, Incident: firstOf(incidents[b.AlertID], incidents[a.AlertID]), AlertID: b.AlertID,
				Detail: fmt.Sprintf("%d→%d at %s (%s), then %d→%d %s later (%s)", a.From, a.To, a.At.UTC().Format("01-02 15:04"), dashIfEmpty(a.Rule),
					b.From, b.To, units.Duration(b.At.Sub(a.At)), dashIfEmpty(b.Rule))})
		}
		var wider guard.Policy
		f.Suggestion, wider = widen(o)
		if n, refused := replayed(decisions, w, wider); n > 0 {
			f.Suggestion.Note += fmt.Sprintf("; replayed under it, %d of the %d scale decisions allowed on %s would have been refused", refused, n, w)
		}
		out = append(out, f)
	}
	return out
}

// widen suggests what the spec says for thrashing: thresholds 5 points
// further apart and a scale-down window twice as long.
func widen(o Options) (Suggestion, guard.Policy) {
	s := o.Policy.Scaling
	up := math.Min(s.Up.Threshold+5, 95)
	down := math.Max(s.Down.Threshold-5, 5)
	dur := 2 * s.Down.Sustain
	wider := o.Policy
	wider.Scaling.Up.Threshold, wider.Scaling.Down.Threshold, wider.Scaling.Down.Sustain = up, down, dur
	return Suggestion{
		Updates: []string{"scale_up.cpu=" + num(up), "scale_down.cpu=" + num(down), "scale_down.duration=" + units.Duration(dur)},
		Note: fmt.Sprintf("widen the gap between the thresholds (%s%% / %s%% → %s%% / %s%%) and require low CPU for %s before scaling down",
			num(s.Up.Threshold), num(s.Down.Threshold), num(up), num(down), units.Duration(dur)),
	}, wider
}

// replayed judges the allowed scale decisions of workload w again under
// pol: how many there were, and how many would have been refused.
func replayed(decisions []store.DecisionRecord, w string, pol guard.Policy) (n, refused int) {
	for _, d := range decisions {
		if d.Kind != store.DecisionScale || d.Target != w || (d.Verdict != store.VerdictAllow && d.Verdict != store.VerdictClamp) {
			continue
		}
		n++
		if replay.One(d, pol).Change == replay.Refused {
			refused++
		}
	}
	return n, refused
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
