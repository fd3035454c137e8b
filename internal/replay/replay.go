// Package replay judges the guard's recorded decisions again: each decision's
// basis (the workload, the metric samples, the guard state and the time it
// was judged at, as the history recorded them) goes through the same pure
// policy function under another policy, and the differences are reported
// (allowed → refused, 4 replicas → 5). Under the policy in force at the time,
// every decision comes out exactly as recorded.
package replay

import (
	"fmt"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/store"
)

// Verdict is one decision's outcome, recorded or replayed.
type Verdict struct {
	Verdict   string `json:"verdict"`
	Rule      string `json:"rule"`
	Reason    string `json:"reason"`
	From      int64  `json:"from"`
	To        int64  `json:"to"`
	Requested int64  `json:"requested"`
}

// Change is what became of one recorded decision.
type Change string

// The changes, from the operator's point of view.
const (
	Same       Change = "same"       // verdict, rule and target value as recorded
	Reasoned   Change = "reason"     // same verdict, rule and value; the reason's numbers differ
	Allowed    Change = "allowed"    // refused then, allowed now
	Refused    Change = "refused"    // allowed then, refused now
	Resized    Change = "resized"    // allowed both times, to another value
	Reruled    Change = "rule"       // same verdict and value, another rule decided
	Unreadable Change = "unreadable" // the basis could not be decoded
)

// Result is one decision judged again.
type Result struct {
	DecisionID int64     `json:"decisionId"`
	AlertID    int64     `json:"alertId,omitempty"`
	Incident   string    `json:"incident,omitempty"`
	At         time.Time `json:"at"`
	Kind       string    `json:"kind"`
	Target     string    `json:"target"`
	Recorded   Verdict   `json:"recorded"`
	Replayed   Verdict   `json:"replayed"`
	Change     Change    `json:"change"`
	Error      string    `json:"error,omitempty"`
}

// Differs reports whether the decision would have gone another way.
func (r Result) Differs() bool { return r.Change != Same && r.Change != Reasoned }

// Exact reports whether the replay reproduced the record in every field.
func (r Result) Exact() bool { return r.Recorded == r.Replayed && r.Error == "" }

// Report is a replay of many decisions.
type Report struct {
	Decisions int      `json:"decisions"`
	Differ    int      `json:"differ"`
	Results   []Result `json:"results"`
}

// Run judges every record again under pol; incidents maps alert IDs to
// their incident IDs (for the report).
func Run(recs []store.DecisionRecord, pol guard.Policy, incidents map[int64]string) Report {
	rep := Report{Decisions: len(recs), Results: make([]Result, 0, len(recs))}
	for _, rec := range recs {
		r := One(rec, pol)
		r.Incident = incidents[rec.AlertID]
		if r.Differs() {
			rep.Differ++
		}
		rep.Results = append(rep.Results, r)
	}
	return rep
}

// One judges one record again under pol.
func One(rec store.DecisionRecord, pol guard.Policy) Result {
	r := Result{DecisionID: rec.ID, AlertID: rec.AlertID, At: rec.At, Kind: rec.Kind, Target: rec.Target,
		Recorded: Verdict{Verdict: rec.Verdict, Rule: rec.Rule, Reason: rec.Reason, From: rec.From, To: rec.To, Requested: rec.Requested}}
	b, err := guard.DecodeBasis(rec.Basis)
	if err != nil {
		r.Change, r.Error = Unreadable, err.Error()
		return r
	}
	d, ok := pol.Redecide(b)
	if !ok {
		r.Change, r.Error = Unreadable, fmt.Sprintf("decision %d has an empty basis", rec.ID)
		return r
	}
	r.Replayed = Verdict{Verdict: string(d.Verdict), Rule: d.Rule, Reason: d.Reason, From: d.From, To: d.To, Requested: d.Requested}
	r.Change = compare(r.Recorded, r.Replayed)
	return r
}

func compare(was, now Verdict) Change {
	wasOK, nowOK := allowed(was.Verdict), allowed(now.Verdict)
	switch {
	case wasOK && !nowOK:
		return Refused
	case !wasOK && nowOK:
		return Allowed
	case wasOK && was.To != now.To:
		return Resized
	case was.Rule != now.Rule:
		return Reruled
	case was != now:
		return Reasoned
	}
	return Same
}

func allowed(v string) bool { return v == string(guard.Allow) || v == string(guard.Clamp) }
