package platform

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestHealthResultJSONCarriesLatencyInMilliseconds(t *testing.T) {
	h := HealthResult{Service: "backend", Check: "http /health", OK: true, Latency: 1500 * time.Microsecond, At: time.Date(2026, 2, 16, 10, 0, 0, 0, time.UTC)}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"latencyMs":1.5`) {
		t.Errorf("health JSON = %s, want latencyMs 1.5", b)
	}
	var back HealthResult
	if err := json.Unmarshal(b, &back); err != nil || back != h {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, h)
	}
	var list []HealthResult
	if err := json.Unmarshal([]byte(`[{"service":"redis","ok":false,"latencyMs":200}]`), &list); err != nil || list[0].Latency != 200*time.Millisecond {
		t.Errorf("list = %+v, %v", list, err)
	}
}
