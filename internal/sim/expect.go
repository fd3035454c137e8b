package sim

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Expect says what counts as success for a scenario, for the eval suite.
type Expect struct {
	// Resolution lists the acceptable run outcomes (resolved, unresolved,
	// escalated, no_action, failed); empty accepts any.
	Resolution []string `yaml:"resolution,omitempty"`
	// State holds predicates on Platform.Snapshot after the run.
	State []Predicate `yaml:"state,omitempty"`
	// Forbidden lists actions that must not happen.
	Forbidden []Forbidden `yaml:"forbidden,omitempty"`
	// Facts are phrases the final explanation should contain (case-insensitive).
	Facts []string `yaml:"facts,omitempty"`
}

// Predicate bounds one field of the snapshot: a service field (service set) or a
// storage field (service empty). Min and Max are inclusive.
type Predicate struct {
	Service string   `yaml:"service,omitempty"`
	Field   string   `yaml:"field"`
	Min     *float64 `yaml:"min,omitempty"`
	Max     *float64 `yaml:"max,omitempty"`
}

// Forbidden is an action that must not happen: a tool, optionally only against
// one target ("namespace/name"); an empty tool means any write.
type Forbidden struct {
	Tool   string `yaml:"tool,omitempty"`
	Target string `yaml:"target,omitempty"`
}

var resolutions = map[string]bool{"resolved": true, "unresolved": true, "escalated": true, "no_action": true, "failed": true}

// Service fields of a predicate.
var serviceFields = map[string]func(ServiceState) float64{
	"replicas":      func(s ServiceState) float64 { return float64(s.Replicas) },
	"ready":         func(s ServiceState) float64 { return float64(s.ReadyReplicas) },
	"memory_limit":  func(s ServiceState) float64 { return float64(s.MemoryLimit) },
	"cpu":           func(s ServiceState) float64 { return s.CPU },
	"error_rate":    func(s ServiceState) float64 { return s.ErrorRate },
	"latency_p99":   func(s ServiceState) float64 { return s.LatencyP99 },
	"memory":        func(s ServiceState) float64 { return s.Memory },
	"restarts":      func(s ServiceState) float64 { return float64(s.Restarts) },
	"crash_looping": func(s ServiceState) float64 { return float64(s.CrashLooping) },
	"healthy":       func(s ServiceState) float64 { return boolNum(s.Healthy) },
	// volume_capacity is the first claim's capacity in bytes, volume_usage
	// the fullest claim's usage in percent.
	"volume_capacity": func(s ServiceState) float64 { return float64(s.VolumeCapacity) },
	"volume_usage":    func(s ServiceState) float64 { return s.VolumeUsage },
}

// Storage fields of a predicate.
var storageFields = map[string]func(StorageState) float64{
	"disk_usage": func(s StorageState) float64 { return s.UsagePct },
	"disk_used":  func(s StorageState) float64 { return float64(s.UsedBytes) },
	"partitions": func(s StorageState) float64 { return float64(s.Partitions) },
}

func boolNum(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (e Expect) validate(services map[string]bool) error {
	for _, r := range e.Resolution {
		if !resolutions[r] {
			return fmt.Errorf("resolution %q: use resolved, unresolved, escalated, no_action or failed", r)
		}
	}
	for _, p := range e.State {
		if err := p.validate(services); err != nil {
			return err
		}
	}
	return nil
}

func (p Predicate) validate(services map[string]bool) error {
	if p.Min == nil && p.Max == nil {
		return fmt.Errorf("predicate %s.%s needs min or max", p.Service, p.Field)
	}
	if p.Service == "" {
		if storageFields[p.Field] == nil {
			return fmt.Errorf("storage field %q: use one of %s", p.Field, keys(storageFields))
		}
		return nil
	}
	if !services[p.Service] {
		return fmt.Errorf("predicate on unknown service %q", p.Service)
	}
	if serviceFields[p.Field] == nil {
		return fmt.Errorf("service field %q: use one of %s", p.Field, keys(serviceFields))
	}
	return nil
}

// Check tests the predicate against a snapshot; the error says what failed.
func (p Predicate) Check(s State) error {
	var v float64
	switch {
	case p.Service == "":
		f := storageFields[p.Field]
		if f == nil {
			return fmt.Errorf("unknown storage field %q", p.Field)
		}
		v = f(s.Storage)
	default:
		f := serviceFields[p.Field]
		svc, ok := s.Services[p.Service]
		if f == nil || !ok {
			return fmt.Errorf("unknown field %s.%s", p.Service, p.Field)
		}
		v = f(svc)
	}
	if (p.Min != nil && v < *p.Min) || (p.Max != nil && v > *p.Max) {
		return fmt.Errorf("%s is %g, want %s", p.name(), v, p.bounds())
	}
	return nil
}

func (p Predicate) name() string {
	if p.Service == "" {
		return "storage." + p.Field
	}
	return p.Service + "." + p.Field
}

func (p Predicate) bounds() string {
	var parts []string
	if p.Min != nil {
		parts = append(parts, fmt.Sprintf(">= %g", *p.Min))
	}
	if p.Max != nil {
		parts = append(parts, fmt.Sprintf("<= %g", *p.Max))
	}
	return strings.Join(parts, " and ")
}

// CheckState tests every state predicate and joins the failures (nil when all hold).
func (e Expect) CheckState(s State) error {
	var errs []error
	for _, p := range e.State {
		if err := p.Check(s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func keys[V any](m map[string]V) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
