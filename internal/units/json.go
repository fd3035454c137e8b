package units

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The JSON ops-skill prints carries durations as numbers with the unit in
// the field's name: seconds in fields ending in "Seconds" (forSeconds,
// waitedSeconds, timeToResolutionSeconds) and milliseconds in latencies
// ending in "Ms" (latencyMs). Never nanoseconds, which is what a bare
// time.Duration would give.

// Seconds is a duration that JSON carries as a number of seconds (to the
// millisecond); name its fields "…Seconds".
type Seconds time.Duration

// Duration returns s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) }

// String formats s compactly, as Duration does.
func (s Seconds) String() string { return Duration(time.Duration(s)) }

// MarshalJSON writes s as a number of seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return number(time.Duration(s).Round(time.Millisecond).Seconds()), nil
}

// UnmarshalJSON reads a number of seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	v, err := parseNumber(b, "seconds")
	if err != nil {
		return err
	}
	*s = Seconds(math.Round(v * float64(time.Second)))
	return nil
}

// Millis is a duration that JSON carries as a number of milliseconds (to the
// microsecond); name its fields "…Ms".
type Millis time.Duration

// Duration returns m as a time.Duration.
func (m Millis) Duration() time.Duration { return time.Duration(m) }

// MarshalJSON writes m as a number of milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return number(float64(time.Duration(m).Round(time.Microsecond)) / float64(time.Millisecond)), nil
}

// UnmarshalJSON reads a number of milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	v, err := parseNumber(b, "milliseconds")
	if err != nil {
		return err
	}
	*m = Millis(math.Round(v * float64(time.Millisecond)))
	return nil
}

func number(v float64) []byte { return strconv.AppendFloat(nil, v, 'f', -1, 64) }

func parseNumber(b []byte, unit string) (float64, error) {
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, fmt.Errorf("a duration in %s must be a number, got %s", unit, b)
	}
	if math.IsInf(v, 0) || math.Abs(v) > float64(math.MaxInt64)/float64(time.Second) {
		return 0, fmt.Errorf("a duration of %s %s is out of range", b, unit)
	}
	return v, nil
}
