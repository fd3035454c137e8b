package platform

import (
	"encoding/json"
	"math"
	"time"
)

// Durations in ops-skill's JSON are numbers with the unit in the field's
// name (internal/units); latencies are milliseconds, "latencyMs".

// healthWire is HealthResult without its methods, for the JSON below.
type healthWire HealthResult

// MarshalJSON writes the result with its latency in milliseconds ("latencyMs").
func (h HealthResult) MarshalJSON() ([]byte, error) {
	ms := float64(h.Latency.Round(time.Microsecond)) / float64(time.Millisecond)
	return json.Marshal(struct {
		healthWire
		LatencyMs float64 `json:"latencyMs"`
	}{healthWire(h), ms})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (h *HealthResult) UnmarshalJSON(b []byte) error {
	var v struct {
		healthWire
		LatencyMs float64 `json:"latencyMs"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*h = HealthResult(v.healthWire)
	h.Latency = time.Duration(math.Round(v.LatencyMs * float64(time.Millisecond)))
	return nil
}
