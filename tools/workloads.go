package tools

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
)

// workloads reads workloads and the guard's state of them, and stores that
// state: what every workload tool plans from. Its backends are never nil.
type workloads struct {
	cluster platform.Cluster
	state   StateStore
}

// newWorkloads reads through c and keeps state in st (none when st is nil).
func newWorkloads(c platform.Cluster, st StateStore) workloads {
	if st == nil {
		st = noState{}
	}
	return workloads{cluster: c, state: st}
}

// get reads a workload; a name that does not exist lists the ones that do,
// so a planner that guessed a name learns the real ones. The backends' errors
// already name the workload, so they are not prefixed again.
func (ws workloads) get(ctx context.Context, ref platform.WorkloadRef) (platform.Workload, error) {
	w, err := ws.cluster.GetWorkload(ctx, ref)
	if errors.Is(err, platform.ErrNotFound) {
		if names := ws.names(ctx, ref.Namespace); len(names) > 0 {
			return w, fmt.Errorf("%w (workloads in %s: %s)", err, ref.Namespace, strings.Join(names, ", "))
		}
		return w, fmt.Errorf("%w (no workloads in namespace %s)", err, ref.Namespace)
	}
	return w, err
}

func (ws workloads) names(ctx context.Context, ns string) []string {
	list, err := ws.cluster.ListWorkloads(ctx, ns)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(list))
	for _, w := range list {
		names = append(names, w.Ref.Name)
	}
	sort.Strings(names)
	return names
}

// withState reads a workload and the guard's state of it.
func (ws workloads) withState(ctx context.Context, ref platform.WorkloadRef) (platform.Workload, guard.WorkloadState, error) {
	w, err := ws.get(ctx, ref)
	if err != nil {
		return w, guard.WorkloadState{}, err
	}
	state, err := ws.load(ctx, w)
	return w, state, err
}

// load merges the persisted state with the state annotation on the workload,
// keeping the most recent of each timestamp, so a state written by another
// agent on the workload is honoured.
func (ws workloads) load(ctx context.Context, w platform.Workload) (guard.WorkloadState, error) {
	s, err := ws.state.Load(ctx, w.Ref)
	if err != nil {
		return s, fmt.Errorf("load guard state of %s: %w", w.Ref, err)
	}
	if raw, ok := w.Annotations[guard.StateAnnotation]; ok {
		a, err := guard.DecodeState(raw)
		if err != nil {
			// Starting from an empty state would forget cooldowns: refuse instead.
			return s, &guard.Violation{Rule: guard.RuleStateUnreadable, Reason: fmt.Sprintf("the %s annotation on %s cannot be read (%v); fix or remove it", guard.StateAnnotation, w.Ref, err)}
		}
		s = guard.MergeState(s, a)
	}
	return s, nil
}

// store applies a write's state change to the stored state, atomically.
func (ws workloads) store(ctx context.Context, ref platform.WorkloadRef, next StateChange) error {
	return ws.state.Update(ctx, ref, func(s *guard.WorkloadState) error { *s = next(*s); return nil })
}

// observer reads the metric windows the guard judges a scale on.
type observer struct{ metrics platform.Metrics }

// newObserver reads through m; without metrics every observation is unknown.
func newObserver(m platform.Metrics) observer {
	if m == nil {
		m = missingMetrics{errNoGuardMetrics}
	}
	return observer{m}
}

// observe reads a metric window for the guard; a failure becomes an unknown observation.
func (o observer) observe(ctx context.Context, m platform.MetricName, ref platform.WorkloadRef, from, to time.Time, step time.Duration) guard.Observation {
	res, err := o.metrics.Query(ctx, platform.MetricQuery{Metric: m, Target: ref, Start: from, End: to, Step: step})
	if err != nil {
		return guard.Observation{Err: err}
	}
	switch len(res.Series) {
	case 0:
		return guard.Observation{Err: fmt.Errorf("%s of %s: no data", m, ref)}
	case 1:
		return guard.Observation{Samples: res.Series[0].Samples}
	}
	return guard.Observation{Err: fmt.Errorf("%s of %s: %d series where one was expected", m, ref, len(res.Series))}
}

// missingMetrics is the metrics backend of a tool built without one.
type missingMetrics struct{ err error }

func (m missingMetrics) Query(context.Context, platform.MetricQuery) (platform.MetricResult, error) {
	return platform.MetricResult{}, m.err
}
