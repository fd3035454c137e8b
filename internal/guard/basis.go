package guard

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// BasisKind names the decision a Basis can be judged again by.
type BasisKind string

// The replayable decisions.
const (
	BasisScale   BasisKind = "scale"   // ScalingPolicy.Decide
	BasisRestart BasisKind = "restart" // HealingPolicy.DecideRestart
)

// ErrInvalidBasis is matched (errors.Is) when a recorded basis cannot be decoded.
var ErrInvalidBasis = errors.New("invalid decision basis")

// Basis is what a decision was made on: its whole input, kept with the
// decision so that the same pure function can judge it again under another
// policy (ops-skill replay). Exactly one of Scale and Restart is set.
type Basis struct {
	Scale   *ScaleInput
	Restart *RestartInput
}

// Kind says which decision the basis belongs to; "" for an empty basis.
func (b Basis) Kind() BasisKind {
	switch {
	case b.Scale != nil:
		return BasisScale
	case b.Restart != nil:
		return BasisRestart
	}
	return ""
}

// Redecide judges the basis again under p. The bool is false for an empty
// basis.
func (p Policy) Redecide(b Basis) (Decision, bool) {
	switch {
	case b.Scale != nil:
		return p.Scaling.Decide(*b.Scale), true
	case b.Restart != nil:
		return p.Healing.DecideRestart(*b.Restart), true
	}
	return Decision{}, false
}

// basisV1 is the recorded form of a Basis. Sample values are strings so
// that NaN and ±Inf (which a window must see to refuse) survive JSON, and
// floats round-trip exactly.
type basisV1 struct {
	V       int         `json:"v"`
	Kind    BasisKind   `json:"kind"`
	Scale   *scaleRec   `json:"scale,omitempty"`
	Restart *restartRec `json:"restart,omitempty"`
}

type scaleRec struct {
	Workload  platform.Workload `json:"workload"`
	Requested int64             `json:"requested"`
	CPU       obsRec            `json:"cpu"`
	ErrorRate obsRec            `json:"errorRate"`
	State     string            `json:"state"`
	Now       time.Time         `json:"now"`
}

type restartRec struct {
	Workload            platform.Workload `json:"workload"`
	Action              string            `json:"action"`
	Pods                []string          `json:"pods,omitempty"`
	State               string            `json:"state"`
	Now                 time.Time         `json:"now"`
	ConsecutiveFailures int               `json:"failures"`
	Reason              string            `json:"reason,omitempty"`
}

type obsRec struct {
	T   []time.Time `json:"t,omitempty"`
	V   []string    `json:"v,omitempty"`
	Err string      `json:"err,omitempty"`
	// Failed distinguishes a failed query with an empty message from none.
	Failed bool `json:"failed,omitempty"`
}

// Encode renders the basis as compact JSON; an empty basis is "".
func (b Basis) Encode() (string, error) {
	rec := basisV1{V: 1, Kind: b.Kind()}
	switch {
	case b.Scale != nil:
		in := b.Scale
		rec.Scale = &scaleRec{Workload: withoutEvents(in.Workload), Requested: in.Requested, CPU: encodeObs(in.CPU),
			ErrorRate: encodeObs(in.ErrorRate), State: in.State.Encode(), Now: in.Now}
	case b.Restart != nil:
		in := b.Restart
		rec.Restart = &restartRec{Workload: withoutEvents(in.Workload), Action: in.Action, Pods: in.Pods, State: in.State.Encode(),
			Now: in.Now, ConsecutiveFailures: in.ConsecutiveFailures, Reason: in.Reason}
	default:
		return "", nil
	}
	out, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("encode decision basis: %w", err)
	}
	return string(out), nil
}

// DecodeBasis parses Encode's output; errors wrap ErrInvalidBasis.
func DecodeBasis(text string) (Basis, error) {
	var rec basisV1
	if err := json.Unmarshal([]byte(text), &rec); err != nil {
		return Basis{}, fmt.Errorf("%w: %w", ErrInvalidBasis, err)
	}
	if rec.V != 1 {
		return Basis{}, fmt.Errorf("%w: version %d", ErrInvalidBasis, rec.V)
	}
	switch {
	case rec.Kind == BasisScale && rec.Scale != nil:
		return decodeScale(*rec.Scale)
	case rec.Kind == BasisRestart && rec.Restart != nil:
		return decodeRestart(*rec.Restart)
	}
	return Basis{}, fmt.Errorf("%w: kind %q without its input", ErrInvalidBasis, rec.Kind)
}

func decodeScale(r scaleRec) (Basis, error) {
	st, err := DecodeState(r.State)
	if err != nil {
		return Basis{}, fmt.Errorf("%w: %w", ErrInvalidBasis, err)
	}
	cpu, err := decodeObs(r.CPU)
	if err != nil {
		return Basis{}, err
	}
	er, err := decodeObs(r.ErrorRate)
	if err != nil {
		return Basis{}, err
	}
	in := ScaleInput{Workload: r.Workload, Requested: r.Requested, CPU: cpu, ErrorRate: er, State: st, Now: r.Now}
	return Basis{Scale: &in}, nil
}

func decodeRestart(r restartRec) (Basis, error) {
	st, err := DecodeState(r.State)
	if err != nil {
		return Basis{}, fmt.Errorf("%w: %w", ErrInvalidBasis, err)
	}
	in := RestartInput{Workload: r.Workload, Action: r.Action, Pods: r.Pods, State: st, Now: r.Now,
		ConsecutiveFailures: r.ConsecutiveFailures, Reason: r.Reason}
	return Basis{Restart: &in}, nil
}

func encodeObs(o Observation) obsRec {
	var r obsRec
	if o.Err != nil {
		r.Err, r.Failed = o.Err.Error(), true
	}
	for _, s := range o.Samples {
		r.T = append(r.T, s.T)
		r.V = append(r.V, strconv.FormatFloat(s.V, 'g', -1, 64))
	}
	return r
}

func decodeObs(r obsRec) (Observation, error) {
	var o Observation
	if r.Failed {
		o.Err = errors.New(r.Err)
	}
	if len(r.T) != len(r.V) {
		return Observation{}, fmt.Errorf("%w: %d sample times for %d values", ErrInvalidBasis, len(r.T), len(r.V))
	}
	for i, t := range r.T {
		v, err := strconv.ParseFloat(r.V[i], 64)
		if err != nil {
			return Observation{}, fmt.Errorf("%w: sample %d: %w", ErrInvalidBasis, i, err)
		}
		o.Samples = append(o.Samples, platform.Sample{T: t, V: v})
	}
	return o, nil
}

// withoutEvents drops the workload's events, which neither decision reads,
// so a recorded basis stays small.
func withoutEvents(w platform.Workload) platform.Workload {
	w.Events = nil
	return w
}
