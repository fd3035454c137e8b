package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// MaxPoints is the most samples a range query may ask for per series, as in Prometheus.
const MaxPoints = 11000

// InstantRestartsWindow is the window an instant query of restarts counts over;
// a range query counts over its step.
const InstantRestartsWindow = time.Minute

// ErrTooManyPoints means a range query asked for more than MaxPoints samples.
var ErrTooManyPoints = errors.New("exceeded maximum resolution of 11,000 points per timeseries")

type metricsPort struct{ p *Platform }

// Query answers a named metric of one workload, instant or range. Samples exist
// from the start of the scenario's history to now, one per scrape step; a sample
// at time t carries the value scraped at or before t. Raw PromQL is not
// supported (platform.ErrUnsupported); a scenario with metrics_down fails every
// query with platform.ErrUnavailable.
func (m metricsPort) Query(ctx context.Context, q platform.MetricQuery) (platform.MetricResult, error) {
	if err := ctx.Err(); err != nil {
		return platform.MetricResult{}, err
	}
	p := m.p
	if err := checkMetricQuery(p.sc, q); err != nil {
		return platform.MetricResult{}, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	times, window, err := queryTimes(q, p.clock.Now(), p.sc.Step)
	if err != nil {
		return platform.MetricResult{}, err
	}
	if q.Volume != "" {
		v, err := p.lookupVolume(platform.VolumeRef{Namespace: q.Target.Namespace, Name: q.Volume})
		if err != nil {
			return platform.MetricResult{}, err
		}
		return p.sampleVolume(v, times), nil
	}
	s, err := p.lookup(q.Target)
	if err != nil {
		return platform.MetricResult{}, err
	}
	return p.sample(s, q.Metric, times, window), nil
}

// sampleVolume is disk_usage of one claim at each time, as the kubelet's
// volume stats of the claim give it; callers hold the read lock.
func (p *Platform) sampleVolume(v *volume, times []time.Time) platform.MetricResult {
	histStart := p.start.Add(-p.sc.History)
	var samples []platform.Sample
	for _, t := range times {
		ts := scrapeTime(p.start, p.sc.Step, t)
		if ts.Before(histStart) || ts.Before(v.created) {
			continue
		}
		pct := v.usagePct(ts)
		if pct, ok := applyOverrides(v.svc.overrides[platform.MetricDiskUsage], p.start, ts, pct); ok {
			samples = append(samples, platform.Sample{T: t, V: round2(pct)})
		}
	}
	if len(samples) == 0 {
		return platform.MetricResult{Warnings: []string{fmt.Sprintf("no samples of %s for persistentvolumeclaim %s in the requested time range", platform.MetricDiskUsage, v.name)}}
	}
	labels := map[string]string{"namespace": v.svc.ref.Namespace, "persistentvolumeclaim": v.name, "metric": string(platform.MetricDiskUsage)}
	return platform.MetricResult{Series: []platform.Series{{Labels: labels, Samples: samples}}}
}

func checkMetricQuery(sc Scenario, q platform.MetricQuery) error {
	switch {
	case sc.MetricsDown:
		return errorf(platform.ErrUnavailable, "prometheus: query %s of %s: connection refused", q.Metric, q.Target)
	case q.PromQL != "":
		return errorf(platform.ErrUnsupported, "PromQL %q: the simulated platform only answers the named metrics (%s)", q.PromQL, metricNames())
	case !knownMetric(q.Metric):
		return errorf(platform.ErrUnsupported, "metric %q: the named metrics are %s", q.Metric, metricNames())
	case q.Volume != "" && q.Metric != platform.MetricDiskUsage:
		return errorf(platform.ErrUnsupported, "metric %q of persistentvolumeclaim %s: only %s is a volume metric", q.Metric, q.Volume, platform.MetricDiskUsage)
	}
	return nil
}

func metricNames() string {
	names := make([]string, len(platform.KnownMetrics))
	for i, m := range platform.KnownMetrics {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// queryTimes returns the evaluation times of a query, clipped to now, and the
// window of counter-like metrics.
func queryTimes(q platform.MetricQuery, now time.Time, scrape time.Duration) ([]time.Time, time.Duration, error) {
	end := q.End
	if end.IsZero() || end.After(now) {
		end = now
	}
	if q.Start.IsZero() {
		return []time.Time{end}, InstantRestartsWindow, nil
	}
	step := q.Step
	if step == 0 {
		step = scrape
	}
	qEnd := q.End
	if qEnd.IsZero() {
		qEnd = now
	}
	switch {
	case step < 0:
		return nil, 0, fmt.Errorf("range query step %s must be positive", step)
	case qEnd.Before(q.Start):
		return nil, 0, fmt.Errorf("range query end %s is before start %s", qEnd.Format(time.RFC3339), q.Start.Format(time.RFC3339))
	case qEnd.Sub(q.Start)/step+1 > MaxPoints:
		return nil, 0, fmt.Errorf("range query of %s at step %s: %w", qEnd.Sub(q.Start), step, ErrTooManyPoints)
	}
	var times []time.Time
	for t := q.Start; !t.After(end); t = t.Add(step) {
		times = append(times, t)
	}
	return times, step, nil
}

// sample evaluates the metric at each time; callers hold the read lock.
func (p *Platform) sample(s *service, m platform.MetricName, times []time.Time, window time.Duration) platform.MetricResult {
	histStart := p.start.Add(-p.sc.History)
	var samples []platform.Sample
	for _, t := range times {
		ts := scrapeTime(p.start, p.sc.Step, t)
		if ts.Before(histStart) {
			continue
		}
		v, got := p.metricValue(s, m, ts, window)
		switch got {
		case noSeries:
			return platform.MetricResult{Warnings: []string{fmt.Sprintf("no %s series for %s", m, s.ref)}}
		case sampleMissing:
			continue
		}
		if v, ok := applyOverrides(s.overrides[m], p.start, ts, v); ok {
			samples = append(samples, platform.Sample{T: t, V: round2(v)})
		}
	}
	if len(samples) == 0 {
		return platform.MetricResult{Warnings: []string{fmt.Sprintf("no samples of %s for %s in the requested time range", m, s.ref)}}
	}
	labels := map[string]string{"namespace": s.ref.Namespace, "workload": s.ref.Name, "metric": string(m)}
	return platform.MetricResult{Series: []platform.Series{{Labels: labels, Samples: samples}}}
}

// scrapeTime is the last scrape at or before t; scrapes happen every step from start.
func scrapeTime(start time.Time, step time.Duration, t time.Time) time.Time {
	d := t.Sub(start)
	n := d / step
	if d < 0 && d%step != 0 {
		n--
	}
	return start.Add(n * step)
}

// lookup finds a workload; callers hold the lock.
func (p *Platform) lookup(ref platform.WorkloadRef) (*service, error) {
	s := p.byName[ref.Name]
	if s == nil || ref.Namespace != p.sc.Namespace {
		return nil, errorf(platform.ErrNotFound, "workload %s", ref)
	}
	return s, nil
}
