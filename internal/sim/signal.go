package sim

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	"go.yaml.in/yaml/v3"
)

// Signal is a scenario input that may change over time: a base value and steps
// at times relative to the virtual start (negative = in the past). It is written
// either as a scalar (`demand: 180`) or as a mapping
// (`demand: {value: 100, steps: [{at: -15m, value: 180}]}`); the value at time t
// is that of the last step at or before t, else the base value.
type Signal[T any] struct {
	Value T         `yaml:"value"`
	Steps []Step[T] `yaml:"steps,omitempty"`
}

// Step is one change of a Signal at a time relative to the virtual start.
type Step[T any] struct {
	At    time.Duration `yaml:"at"`
	Value T             `yaml:"value"`
}

type signalFields[T any] struct {
	Value T         `yaml:"value"`
	Steps []Step[T] `yaml:"steps,omitempty"`
}

// UnmarshalYAML accepts the scalar shorthand and the strict mapping form.
func (s *Signal[T]) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = Signal[T]{}
		return n.Decode(&s.Value)
	}
	var f signalFields[T]
	if err := strictDecode(n, &f); err != nil {
		return err
	}
	*s = Signal[T](f)
	return nil
}

func (s Signal[T]) validate() error {
	for i := 1; i < len(s.Steps); i++ {
		if s.Steps[i].At <= s.Steps[i-1].At {
			return fmt.Errorf("steps must be in increasing order of at (%s after %s)", s.Steps[i].At, s.Steps[i-1].At)
		}
	}
	return nil
}

// strictDecode decodes a node rejecting unknown fields; yaml.Node.Decode alone
// would not, because it does not inherit the outer decoder's settings.
func strictDecode(n *yaml.Node, out any) error {
	raw, err := yaml.Marshal(n)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return fmt.Errorf("in the mapping at line %d: %w", n.Line, err)
		}
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// stepFn is a Signal resolved to absolute time: piecewise constant.
type stepFn struct {
	base float64
	at   []time.Time
	v    []float64
}

func resolve[T any](s Signal[T], start time.Time, conv func(T) float64) stepFn {
	f := stepFn{base: conv(s.Value)}
	for _, st := range s.Steps {
		f.at = append(f.at, start.Add(st.At))
		f.v = append(f.v, conv(st.Value))
	}
	return f
}

func constFn(v float64) stepFn { return stepFn{base: v} }

// value returns the value at t.
func (f stepFn) value(t time.Time) float64 {
	v := f.base
	for i, at := range f.at {
		if at.After(t) {
			break
		}
		v = f.v[i]
	}
	return v
}

// interval is a half-open time range [from, to); a zero to means unbounded.
type interval struct{ from, to time.Time }

func (iv interval) contains(t time.Time) bool {
	return !t.Before(iv.from) && (iv.to.IsZero() || t.Before(iv.to))
}

// above returns the maximal intervals in which the function exceeds th. The
// first interval starts at the zero time when the base value already exceeds it.
func (f stepFn) above(th float64) []interval {
	var out []interval
	open := f.base > th
	var from time.Time
	for i, at := range f.at {
		over := f.v[i] > th
		switch {
		case over && !open:
			from, open = at, true
		case !over && open:
			out = append(out, interval{from: from, to: at})
			open = false
		}
	}
	if open {
		out = append(out, interval{from: from})
	}
	return out
}

// Override replaces what the monitoring system reports for one metric of one
// service, without changing the modelled state: a value (a dip, a spike, a stuck
// series) or a gap (no samples). It applies from At for For (0: open-ended);
// where several apply, the one with the latest At wins.
type Override struct {
	At    time.Duration `yaml:"at"`
	For   time.Duration `yaml:"for,omitempty"`
	Value *float64      `yaml:"value,omitempty"`
	Gap   bool          `yaml:"gap,omitempty"`
}

func (o Override) validate() error {
	switch {
	case o.Gap == (o.Value != nil):
		return errors.New("an override needs exactly one of value and gap")
	case o.For < 0:
		return errors.New("override for must not be negative")
	case o.Value != nil && (math.IsNaN(*o.Value) || *o.Value < 0):
		return errors.New("override value must be a non-negative number")
	}
	return nil
}

// applyOverrides returns the reported value at t: (v, true) when the model's
// value stands or an override sets one, (0, false) in a gap.
func applyOverrides(ovs []Override, start, t time.Time, v float64) (float64, bool) {
	best := -1
	for i, o := range ovs {
		from := start.Add(o.At)
		if t.Before(from) || (o.For > 0 && !t.Before(from.Add(o.For))) {
			continue
		}
		if best < 0 || o.At >= ovs[best].At {
			best = i
		}
	}
	if best < 0 {
		return v, true
	}
	if ovs[best].Gap {
		return 0, false
	}
	return *ovs[best].Value, true
}
