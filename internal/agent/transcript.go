package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/duet-company/ops-skill/internal/plan"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

// TranscriptVersion is the version of the Transcript record this binary
// writes, and the only one it reads.
const TranscriptVersion = 1

// ErrTranscript means a saved conversation cannot be resumed: it is of
// another version, or it names a risk or status this binary does not know.
var ErrTranscript = errors.New("conversation transcript cannot be resumed")

// Transcript is what a conversation remembers, as a versioned JSON record:
// Conversation.Save gives it, Agent.ResumeConversation continues from it.
// It keeps each turn's exchange (what a model is told of it) and the typed
// context the planners read; tool results are not kept.
type Transcript struct {
	Version int              `json:"version"`
	Turns   []TranscriptTurn `json:"turns"`
}

// TranscriptTurn is one answered request.
type TranscriptTurn struct {
	Request string     `json:"request"`
	Answer  string     `json:"answer,omitempty"`
	Digest  string     `json:"digest,omitempty"`
	Facts   plan.Facts `json:"facts"`
	// ForSeconds is Facts.For, which plan.Facts leaves out of its JSON.
	ForSeconds units.Seconds        `json:"forSeconds,omitempty"`
	Subject    platform.WorkloadRef `json:"subject"`
	Actions    []TranscriptOutcome  `json:"actions,omitempty"`
	Report     plan.Report          `json:"report"`
}

// TranscriptOutcome is a write of a turn, without its result.
type TranscriptOutcome struct {
	Tool    tools.Name     `json:"tool"`
	Risk    string         `json:"risk"` // tools.Risk's name: write or destructive
	Target  string         `json:"target,omitempty"`
	Status  tools.Status   `json:"status"`
	Summary string         `json:"summary,omitempty"`
	Rule    string         `json:"rule,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	Params  map[string]any `json:"params,omitempty"`
	Error   string         `json:"error,omitempty"`
}

// Save returns the conversation so far as a transcript. It shares nothing
// with the conversation.
func (c *Conversation) Save() Transcript {
	t := Transcript{Version: TranscriptVersion, Turns: make([]TranscriptTurn, 0, len(c.turns))}
	for _, r := range c.turns {
		t.Turns = append(t.Turns, saveTurn(r))
	}
	return t
}

// ResumeConversation continues a saved conversation: later requests are
// told the earlier exchanges and read their typed context, as if asked in
// the same session. It fails, with ErrTranscript, only for a transcript
// Validate refuses. Whole numbers in the writes' parameters, which JSON
// gives back as float64, become int64 again.
func (a *Agent) ResumeConversation(t Transcript) (*Conversation, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	c := a.NewConversation()
	for _, tt := range t.Turns {
		c.turns = append(c.turns, restoreTurn(tt))
	}
	return c, nil
}

// Validate checks that this binary can resume the transcript: its version,
// and the risk and status of each write (ErrTranscript when not).
func (t Transcript) Validate() error {
	if t.Version != TranscriptVersion {
		return fmt.Errorf("%w: version %d, this binary reads version %d", ErrTranscript, t.Version, TranscriptVersion)
	}
	for i, tt := range t.Turns {
		for _, o := range tt.Actions {
			if _, ok := parseRisk(o.Risk); !ok {
				return fmt.Errorf("%w: turn %d: %s: unknown risk %q", ErrTranscript, i+1, o.Tool, o.Risk)
			}
			if !knownStatus(o.Status) {
				return fmt.Errorf("%w: turn %d: %s: unknown status %q", ErrTranscript, i+1, o.Tool, o.Status)
			}
		}
	}
	return nil
}

// ParseTranscript decodes a transcript saved as JSON (json.Marshal of a
// Transcript) and validates it.
func ParseTranscript(b []byte) (Transcript, error) {
	var t Transcript
	if err := json.Unmarshal(b, &t); err != nil {
		return Transcript{}, fmt.Errorf("%w: %w", ErrTranscript, err)
	}
	if err := t.Validate(); err != nil {
		return Transcript{}, err
	}
	return t, nil
}

// MapText returns the transcript with f applied to each text in it (the
// requests, answers, digests, reports and write summaries), for example to
// redact secrets before it is stored.
func (t Transcript) MapText(f func(string) string) Transcript {
	out := Transcript{Version: t.Version, Turns: make([]TranscriptTurn, len(t.Turns))}
	for i, tt := range t.Turns {
		tt.Request, tt.Answer, tt.Digest = f(tt.Request), f(tt.Answer), f(tt.Digest)
		tt.Report = mapReport(tt.Report, f)
		acts := make([]TranscriptOutcome, len(tt.Actions))
		for j, o := range tt.Actions {
			o.Summary, o.Reason, o.Error = f(o.Summary), f(o.Reason), f(o.Error)
			acts[j] = o
		}
		if tt.Actions != nil {
			tt.Actions = acts
		}
		out.Turns[i] = tt
	}
	return out
}

func mapReport(r plan.Report, f func(string) string) plan.Report {
	if r.Diagnosis != nil {
		d := make([]string, len(r.Diagnosis))
		for i, s := range r.Diagnosis {
			d[i] = f(s)
		}
		r.Diagnosis = d
	}
	r.Cause, r.Decision, r.FollowUp, r.Text = f(r.Cause), f(r.Decision), f(r.FollowUp), f(r.Text)
	return r
}

func saveTurn(r turnRecord) TranscriptTurn {
	t := TranscriptTurn{Request: r.exchange.Request, Answer: r.exchange.Answer, Digest: r.exchange.Digest,
		Facts: r.facts, ForSeconds: units.Seconds(r.facts.For), Subject: r.subject, Report: mapReport(r.report, same)}
	for _, o := range r.actions {
		t.Actions = append(t.Actions, TranscriptOutcome{Tool: o.Tool, Risk: o.Risk.String(), Target: o.Target, Status: o.Status,
			Summary: o.Summary, Rule: o.Rule, Reason: o.Reason, Params: copyParams(o.Params), Error: o.Error})
	}
	return t
}

// restoreTurn is the turn a validated transcript turn remembers.
func restoreTurn(t TranscriptTurn) turnRecord {
	r := turnRecord{exchange: plan.Exchange{Request: t.Request, Answer: t.Answer, Digest: t.Digest},
		facts: t.Facts, subject: t.Subject, report: mapReport(t.Report, same)}
	r.facts.For = t.ForSeconds.Duration()
	for _, o := range t.Actions {
		risk, _ := parseRisk(o.Risk) // validated
		r.actions = append(r.actions, tools.Outcome{Tool: o.Tool, Risk: risk, Target: o.Target, Status: o.Status,
			Summary: o.Summary, Rule: o.Rule, Reason: o.Reason, Params: restoreParams(o.Params), Error: o.Error})
	}
	return r
}

func same(s string) string { return s }

// parseRisk reads back a tools.Risk's name.
func parseRisk(name string) (tools.Risk, bool) {
	for r := tools.RiskRead; r <= tools.RiskDestructive; r++ {
		if r.String() == name {
			return r, true
		}
	}
	return 0, false
}

func knownStatus(s tools.Status) bool {
	switch s {
	case tools.StatusOK, tools.StatusExecuted, tools.StatusDryRun, tools.StatusRefused, tools.StatusInvalid, tools.StatusFailed, tools.StatusCanceled:
		return true
	}
	return false
}

func copyParams(p map[string]any) map[string]any {
	if p == nil {
		return nil
	}
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// restoreParams turns the numbers JSON gave back (float64) into int64 when
// they are whole, as the tools' counts and sizes were.
func restoreParams(p map[string]any) map[string]any {
	out := copyParams(p)
	for k, v := range out {
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			out[k] = int64(f)
		}
	}
	return out
}
