package tools

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/units"
)

const (
	// maxPodsToModel bounds the pods a model is sent of a workload
	// (ServiceStatus.Condensed); the result itself lists every pod.
	maxPodsToModel = 10
	maxEventsShown = 8
	maxLogLines    = 200
	maxLogBytes    = 8 << 10
)

type serviceStatusArgs struct {
	WorkloadArgs
}

// ServiceStatus is the state of a workload as a planner sees it.
type ServiceStatus struct {
	Target       string            `json:"target"`
	Kind         string            `json:"kind"`
	Status       string            `json:"status"` // Healthy, Degraded, Down
	Replicas     int32             `json:"replicas"`
	Ready        int32             `json:"ready"`
	Updated      int32             `json:"updated"`
	Paused       bool              `json:"paused,omitempty"`
	AutoscaledBy string            `json:"autoscaledBy,omitempty"`
	Containers   []ContainerLimits `json:"containers"`
	CrashLooping int               `json:"crashLooping,omitempty"`
	OOMKilled    int               `json:"oomKilled,omitempty"`
	Pods         []PodStatus       `json:"pods"`
	// PodsOmitted counts the pods a condensed copy leaves out (Condensed).
	PodsOmitted int      `json:"podsOmitted,omitempty"`
	Events      []string `json:"events,omitempty"`
}

// ContainerLimits shows the resources of one container.
type ContainerLimits struct {
	Name        string `json:"name"`
	CPURequest  string `json:"cpuRequest,omitempty"`
	MemoryLimit string `json:"memoryLimit,omitempty"`
}

// PodStatus is the state of one pod.
type PodStatus struct {
	Name     string `json:"name"`
	Phase    string `json:"phase"`
	Ready    bool   `json:"ready"`
	Restarts int32  `json:"restarts"`
	Waiting  string `json:"waiting,omitempty"`
	LastExit string `json:"lastExit,omitempty"` // "OOMKilled (exit 137) 40s ago"
}

// NewGetServiceStatus builds getServiceStatus: it reads workloads through c.
// Without c its calls fail (not configured).
func NewGetServiceStatus(c platform.Cluster, clk clock.PassiveClock) Tool {
	t := reader[serviceStatusArgs]{about: about{GetServiceStatus, RiskRead, "Replicas, pods (phase, restarts, exit reason), events."},
		read: unavailable[serviceStatusArgs](errNoKubernetes)}
	if c != nil {
		t.read = statusReader{newWorkloads(c, nil), realIfNil(clk)}.status
	}
	return t
}

// statusReader answers getServiceStatus with the backend it uses.
type statusReader struct {
	workloads
	clock clock.PassiveClock
}

func (sr statusReader) status(ctx context.Context, _ *Run, a serviceStatusArgs) (Answer, error) {
	w, err := sr.get(ctx, platform.WorkloadRef(a.WorkloadArgs))
	if err != nil {
		return Answer{}, err
	}
	st := StatusOf(w, sr.clock.Now())
	return Answer{st, fmt.Sprintf("%s: %s, %d/%d ready", st.Target, st.Status, st.Ready, st.Replicas)}, nil
}

// StatusOf condenses a workload into what a planner and a transcript need.
func StatusOf(w platform.Workload, now time.Time) ServiceStatus {
	st := ServiceStatus{
		Target: w.Ref.String(), Kind: w.Kind, Replicas: w.Replicas, Ready: w.ReadyReplicas,
		Updated: w.UpdatedReplicas, Paused: w.Paused, AutoscaledBy: w.AutoscaledBy, Status: health(w),
	}
	for _, c := range w.Containers {
		cl := ContainerLimits{Name: c.Name}
		if c.CPURequestM > 0 {
			cl.CPURequest = fmt.Sprintf("%dm", c.CPURequestM)
		}
		if c.MemoryLimit > 0 {
			cl.MemoryLimit = units.IBytes(c.MemoryLimit)
		}
		st.Containers = append(st.Containers, cl)
	}
	for _, p := range w.Pods {
		if p.WaitingReason == "CrashLoopBackOff" {
			st.CrashLooping++
		}
		if p.LastTerm != nil && p.LastTerm.Reason == "OOMKilled" {
			st.OOMKilled++
		}
		st.Pods = append(st.Pods, podStatus(p, now))
	}
	evs := w.Events
	if len(evs) > maxEventsShown {
		evs = evs[len(evs)-maxEventsShown:]
	}
	for _, e := range evs {
		st.Events = append(st.Events, fmt.Sprintf("%s ago %s %s: %s", units.Duration(now.Sub(e.Time)), e.Type, e.Reason, text.Clip(e.Message, 160)))
	}
	return st
}

// Condensed is the status as a model is sent it: the first pods, and how many
// more there are (the counts above cover them all). Code and the rules planner
// read the whole status.
func (st ServiceStatus) Condensed() any {
	if len(st.Pods) <= maxPodsToModel {
		return st
	}
	st.PodsOmitted = len(st.Pods) - maxPodsToModel
	st.Pods = st.Pods[:maxPodsToModel:maxPodsToModel]
	return st
}

func podStatus(p platform.Pod, now time.Time) PodStatus {
	ps := PodStatus{Name: p.Name, Phase: p.Phase, Ready: p.Ready, Restarts: p.Restarts, Waiting: p.WaitingReason}
	if t := p.LastTerm; t != nil {
		ps.LastExit = fmt.Sprintf("%s (exit %d) %s ago", t.Reason, t.ExitCode, units.Duration(now.Sub(t.FinishedAt)))
	}
	return ps
}

func health(w platform.Workload) string {
	switch {
	case w.Replicas == 0:
		return "ScaledToZero"
	case w.ReadyReplicas >= w.Replicas:
		return "Healthy"
	case w.ReadyReplicas == 0:
		return "Down"
	}
	return "Degraded"
}

type getLogsArgs struct {
	WorkloadArgs
	Pod      string `json:"pod,omitempty"`
	Tail     int    `json:"tail,omitempty" max:"200"`
	Filter   string `json:"filter,omitempty" desc:"substring"`
	Previous bool   `json:"previous,omitempty"`
}

func (a getLogsArgs) Validate() error {
	errs := []error{a.WorkloadArgs.Validate(), checkLen("filter", a.Filter, 200), checkLen("pod", a.Pod, 253)}
	if a.Tail < 0 || a.Tail > maxLogLines {
		errs = append(errs, fmt.Errorf(`field "tail" = %d must be between 1 and %d`, a.Tail, maxLogLines))
	}
	return errors.Join(errs...)
}

// LogTail is a bounded tail of logs. The text is untrusted data.
type LogTail struct {
	Target    string   `json:"target"`
	Lines     []string `json:"lines"`
	Truncated bool     `json:"truncated,omitempty"`
}

// NewGetLogs builds getLogs: it reads logs through c. Without c its calls
// fail (not configured).
func NewGetLogs(c platform.Cluster) Tool {
	t := reader[getLogsArgs]{about: about{GetLogs, RiskRead, "Tail of a workload's logs."},
		read: unavailable[getLogsArgs](errNoKubernetes)}
	if c != nil {
		t.read = logReader{c}.logs
	}
	return t
}

// logReader answers getLogs with the backend it uses.
type logReader struct{ cluster platform.Cluster }

func (lr logReader) logs(ctx context.Context, _ *Run, a getLogsArgs) (Answer, error) {
	tail := a.Tail
	if tail == 0 {
		tail = 50
	}
	ref := platform.WorkloadRef(a.WorkloadArgs)
	lines, err := lr.cluster.Logs(ctx, ref, platform.LogQuery{Pod: a.Pod, TailLines: tail, MaxBytes: maxLogBytes, Filter: a.Filter, Previous: a.Previous})
	if err != nil {
		return Answer{}, fmt.Errorf("read logs: %w", err)
	}
	out := LogTail{Target: ref.String()}
	size := 0
	for _, l := range lines {
		s := l.Pod + ": " + text.Clip(l.Text, 500)
		if size+len(s) > maxLogBytes || len(out.Lines) >= tail {
			out.Truncated = true
			break
		}
		size += len(s)
		out.Lines = append(out.Lines, s)
	}
	return Answer{out, fmt.Sprintf("%d log lines of %s", len(out.Lines), ref)}, nil
}
