package sim

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/duet-company/ops-skill/internal/platform"
)

// isLabel and isName check Kubernetes names with apimachinery's rules.
func isLabel(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }
func isName(s string) bool  { return len(validation.IsDNS1123Subdomain(s)) == 0 }

// Validate checks a scenario (with defaults applied) for consistency. Errors
// wrap ErrInvalidScenario and name the offending field.
func (s Scenario) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidScenario, err)
	}
	return nil
}

func (s Scenario) validate() error {
	switch {
	case s.Name == "":
		return errors.New("name is required")
	case strings.TrimSpace(s.Description) == "":
		return errors.New("description is required")
	case strings.TrimSpace(s.Alert) == "":
		return errors.New("alert is required")
	case !isLabel(s.Namespace):
		return fmt.Errorf("namespace %q is not a valid name", s.Namespace)
	case s.Step <= 0 || s.History < 0:
		return errors.New("step must be positive and history not negative")
	case len(s.Services) == 0:
		return errors.New("at least one service is required")
	}
	seen := map[string]bool{}
	for _, sv := range s.Services {
		if seen[sv.Name] {
			return fmt.Errorf("service %q is defined twice", sv.Name)
		}
		seen[sv.Name] = true
		if err := sv.validate(); err != nil {
			return fmt.Errorf("service %q: %w", sv.Name, err)
		}
	}
	if err := validateDependencies(s.Services, seen); err != nil {
		return err
	}
	if s.Storage != nil {
		if !seen[s.Storage.Service] {
			return fmt.Errorf("storage: service %q is not a service of the scenario", s.Storage.Service)
		}
		if err := s.Storage.validate(); err != nil {
			return fmt.Errorf("storage: %w", err)
		}
	}
	if err := s.Expect.validate(seen); err != nil {
		return fmt.Errorf("expect: %w", err)
	}
	return nil
}

func validateDependencies(svcs []Service, names map[string]bool) error {
	for _, sv := range svcs {
		for _, d := range sv.DependsOn {
			if !names[d] || d == sv.Name {
				return fmt.Errorf("service %q: depends_on %q is not another service of the scenario", sv.Name, d)
			}
		}
	}
	return nil
}

func (sv Service) validate() error {
	switch {
	case !isName(sv.Name):
		return errors.New("name must be a lowercase DNS label")
	case sv.Kind != "Deployment" && sv.Kind != "StatefulSet":
		return fmt.Errorf("kind %q: use Deployment or StatefulSet", sv.Kind)
	case sv.Replicas < 0:
		return errors.New("replicas must not be negative")
	case sv.Startup < 0 || sv.PodAge < 0 || sv.Memory.CrashAfter < 0 || sv.Memory.CrashPeriod < 0 || sv.Logs.Interval < 0:
		return errors.New("durations must not be negative")
	case len(sv.Containers) == 0:
		return errors.New("at least one container is required")
	case sv.DisruptionBudget != nil && sv.DisruptionBudget.MinAvailable < 0:
		return errors.New("disruption_budget.min_available must not be negative")
	}
	if _, _, err := parseHealth(sv.Health); err != nil {
		return err
	}
	if err := validateContainers(sv.Containers, sv.Memory.Container); err != nil {
		return err
	}
	if err := sv.Load.validate(); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if sv.Memory.WorkingSet != nil {
		if err := sv.Memory.WorkingSet.validate(); err != nil {
			return fmt.Errorf("memory.working_set: %w", err)
		}
	}
	for _, ev := range sv.Events {
		if ev.Type != "Normal" && ev.Type != "Warning" {
			return fmt.Errorf("event %q: type must be Normal or Warning", ev.Reason)
		}
	}
	if err := sv.Volume.validate(sv.Kind); err != nil {
		return fmt.Errorf("volume: %w", err)
	}
	return validateOverrides(sv.Metrics)
}

// validate checks a claim's model; nil is none (a Deployment's).
func (v *VolumeSpec) validate(kind string) error {
	if v == nil {
		return nil
	}
	switch {
	case kind != "StatefulSet":
		return errors.New("only a StatefulSet has claims (data-NAME-ORDINAL)")
	case v.Size <= 0 || v.GrowthPerDay < 0:
		return errors.New("size must be positive and growth_per_day not negative")
	case v.ResizeAfter < 0 || v.FileSystemResizeAfter < 0:
		return errors.New("durations must not be negative")
	case !isName(v.StorageClass):
		return fmt.Errorf("storage_class %q is not a valid name", v.StorageClass)
	}
	if err := v.Used.validate(); err != nil {
		return fmt.Errorf("used: %w", err)
	}
	for _, u := range append([]Bytes{v.Used.Value}, stepValues(v.Used.Steps)...) {
		if u < 0 || u > v.Size {
			return fmt.Errorf("used %d must be between 0 and the size %d", u, v.Size)
		}
	}
	return nil
}

func stepValues[T any](steps []Step[T]) []T {
	out := make([]T, len(steps))
	for i, s := range steps {
		out[i] = s.Value
	}
	return out
}

func validateContainers(cs []ContainerSpec, memContainer string) error {
	names := map[string]bool{}
	for _, c := range cs {
		switch {
		case !isLabel(c.Name):
			return fmt.Errorf("container name %q is not a DNS label", c.Name)
		case names[c.Name]:
			return fmt.Errorf("container %q is defined twice", c.Name)
		case c.MemoryLimit > 0 && c.MemoryRequest > c.MemoryLimit:
			return fmt.Errorf("container %q: memory_request above memory_limit", c.Name)
		case c.CPULimit > 0 && c.CPURequest > c.CPULimit:
			return fmt.Errorf("container %q: cpu_request above cpu_limit", c.Name)
		}
		names[c.Name] = true
	}
	if !names[memContainer] {
		return fmt.Errorf("memory.container %q is not a container of the service", memContainer)
	}
	return nil
}

func (l Load) validate() error {
	for _, v := range []float64{l.Knee, l.Amplification, l.IdleCPU, l.LatencyMS, l.LatencySlopeMS, l.TimeoutMS, l.ErrorSlope, l.DependencyErrorRate} {
		if v < 0 {
			return errors.New("numbers must not be negative")
		}
	}
	sigs := []Signal[float64]{l.Demand, l.ErrorRate}
	if l.RequestRate != nil {
		sigs = append(sigs, *l.RequestRate)
	}
	for _, s := range sigs {
		if err := s.validate(); err != nil {
			return err
		}
		if s.Value < 0 {
			return errors.New("signal values must not be negative")
		}
		for _, st := range s.Steps {
			if st.Value < 0 {
				return errors.New("signal values must not be negative")
			}
		}
	}
	return nil
}

func validateOverrides(m map[string][]Override) error {
	for name, ovs := range m {
		if !knownMetric(platform.MetricName(name)) {
			return fmt.Errorf("metrics: unknown metric %q", name)
		}
		for _, o := range ovs {
			if err := o.validate(); err != nil {
				return fmt.Errorf("metrics.%s: %w", name, err)
			}
		}
	}
	return nil
}

func knownMetric(m platform.MetricName) bool {
	for _, k := range platform.KnownMetrics {
		if k == m {
			return true
		}
	}
	return false
}

// parseHealth splits "http /health" or "tcp 8123".
func parseHealth(h string) (kind, target string, err error) {
	kind, target, ok := strings.Cut(h, " ")
	switch {
	case ok && kind == "http" && strings.HasPrefix(target, "/"):
		return kind, target, nil
	case ok && kind == "tcp":
		if p, perr := strconv.Atoi(target); perr == nil && p > 0 && p < 65536 {
			return kind, target, nil
		}
	}
	return "", "", fmt.Errorf("health %q: use \"http /PATH\" or \"tcp PORT\"", h)
}

func (st Storage) validate() error {
	if st.Disk.Total == 0 || st.Disk.Used > st.Disk.Total {
		return errors.New("disk.total must be positive and disk.used not above it")
	}
	var sum Bytes
	tables := map[string]bool{}
	for _, t := range st.Tables {
		key := t.Database + "." + t.Table
		if t.Database == "" || t.Table == "" || tables[key] {
			return fmt.Errorf("table %q: database and table are required and unique", key)
		}
		tables[key] = true
		if err := t.validate(); err != nil {
			return fmt.Errorf("table %s: %w", key, err)
		}
		for _, p := range t.Partitions {
			sum += p.Bytes
		}
	}
	if sum > st.Disk.Used {
		return fmt.Errorf("partitions hold %d bytes, more than disk.used %d", sum, st.Disk.Used)
	}
	return nil
}

// validate checks ages and that partition ids derived from the oldest row's
// date cannot collide: month partitions start at least 31 days apart, day
// partitions at least one day apart.
func (t TableSpec) validate() error {
	spacing := map[string]float64{"month": 31, "day": 1}[t.PartitionBy]
	if spacing == 0 {
		return fmt.Errorf("partition_by %q: use month or day", t.PartitionBy)
	}
	ps := append([]PartitionSpec(nil), t.Partitions...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].MaxAgeDays < ps[j].MaxAgeDays })
	active := 0
	for i, p := range ps {
		if p.MinAgeDays < 0 || p.MaxAgeDays < p.MinAgeDays {
			return errors.New("partitions need 0 <= min_age_days <= max_age_days")
		}
		if p.MinAgeDays == 0 {
			active++
		}
		if i > 0 && p.MaxAgeDays-ps[i-1].MaxAgeDays < spacing {
			return fmt.Errorf("partitions' max_age_days must be at least %g days apart for partition_by %s", spacing, t.PartitionBy)
		}
	}
	if active > 1 {
		return errors.New("at most one partition may be active (min_age_days 0)")
	}
	return nil
}
