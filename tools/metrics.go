package tools

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/prom/promscope"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/units"
)

// Bounds of what queryMetrics returns to a planner.
const (
	maxSeriesShown = 5
	maxPointsShown = 10
	maxRange       = 7 * 24 * time.Hour
	// SampleStep is the resolution of range queries the guard judges windows on.
	SampleStep = 15 * time.Second
)

type queryMetricsArgs struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Metric    string `json:"metric,omitempty" enum:"cpu_utilization,memory_utilization,error_rate,latency_p99_ms,restarts,disk_usage,request_rate"`
	PromQL    string `json:"promql,omitempty"`
	Range     string `json:"range,omitempty" desc:"e.g. 15m"`
	// Since (RFC 3339) reads a named metric now from the samples after it
	// alone, as the verification of a change does.
	Since string `json:"since,omitempty"`
}

func (a queryMetricsArgs) namespace() string { return a.Namespace }

// noNamespace: raw PromQL names no workload; a namespace given with it is still checked.
func (a queryMetricsArgs) noNamespace() bool { return a.PromQL != "" && a.Namespace == "" }

// confine confines raw PromQL to the namespace given, else to the
// allowlist: every selector gets a namespace matcher, and one whose own
// reaches outside is refused (guard.RulePromQLNamespace). Cluster-level
// series (node_*, machine_*, kube_node_*) carry no namespace and are read
// as they are (see promscope).
func (a queryMetricsArgs) confine(s guard.Scope) (queryMetricsArgs, error) {
	if a.PromQL == "" {
		return a, nil
	}
	within := s.AllowedNamespaces
	if a.Namespace != "" {
		within = []string{a.Namespace} // on the allowlist: the gate checked it
	}
	q, err := promscope.Confine(a.PromQL, within)
	var out *promscope.OutsideError
	switch {
	case errors.As(err, &out):
		return a, &guard.Violation{Rule: guard.RulePromQLNamespace, Reason: out.Error()}
	case err != nil:
		return a, fmt.Errorf("%w for %s: field \"promql\": %w", ErrInvalidArgs, QueryMetrics, err)
	}
	a.PromQL = q
	return a, nil
}

func (a queryMetricsArgs) target() string {
	if a.Metric != "" {
		return a.Namespace + "/" + a.Name
	}
	return "promql"
}

func (a queryMetricsArgs) Validate() error {
	var errs []error
	switch {
	case a.Metric == "" && a.PromQL == "":
		errs = append(errs, errors.New(`give "metric" (with namespace and name) or "promql"`))
	case a.Metric != "" && a.PromQL != "":
		errs = append(errs, errors.New(`give either "metric" or "promql", not both`))
	case a.Metric != "":
		names := make([]string, len(platform.KnownMetrics))
		for i, m := range platform.KnownMetrics {
			names[i] = string(m)
		}
		errs = append(errs, checkEnum("metric", a.Metric, names...), WorkloadArgs{a.Namespace, a.Name}.Validate())
	default:
		errs = append(errs, checkPromQL(a.PromQL))
	}
	if a.Range != "" {
		if _, err := parseRange(a.Range); err != nil {
			errs = append(errs, err)
		}
	}
	if a.Since != "" {
		errs = append(errs, a.checkSince())
	}
	return errors.Join(errs...)
}

// checkSince: since is a time, for a named metric read now.
func (a queryMetricsArgs) checkSince() error {
	switch _, err := time.Parse(time.RFC3339Nano, a.Since); {
	case err != nil:
		return fmt.Errorf(`field "since" = %q must be an RFC 3339 time, such as 2026-12-07T10:00:00Z`, text.Clip(a.Since, 40))
	case a.Metric == "" || a.Range != "":
		return errors.New(`field "since" goes with "metric" and no "range"`)
	}
	return nil
}

func checkPromQL(q string) error {
	if err := checkLen("promql", q, 2000); err != nil {
		return err
	}
	if err := promscope.Check(q); err != nil {
		return fmt.Errorf("field %q: %w", "promql", err)
	}
	return nil
}

func parseRange(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute || d > maxRange {
		return 0, fmt.Errorf(`field "range" = %q must be a duration from 1m to 168h, such as 15m or 2h`, text.Clip(s, 40))
	}
	return d, nil
}

// MetricSummary is what a planner sees of a metric: statistics and a few points, never a raw dump.
type MetricSummary struct {
	Metric  string          `json:"metric"`
	Target  string          `json:"target,omitempty"`
	Unit    string          `json:"unit,omitempty"`
	Range   string          `json:"range,omitempty"`
	Series  []SeriesSummary `json:"series"`
	Omitted int             `json:"omittedSeries,omitempty"`
	Notes   []string        `json:"notes,omitempty"`
}

// SeriesSummary summarises one series.
type SeriesSummary struct {
	Labels  map[string]string `json:"labels,omitempty"`
	Min     float64           `json:"min"`
	Max     float64           `json:"max"`
	Avg     float64           `json:"avg"`
	Last    float64           `json:"last"`
	Trend   string            `json:"trend"` // rising, falling, flat
	Samples int               `json:"samples"`
	Points  []Point           `json:"points,omitempty"`
}

// Point is one downsampled value, dated relative to now ("-5m").
type Point struct {
	Ago string  `json:"at"`
	V   float64 `json:"v"`
}

// metricsReader answers queryMetrics with the backend it uses.
type metricsReader struct {
	metrics platform.Metrics
	clock   clock.PassiveClock
}

// NewQueryMetrics builds queryMetrics: it queries m. Without m its calls fail
// (not configured).
func NewQueryMetrics(m platform.Metrics, clk clock.PassiveClock) Tool {
	t := reader[queryMetricsArgs]{about: about{QueryMetrics, RiskRead, "A workload's metric, or PromQL; now or over a range."},
		read: unavailable[queryMetricsArgs](errNoMetrics)}
	if m != nil {
		t.read = metricsReader{m, realIfNil(clk)}.query
	}
	return t
}

func (mr metricsReader) query(ctx context.Context, _ *Run, a queryMetricsArgs) (Answer, error) {
	q := platform.MetricQuery{Metric: platform.MetricName(a.Metric), PromQL: a.PromQL,
		Target: platform.WorkloadRef{Namespace: a.Namespace, Name: a.Name}, End: mr.clock.Now()}
	if a.Range != "" {
		d, _ := parseRange(a.Range)
		q.Start, q.Step = q.End.Add(-d), stepFor(d)
	}
	if a.Since != "" {
		since, _ := time.Parse(time.RFC3339Nano, a.Since)
		if !since.Before(q.End) {
			return Answer{}, fmt.Errorf(`%w for %s: field "since" = %s is not in the past`, ErrInvalidArgs, QueryMetrics, a.Since)
		}
		q.Since = since
	}
	res, err := mr.metrics.Query(ctx, q)
	if err != nil {
		return Answer{}, fmt.Errorf("query %s: %w", firstNonEmpty(a.Metric, "promql"), err)
	}
	sum := Summarise(res, q.End)
	sum.Metric, sum.Range, sum.Unit = firstNonEmpty(a.Metric, text.Clip(a.PromQL, 200)), a.Range, unitOf(q.Metric)
	if a.Metric != "" {
		sum.Target = q.Target.String()
	}
	return Answer{sum, describeSummary(sum)}, nil
}

// stepFor keeps range queries near 60 points, never finer than SampleStep.
func stepFor(d time.Duration) time.Duration {
	s := (d / 60).Truncate(time.Second)
	if s < SampleStep {
		return SampleStep
	}
	return s
}

func unitOf(m platform.MetricName) string {
	switch m {
	case platform.MetricCPU, platform.MetricMemory, platform.MetricErrorRate, platform.MetricDiskUsage:
		return "%"
	case platform.MetricLatencyP99:
		return "ms"
	case platform.MetricRequests:
		return "req/s"
	case platform.MetricRestarts:
		return "restarts"
	}
	return ""
}

// Summarise reduces a metric result to bounded statistics. NaN and ±Inf
// samples are left out of the statistics and counted in a note.
func Summarise(res platform.MetricResult, now time.Time) MetricSummary {
	out := MetricSummary{Notes: append([]string(nil), res.Warnings...)}
	series := append([]platform.Series(nil), res.Series...)
	sort.SliceStable(series, func(i, j int) bool { return lastValue(series[i]) > lastValue(series[j]) })
	bad := 0
	for i, s := range series {
		if i >= maxSeriesShown {
			out.Omitted = len(series) - maxSeriesShown
			break
		}
		ss, n := summariseSeries(s, now)
		bad += n
		out.Series = append(out.Series, ss)
	}
	if bad > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d NaN/Inf samples ignored", bad))
	}
	if len(series) == 0 {
		out.Notes = append(out.Notes, "no data: the query matched no series")
	}
	return out
}

func lastValue(s platform.Series) float64 {
	for i := len(s.Samples) - 1; i >= 0; i-- {
		if finite(s.Samples[i].V) {
			return s.Samples[i].V
		}
	}
	return math.Inf(-1)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func summariseSeries(s platform.Series, now time.Time) (SeriesSummary, int) {
	var good []platform.Sample
	for _, p := range s.Samples {
		if finite(p.V) {
			good = append(good, p)
		}
	}
	out := SeriesSummary{Labels: s.Labels, Samples: len(good), Trend: "flat"}
	if len(good) == 0 {
		return out, len(s.Samples)
	}
	out.Min, out.Max = good[0].V, good[0].V
	total := 0.0
	for _, p := range good {
		out.Min, out.Max, total = math.Min(out.Min, p.V), math.Max(out.Max, p.V), total+p.V
	}
	out.Avg, out.Last = round2(total/float64(len(good))), round2(good[len(good)-1].V)
	out.Min, out.Max = round2(out.Min), round2(out.Max)
	out.Trend = trend(good)
	if len(good) > 1 {
		out.Points = downsample(good, now)
	}
	return out, len(s.Samples) - len(good)
}

// trend compares the mean of the first and last thirds of the window.
func trend(ps []platform.Sample) string {
	if len(ps) < 3 {
		return "flat"
	}
	k := len(ps) / 3
	first, last := mean(ps[:k]), mean(ps[len(ps)-k:])
	scale := math.Max(math.Abs(first), math.Abs(last))
	switch {
	case scale == 0 || math.Abs(last-first) < 0.05*scale:
		return "flat"
	case last > first:
		return "rising"
	}
	return "falling"
}

func mean(ps []platform.Sample) float64 {
	t := 0.0
	for _, p := range ps {
		t += p.V
	}
	return t / float64(len(ps))
}

func downsample(ps []platform.Sample, now time.Time) []Point {
	n := min(len(ps), maxPointsShown)
	out := make([]Point, 0, n)
	for i := 0; i < n; i++ {
		p := ps[i*(len(ps)-1)/max(n-1, 1)]
		out = append(out, Point{Ago: "-" + units.Duration(now.Sub(p.T)), V: round2(p.V)})
	}
	return out
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func describeSummary(s MetricSummary) string {
	if len(s.Series) == 0 {
		return s.Metric + ": no data"
	}
	x := s.Series[0]
	if s.Unit != "" && s.Unit != "%" {
		s.Unit = " " + s.Unit
	}
	if s.Range == "" {
		return fmt.Sprintf("%s of %s: %.4g%s", s.Metric, s.Target, x.Last, s.Unit)
	}
	parts := []string{fmt.Sprintf("%s of %s over %s: last %.4g%s, min %.4g, max %.4g, %s", s.Metric, s.Target, s.Range, x.Last, s.Unit, x.Min, x.Max, x.Trend)}
	if len(s.Series) > 1 {
		parts = append(parts, fmt.Sprintf("%d series", len(s.Series)+s.Omitted))
	}
	return strings.Join(parts, "; ")
}
