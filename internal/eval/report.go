package eval

import (
	"sort"
	"time"
)

// RunResult is one run of one scenario.
type RunResult struct {
	Run        int    `json:"run"`
	Pass       bool   `json:"pass"`
	Resolution string `json:"resolution"`
	// Failures says why the run did not pass (resolution, state, facts, unsafe).
	Failures []string    `json:"failures,omitempty"`
	Unsafe   []Violation `json:"unsafe,omitempty"`
	// Explanation is what the planner said over the run (clipped).
	Explanation string `json:"explanation,omitempty"`
	// Actions are the executed writes; Refusals the calls the guard refused.
	Actions  []string `json:"actions,omitempty"`
	Refusals []string `json:"refusals,omitempty"`
	// Planner is who planned last (the rules planner after a fallback).
	Planner   string `json:"planner,omitempty"`
	Fallbacks int    `json:"fallbacks,omitempty"`
	LLMCalls  int    `json:"llmCalls"`
	TokensIn  int    `json:"tokensIn"`
	TokensOut int    `json:"tokensOut"`
	ToolCalls int    `json:"toolCalls"`
	// SimSeconds is the virtual time the run took (settle waits included);
	// TTRSeconds is set when the run resolved the alert.
	SimSeconds float64  `json:"simSeconds"`
	TTRSeconds *float64 `json:"ttrSeconds,omitempty"`
	// Rejected lists requests the scripted model's server refused as the real API would.
	Rejected []string `json:"rejected,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// ScenarioResult aggregates the K runs of one scenario.
type ScenarioResult struct {
	Scenario string `json:"scenario"`
	Runs     int    `json:"runs"`
	Passed   int    `json:"passed"`
	// PassAt1 is the share of runs that passed (the estimate of pass@1);
	// PassAllK is true when every run passed (pass^K).
	PassAt1  float64 `json:"passAt1"`
	PassAllK bool    `json:"passAllK"`
	Unsafe   int     `json:"unsafe"`
	// Resolution is the most frequent resolution of the runs.
	Resolution string `json:"resolution"`
	// Means per run.
	LLMCalls  float64 `json:"llmCalls"`
	TokensIn  float64 `json:"tokensIn"`
	TokensOut float64 `json:"tokensOut"`
	ToolCalls float64 `json:"toolCalls"`
	// TTRSeconds is the mean virtual time to resolution of the resolved runs.
	TTRSeconds *float64    `json:"ttrSeconds,omitempty"`
	Results    []RunResult `json:"results"`
}

// Totals aggregate a model's results over the suite.
type Totals struct {
	Scenarios int `json:"scenarios"`
	Runs      int `json:"runs"`
	// PassedRuns / Runs is the overall pass@1; PassedAllK / Scenarios the overall pass^K.
	PassedRuns int     `json:"passedRuns"`
	PassedAllK int     `json:"passedAllK"`
	PassAt1    float64 `json:"passAt1"`
	PassAllK   float64 `json:"passAllK"`
	// Unsafe counts violations over all runs (must be 0).
	Unsafe    int `json:"unsafe"`
	Fallbacks int `json:"fallbacks"`
	Rejected  int `json:"rejected"`
	LLMCalls  int `json:"llmCalls"`
	TokensIn  int `json:"tokensIn"`
	TokensOut int `json:"tokensOut"`
	ToolCalls int `json:"toolCalls"`
	// TTRSeconds is the mean virtual time to resolution over resolved runs.
	TTRSeconds *float64 `json:"ttrSeconds,omitempty"`
}

// ModelReport is one model's results.
type ModelReport struct {
	Model     string           `json:"model"`
	Scenarios []ScenarioResult `json:"scenarios"`
	Total     Totals           `json:"total"`
}

// Report is a whole evaluation: one or more models over the same suite.
type Report struct {
	Start  time.Time     `json:"start"`
	Runs   int           `json:"runs"`
	Models []ModelReport `json:"models"`
	// Parity holds the comparisons of a parity run (Options.ParityDir),
	// made with the planner ParityPlanner; Models is empty then.
	Parity        []ParityResult `json:"parity,omitempty"`
	ParityPlanner string         `json:"parityPlanner,omitempty"`
}

// Unsafe is the number of violations over every model and run.
func (r Report) Unsafe() int {
	n := 0
	for _, m := range r.Models {
		n += m.Total.Unsafe
	}
	return n
}

// aggregate fills the scenario's figures from its runs (in sr.Results).
func (sr ScenarioResult) aggregate(runs []RunResult) ScenarioResult {
	sr.Results, sr.Runs = runs, len(runs)
	counts := map[string]int{}
	var ttr []float64
	for _, r := range runs {
		if r.Pass {
			sr.Passed++
		}
		sr.Unsafe += len(r.Unsafe)
		counts[r.Resolution]++
		sr.LLMCalls += float64(r.LLMCalls)
		sr.TokensIn += float64(r.TokensIn)
		sr.TokensOut += float64(r.TokensOut)
		sr.ToolCalls += float64(r.ToolCalls)
		if r.TTRSeconds != nil {
			ttr = append(ttr, *r.TTRSeconds)
		}
	}
	if n := float64(len(runs)); n > 0 {
		sr.PassAt1 = float64(sr.Passed) / n
		sr.LLMCalls, sr.TokensIn, sr.TokensOut, sr.ToolCalls = sr.LLMCalls/n, sr.TokensIn/n, sr.TokensOut/n, sr.ToolCalls/n
	}
	sr.PassAllK = len(runs) > 0 && sr.Passed == len(runs)
	sr.Resolution = mostFrequent(counts)
	sr.TTRSeconds = mean(ttr)
	return sr
}

func totals(scs []ScenarioResult) Totals {
	t := Totals{Scenarios: len(scs)}
	var ttr []float64
	for _, s := range scs {
		t.Runs += s.Runs
		t.PassedRuns += s.Passed
		if s.PassAllK {
			t.PassedAllK++
		}
		t.Unsafe += s.Unsafe
		for _, r := range s.Results {
			t.Fallbacks += r.Fallbacks
			t.Rejected += len(r.Rejected)
			t.LLMCalls += r.LLMCalls
			t.TokensIn += r.TokensIn
			t.TokensOut += r.TokensOut
			t.ToolCalls += r.ToolCalls
			if r.TTRSeconds != nil {
				ttr = append(ttr, *r.TTRSeconds)
			}
		}
	}
	if t.Runs > 0 {
		t.PassAt1 = float64(t.PassedRuns) / float64(t.Runs)
	}
	if t.Scenarios > 0 {
		t.PassAllK = float64(t.PassedAllK) / float64(t.Scenarios)
	}
	t.TTRSeconds = mean(ttr)
	return t
}

// mostFrequent picks the most frequent key, the first in lexical order on ties.
func mostFrequent(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best := ""
	for _, k := range keys {
		if best == "" || counts[k] > counts[best] {
			best = k
		}
	}
	return best
}

func mean(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	m := s / float64(len(v))
	return &m
}
