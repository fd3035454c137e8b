// Package plan is the typed contract between the agent and its planners: the
// agent gives a Situation (the facts code parsed and the typed outcomes of every
// call so far) and a planner answers with a Turn (calls to make, and a typed
// Report). The rules planner reads nothing else — the alert text is not in a
// Situation, so nothing written in an alert can steer it. The LLM planner is an
// adapter behind the same contract that is also given a Brief (the untrusted
// text and the conversation so far) and owns the chat messages, the model's
// budget and the structured final answer.
package plan

import (
	"context"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// Planner decides the next turn of a run from its situation.
type Planner interface {
	// Name identifies the planner in transcripts, e.g. "rules" or "llm:gpt-4o".
	Name() string
	Next(ctx context.Context, s Situation) (Turn, error)
}

// Briefed is a planner that also reads the text the situation came from (an
// LLM): the agent briefs it once per run and asks the planner it returns.
// The rules planner is not Briefed, so it never sees the text.
type Briefed interface {
	Planner
	Brief(b Brief) Planner
}

// Begin returns the planner to ask for one run: p itself, or, for a Briefed
// planner, its session for this brief.
func Begin(p Planner, b Brief) Planner {
	if bp, ok := p.(Briefed); ok {
		return bp.Brief(b)
	}
	return p
}

// Brief is what only a model reads: the untrusted text of the alert or
// request, and the earlier exchanges of a conversation in their own words.
type Brief struct {
	Text   string
	InChat bool
	Prior  []Exchange
}

// Exchange is one earlier request of a conversation, as a model is told it.
type Exchange struct {
	Request string // the operator's words (untrusted)
	Answer  string // the planner's answer, as text
	Digest  string // what the tools did, one line each
}

// Facts are the alert's facts, parsed by code.
type Facts struct {
	Source    alert.Source  `json:"source"`
	Service   string        `json:"service,omitempty"`
	Namespace string        `json:"namespace,omitempty"`
	Kind      alert.Kind    `json:"kind"`
	Value     float64       `json:"value,omitempty"`
	For       time.Duration `json:"-"`
	Attempts  int           `json:"attempts,omitempty"`
	Mode      guard.Mode    `json:"mode"`
	// Intent is set in conversations: what code understood the operator asked.
	Intent alert.Intent `json:"intent,omitempty"`
	// Replicas is the count a scale request asks for.
	Replicas int32 `json:"replicas,omitempty"`
	// Subject is the object the alert names and what the platform resolved
	// it to; Family and Runbook come from the alert's rule.
	Subject *platform.Resolution `json:"subject,omitempty"`
	Family  alert.Family         `json:"family,omitempty"`
	Runbook string               `json:"runbook,omitempty"`
	Action  alert.Action         `json:"action,omitempty"`
}

// FactsOf are the facts of a parsed alert in the given mode.
func FactsOf(a alert.Alert, mode guard.Mode) Facts {
	f := Facts{Source: a.Source, Service: a.Service, Namespace: a.Namespace, Kind: a.Kind, Value: a.Value,
		For: a.For, Attempts: a.Attempts, Mode: mode, Intent: a.Intent, Replicas: a.Replicas}
	c := a.Classification
	f.Family, f.Runbook, f.Action = c.Family, c.Runbook, c.Action
	return f
}

// Workload is the workload the facts name; Name is empty when none was named.
func (f Facts) Workload() platform.WorkloadRef {
	return platform.WorkloadRef{Namespace: f.Namespace, Name: f.Service}
}

// Situation is everything a planner may know at a turn.
type Situation struct {
	Facts Facts
	// Outcomes are the calls made so far, whole and typed (each Result is the
	// tool's own Go value), in order: the snapshot code took, then every
	// turn's calls.
	Outcomes []tools.Outcome
	// Asked are the calls planners asked for, whatever came of them.
	Asked []tools.Call
	Turns int  // planner turns so far in this run
	Final bool // the last turn: calls it asks for are not run
	// Context is what the conversation has established before this request.
	Context Context
}

// Context is a conversation's typed memory: what it is about and what was
// last done, so that "and for frontend?", "scale it to 3" and "why?" have a
// subject.
type Context struct {
	Subject     platform.WorkloadRef // the workload the last request was about
	LastIntent  alert.Intent
	LastKind    alert.Kind
	LastActions []tools.Outcome // the writes of the last request that changed or would change something
	LastReport  Report
	Turns       int // requests answered before this one
}

// Turn is a planner's answer: calls to make, and what it found. A turn
// without calls ends the planning; its Report is the answer.
type Turn struct {
	Calls  []tools.Call
	Report Report
	Usage  Usage
}

// Done reports whether the turn ends the planning.
func (t Turn) Done() bool { return len(t.Calls) == 0 }

// Usage is what a turn cost at a model provider; zero for the rules planner.
type Usage struct {
	Calls            int
	PromptTokens     int
	CompletionTokens int
	// Redactions counts the credentials taken out of what was sent.
	Redactions int
}

// Report is what a planner found and decided, in parts renderers style.
type Report struct {
	// Diagnosis lists the facts found, one per line ("backend, 3 replicas, Running").
	Diagnosis []string `json:"diagnosis,omitempty"`
	Cause     string   `json:"cause,omitempty"`
	Decision  string   `json:"decision,omitempty"`
	FollowUp  string   `json:"followUp,omitempty"`
	// Text is whatever else the planner said, in its own words (a model's
	// free-text answer, a conversation's answer, a closing note).
	Text string `json:"text,omitempty"`
}

// Empty reports whether the report says nothing.
func (r Report) Empty() bool {
	return len(r.Diagnosis) == 0 && r.Cause == "" && r.Decision == "" && r.FollowUp == "" && r.Text == ""
}

// String is the report as plain text, one part per line, for history and
// JSON summaries.
func (r Report) String() string {
	var lines []string
	if len(r.Diagnosis) > 0 {
		lines = append(lines, "Diagnosis: "+strings.Join(r.Diagnosis, "; "))
	}
	for _, p := range []struct{ label, text string }{{"Cause: ", r.Cause}, {"Decision: ", r.Decision}, {"Follow-up: ", r.FollowUp}, {"", r.Text}} {
		if p.text != "" {
			lines = append(lines, p.label+p.text)
		}
	}
	return strings.Join(lines, "\n")
}
