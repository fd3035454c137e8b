package prom

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/duet-company/ops-skill/internal/platform"
)

// result converts an answer and applies the checks: a named metric must be
// exactly one series of finite samples with no warnings; PromQL may hold up
// to MaxSeries series, and its empty answers, non-finite samples and
// warnings are reported in Warnings.
func (c *Client) result(label string, named bool, val model.Value, warnings, infos []string) (platform.MetricResult, error) {
	series, err := convert(val)
	if err != nil {
		return platform.MetricResult{}, &Error{Kind: ErrBadQuery, Metric: label, Msg: err.Error()}
	}
	out := platform.MetricResult{Series: series, Warnings: append([]string(nil), warnings...)}
	for _, i := range infos {
		out.Warnings = append(out.Warnings, "info: "+i)
	}
	if named {
		return out, checkNamed(label, out, len(warnings))
	}
	if len(series) > c.maxSeries {
		return platform.MetricResult{}, &Error{Kind: ErrTooManySeries, Metric: label,
			Msg: fmt.Sprintf("%d series, more than the limit of %d; aggregate the query (sum by …)", len(series), c.maxSeries)}
	}
	if len(series) == 0 {
		out.Warnings = append(out.Warnings, "the query matched no series")
	}
	if n, first := nonFinite(series); n > 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("%d NaN/Inf samples (first: %s)", n, first))
	}
	return out, nil
}

// checkNamed applies the checks of a named metric.
func checkNamed(label string, r platform.MetricResult, warnings int) error {
	switch {
	case warnings > 0:
		return &Error{Kind: ErrWarnings, Metric: label, Msg: strings.Join(r.Warnings, "; ")}
	case len(r.Series) == 0:
		return &Error{Kind: ErrNoData, Metric: label, Msg: "the query matched no series (is the exporter scraped and the workload name right?)"}
	case len(r.Series) > 1:
		return &Error{Kind: ErrTooManySeries, Metric: label,
			Msg: fmt.Sprintf("%d series where one was expected, first %s; the template must aggregate to one", len(r.Series), labelString(r.Series[0].Labels))}
	}
	if n, first := nonFinite(r.Series); n > 0 {
		return &Error{Kind: ErrNonFinite, Metric: label, Msg: fmt.Sprintf("%d of %d samples are NaN or ±Inf (first: %s)", n, len(r.Series[0].Samples), first)}
	}
	return nil
}

// convert turns a vector, matrix or scalar into series sorted by labels.
func convert(val model.Value) ([]platform.Series, error) {
	var out []platform.Series
	switch v := val.(type) {
	case nil:
		return nil, nil
	case model.Vector:
		for _, s := range v {
			if s.Histogram != nil {
				return nil, fmt.Errorf("series %s is a native histogram; use histogram_quantile or a float expression", s.Metric)
			}
			out = append(out, platform.Series{Labels: labels(s.Metric), Samples: []platform.Sample{sample(s.Timestamp, s.Value)}})
		}
	case model.Matrix:
		for _, s := range v {
			if len(s.Histograms) > 0 {
				return nil, fmt.Errorf("series %s holds native histograms; use histogram_quantile or a float expression", s.Metric)
			}
			ps := make([]platform.Sample, len(s.Values))
			for i, p := range s.Values {
				ps[i] = sample(p.Timestamp, p.Value)
			}
			out = append(out, platform.Series{Labels: labels(s.Metric), Samples: ps})
		}
	case *model.Scalar:
		out = append(out, platform.Series{Samples: []platform.Sample{sample(v.Timestamp, v.Value)}})
	default:
		return nil, fmt.Errorf("the query returns a %s, not a number per series", val.Type())
	}
	sort.SliceStable(out, func(i, j int) bool { return labelString(out[i].Labels) < labelString(out[j].Labels) })
	return out, nil
}

func sample(t model.Time, v model.SampleValue) platform.Sample {
	return platform.Sample{T: t.Time().UTC(), V: float64(v)}
}

func labels(m model.Metric) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}

// labelString renders labels as {a="x", b="y"} in key order.
func labelString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, l[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// nonFinite counts NaN and ±Inf samples and describes the first.
func nonFinite(series []platform.Series) (int, string) {
	n, first := 0, ""
	for _, s := range series {
		for _, p := range s.Samples {
			if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
				if n == 0 {
					first = fmt.Sprintf("%v at %s", p.V, p.T.Format(time.RFC3339))
				}
				n++
			}
		}
	}
	return n, first
}
