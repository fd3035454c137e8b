package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Series is one exported series as the tests set it. A counter grows by Rate
// per second from Value (set at the time of the request); a gauge is Value.
type Series struct {
	Name   string            `json:"name"`
	Type   string            `json:"type"` // gauge or counter
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
	Rate   float64           `json:"rate,omitempty"`
}

var (
	metricNameRe = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRe  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

func (s Series) validate() error {
	if !metricNameRe.MatchString(s.Name) {
		return fmt.Errorf("invalid metric name %q", s.Name)
	}
	if s.Type != "gauge" && s.Type != "counter" {
		return fmt.Errorf("series %s: type must be gauge or counter, got %q", s.Name, s.Type)
	}
	if s.Type == "gauge" && s.Rate != 0 {
		return fmt.Errorf("series %s: a gauge has no rate", s.Name)
	}
	if s.Type == "counter" && (s.Value < 0 || s.Rate < 0) {
		return fmt.Errorf("series %s: a counter cannot be negative or decrease", s.Name)
	}
	for k := range s.Labels {
		if !labelNameRe.MatchString(k) || strings.HasPrefix(k, "__") {
			return fmt.Errorf("series %s: invalid label name %q", s.Name, k)
		}
	}
	return nil
}

// labelKeys returns the sorted label names.
func (s Series) labelKeys() []string {
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// key identifies a series by name and labels.
func (s Series) key() string {
	var b strings.Builder
	b.WriteString(s.Name)
	for _, k := range s.labelKeys() {
		fmt.Fprintf(&b, "|%s=%s", k, s.Labels[k])
	}
	return b.String()
}

// entry is a stored series and the time its Value was taken.
type entry struct {
	Series
	since time.Time
}

func (e entry) valueAt(now time.Time) float64 {
	if e.Type != "counter" {
		return e.Value
	}
	return e.Value + e.Rate*now.Sub(e.since).Seconds()
}

// store holds the series and exports them as a prometheus.Collector.
type store struct {
	mu     sync.Mutex
	now    func() time.Time
	series map[string]entry
}

func newStore(now func() time.Time) *store { return &store{now: now, series: map[string]entry{}} }

// set adds or replaces series. A counter keeps growing from where it is
// unless the request gives a Value above it (a counter never decreases).
func (s *store) set(in []Series) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, x := range in {
		if err := x.validate(); err != nil {
			return err
		}
		if err := s.consistent(x); err != nil {
			return err
		}
	}
	for _, x := range in {
		if old, ok := s.series[x.key()]; ok && x.Type == "counter" && old.Type == "counter" {
			x.Value = max(x.Value, old.valueAt(now))
		}
		s.series[x.key()] = entry{Series: x, since: now}
	}
	return nil
}

// consistent checks that series of one name share type and label names.
func (s *store) consistent(x Series) error {
	want := strings.Join(x.labelKeys(), ",")
	for _, e := range s.series {
		if e.Name != x.Name || e.key() == x.key() {
			continue
		}
		if e.Type != x.Type || strings.Join(e.labelKeys(), ",") != want {
			return fmt.Errorf("series %s: type and label names must match the other %s series (%s {%s})",
				x.key(), x.Name, e.Type, strings.Join(e.labelKeys(), ","))
		}
	}
	return nil
}

// remove deletes series by name and labels; no series means all.
func (s *store) remove(in []Series) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(in) == 0 {
		n := len(s.series)
		s.series = map[string]entry{}
		return n
	}
	n := 0
	for _, x := range in {
		if _, ok := s.series[x.key()]; ok {
			delete(s.series, x.key())
			n++
		}
	}
	return n
}

// list returns the series with their current values, sorted by key.
func (s *store) list() []Series {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]Series, 0, len(s.series))
	for _, e := range s.series {
		x := e.Series
		x.Value = e.valueAt(now)
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// Describe sends nothing: the collector is unchecked, its series change.
func (s *store) Describe(chan<- *prometheus.Desc) {}

// Collect exports every series at its current value.
func (s *store) Collect(ch chan<- prometheus.Metric) {
	for _, x := range s.list() {
		keys := x.labelKeys()
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = x.Labels[k]
		}
		typ := prometheus.GaugeValue
		if x.Type == "counter" {
			typ = prometheus.CounterValue
		}
		desc := prometheus.NewDesc(x.Name, x.Name+" set by the ops-skill tests", keys, nil)
		ch <- prometheus.MustNewConstMetric(desc, typ, x.Value, vals...)
	}
}
