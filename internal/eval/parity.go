package eval

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
)

// Sim-to-real parity: a run recorded on a real platform (the -o json output
// of ops-skill, named after the scenario it realised) is replayed on the
// simulated platform with the same alert and planner, and both must decide
// the same. Every divergence is a bug in one of the platforms.

// ErrNotRecorded means a parity file holds no run summary.
var ErrNotRecorded = errors.New("no run summary")

// Recorded is one run recorded on another platform.
type Recorded struct {
	Scenario string // the file's name without its extension
	File     string
	Summary  agent.Summary
}

// ReadRecorded reads the runs of dir (a directory, or one file): every
// <scenario>.json or .jsonl file holding ops-skill's -o json output (its last
// summary line counts), sorted by scenario. pattern (comma-separated globs)
// narrows the scenarios.
func ReadRecorded(dir, pattern string) ([]Recorded, error) {
	files, err := recordedFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("read the recorded runs: %w", err)
	}
	globs := splitPattern(pattern)
	var out []Recorded
	for _, file := range files {
		ext := filepath.Ext(file)
		if ext != ".json" && ext != ".jsonl" {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(file), ext)
		if !matchAny(globs, name) {
			continue
		}
		sum, err := readSummary(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		out = append(out, Recorded{Scenario: name, File: file, Summary: sum})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no <scenario>.json file in %s matches %q (write one with ops-skill -o json ALERT > %s/<scenario>.json)",
			ErrNoScenario, dir, pattern, dir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Scenario < out[j].Scenario })
	return out, nil
}

// recordedFiles lists the files of dir, or dir itself when it is a file.
func recordedFiles(dir string) ([]string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{dir}, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// readSummary returns the last summary event of a -o json output.
func readSummary(file string) (agent.Summary, error) {
	f, err := os.Open(file)
	if err != nil {
		return agent.Summary{}, err
	}
	defer f.Close()
	var last []byte
	sc := bufio.NewScanner(io.LimitReader(f, 64<<20))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		var ev struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(line, &ev) == nil && ev.Type == "summary" {
			last = append(last[:0], line...)
		}
	}
	if err := sc.Err(); err != nil {
		return agent.Summary{}, err
	}
	if last == nil {
		return agent.Summary{}, fmt.Errorf("%w: no line of type \"summary\" (record the run with -o json)", ErrNotRecorded)
	}
	var s agent.Summary
	if err := json.Unmarshal(last, &s); err != nil {
		return agent.Summary{}, fmt.Errorf("decode the summary: %w", err)
	}
	if s.Alert == "" {
		return agent.Summary{}, fmt.Errorf("%w: the summary names no alert", ErrNotRecorded)
	}
	return s, nil
}

// Decision is what must agree between platforms: the resolution, each
// write with its status and change, each refused write and the
// verification's result. A refusal's rule may differ: each platform lacks
// different signals (a new pod's CPU history, say).
type Decision struct {
	Resolution string   `json:"resolution"`
	Actions    []string `json:"actions"` // tool:status[:from->to]
	Refused    []string `json:"refused"` // tools
	Verified   string   `json:"verified,omitempty"`
}

// DecisionOf reads a summary's decision.
func DecisionOf(s agent.Summary) Decision {
	d := Decision{Resolution: string(s.Resolution), Actions: []string{}, Refused: []string{}}
	for _, a := range s.Actions {
		k := string(a.Tool) + ":" + a.Status
		if from, ok := a.Params["from"]; ok {
			k += fmt.Sprintf(":%v->%v", from, a.Params["to"])
		}
		d.Actions = append(d.Actions, k)
	}
	for _, r := range s.Refusals {
		d.Refused = append(d.Refused, string(r.Tool))
	}
	if s.Verification != nil {
		d.Verified = string(s.Verification.Result)
	}
	return d
}

// String is the decision in one line.
func (d Decision) String() string {
	parts := []string{d.Resolution}
	parts = append(parts, d.Actions...)
	for _, r := range d.Refused {
		parts = append(parts, r+":refused")
	}
	if d.Verified != "" {
		parts = append(parts, "verified="+d.Verified)
	}
	return strings.Join(parts, " ")
}

// Differences lists how d and o differ; empty when they agree.
func (d Decision) Differences(o Decision) []string {
	var out []string
	if d.Resolution != o.Resolution {
		out = append(out, fmt.Sprintf("resolution %s, simulated %s", d.Resolution, o.Resolution))
	}
	if !slices.Equal(d.Actions, o.Actions) {
		out = append(out, fmt.Sprintf("actions %v, simulated %v", d.Actions, o.Actions))
	}
	if !slices.Equal(d.Refused, o.Refused) {
		out = append(out, fmt.Sprintf("refused %v, simulated %v", d.Refused, o.Refused))
	}
	if d.Verified != o.Verified {
		out = append(out, fmt.Sprintf("verification %q, simulated %q", d.Verified, o.Verified))
	}
	return out
}

// ParityResult compares one recorded run with its simulation.
type ParityResult struct {
	Scenario    string   `json:"scenario"`
	Alert       string   `json:"alert"`
	Where       string   `json:"recordedOn"` // e.g. "cluster ops-skill-test, namespace e2e-cpu-1a2b3c"
	Real        Decision `json:"real"`
	Simulated   Decision `json:"simulated"`
	Same        bool     `json:"same"`
	Differences []string `json:"differences,omitempty"`
	Error       string   `json:"error,omitempty"` // the simulation could not be run
}

// Parity replays each recorded run on its scenario with model m and
// compares the decisions. Cases are looked up by the recorded scenario.
func (r Runner) Parity(ctx context.Context, m Model, cases []Case, recs []Recorded) ([]ParityResult, error) {
	byName := map[string]Case{}
	for _, c := range cases {
		byName[c.Scenario.Name] = c
	}
	var out []ParityResult
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		c, ok := byName[rec.Scenario]
		if !ok {
			return out, fmt.Errorf("%s: %w %q (name the file after a scenario: see 'ops-skill scenarios')", rec.File, ErrNoScenario, rec.Scenario)
		}
		res := ParityResult{Scenario: rec.Scenario, Alert: rec.Summary.Alert, Where: rec.Summary.Platform.String(), Real: DecisionOf(rec.Summary)}
		sum, err := r.simulate(ctx, m, c, rec.Summary.Alert)
		if err != nil {
			res.Error = err.Error()
		} else {
			res.Simulated = DecisionOf(roundTrip(sum))
			res.Differences = res.Real.Differences(res.Simulated)
			res.Same = len(res.Differences) == 0
		}
		out = append(out, res)
	}
	return out, nil
}

// roundTrip passes a summary through JSON, as the recorded one did, so that
// both compare in one representation (numbers as JSON numbers).
func roundTrip(s agent.Summary) agent.Summary {
	b, err := json.Marshal(s)
	if err != nil {
		return s
	}
	var out agent.Summary
	if json.Unmarshal(b, &out) != nil {
		return s
	}
	return out
}

// simulate runs the case once with the given alert text instead of the
// scenario's own alert and returns the run's summary.
func (r Runner) simulate(ctx context.Context, m Model, c Case, text string) (agent.Summary, error) {
	var sum agent.Summary
	err := r.play(ctx, m, c, func(p alert.Parser, now time.Time) ([]alert.Alert, error) {
		a, err := p.ParseText(text, now)
		return []alert.Alert{a}, err
	}, func(o outcome) {
		if len(o.sums) > 0 {
			sum = o.sums[len(o.sums)-1]
		}
	})
	return sum, err
}

// Diverged counts the results that are not the same (errors included).
func Diverged(rs []ParityResult) int {
	n := 0
	for _, r := range rs {
		if !r.Same {
			n++
		}
	}
	return n
}

// WriteParityText writes the parity table.
func WriteParityText(w io.Writer, planner string, rs []ParityResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Sim-to-real parity (planner %s): %d of %d recorded runs decided the same on the simulated platform\n\n", planner, len(rs)-Diverged(rs), len(rs))
	for _, r := range rs {
		verdict := "same"
		if !r.Same {
			verdict = "DIFFERENT"
		}
		fmt.Fprintf(&b, "%s: %s\n  alert:     %s\n  recorded:  %s (%s)\n", r.Scenario, verdict, r.Alert, r.Real, r.Where)
		if r.Error != "" {
			fmt.Fprintf(&b, "  simulated: could not run: %s\n", r.Error)
			continue
		}
		fmt.Fprintf(&b, "  simulated: %s\n", r.Simulated)
		for _, d := range r.Differences {
			fmt.Fprintf(&b, "  differs:   %s\n", d)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteParityJSON writes the results as one JSON document.
func WriteParityJSON(w io.Writer, planner string, rs []ParityResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Planner  string         `json:"planner"`
		Same     int            `json:"same"`
		Diverged int            `json:"diverged"`
		Results  []ParityResult `json:"results"`
	}{planner, len(rs) - Diverged(rs), Diverged(rs), rs})
}
