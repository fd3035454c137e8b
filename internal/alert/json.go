package alert

import (
	"encoding/json"
	"time"

	"github.com/duet-company/ops-skill/internal/units"
)

// wire is Alert without its methods, for the JSON below.
type wire Alert

// MarshalJSON writes the alert with its duration in seconds ("forSeconds"),
// as every duration in ops-skill's JSON.
func (a Alert) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		wire
		ForSeconds units.Seconds `json:"forSeconds,omitempty"`
	}{wire(a), units.Seconds(a.For)})
}

// UnmarshalJSON reads what MarshalJSON writes, and the nanoseconds of "for"
// that earlier versions stored (a firing alert kept by ops-skill serve).
func (a *Alert) UnmarshalJSON(b []byte) error {
	var v struct {
		wire
		ForSeconds *units.Seconds `json:"forSeconds"`
		LegacyFor  *time.Duration `json:"for"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*a = Alert(v.wire)
	switch {
	case v.ForSeconds != nil:
		a.For = v.ForSeconds.Duration()
	case v.LegacyFor != nil:
		a.For = *v.LegacyFor
	}
	return nil
}
