package kube

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
)

// podList is the pods of one workload, sorted by name.
type podList []corev1.Pod

// pods lists the pods a workload's selector matches. A workload without a
// selector (which the API does not allow for apps/v1) matches none.
func (c *Client) pods(ctx context.Context, namespace string, sel *metav1.LabelSelector) (podList, error) {
	if sel == nil {
		return nil, nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, fmt.Errorf("selector of the workload: %w", err)
	}
	if s.String() == "" { // matches everything or nothing: never a workload's pods
		return nil, nil
	}
	l, err := c.kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: s.String()})
	if err != nil {
		return nil, c.wrap(ctx, op{"list", "pods", namespace, ""}, err)
	}
	out := podList(l.Items)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (l podList) view() []platform.Pod {
	out := make([]platform.Pod, 0, len(l))
	for i := range l {
		out = append(out, podView(&l[i]))
	}
	return out
}

func (l podList) has(name string) bool {
	for i := range l {
		if l[i].Name == name {
			return true
		}
	}
	return false
}

// podView maps a pod's status: phase, readiness, restarts over all
// containers, the first waiting reason (main container first) and the last
// termination of the main container (the first of the spec).
func podView(p *corev1.Pod) platform.Pod {
	out := platform.Pod{Name: p.Name, Phase: string(p.Status.Phase), Ready: podReady(p)}
	if p.DeletionTimestamp != nil {
		out.Phase = "Terminating"
	}
	if p.Status.StartTime != nil {
		out.StartedAt = p.Status.StartTime.Time
	}
	statuses := mainFirst(p)
	for _, cs := range statuses {
		out.Restarts += cs.RestartCount
		if out.WaitingReason == "" && cs.State.Waiting != nil {
			out.WaitingReason = cs.State.Waiting.Reason
		}
	}
	if len(statuses) > 0 {
		out.LastTerm = termination(statuses[0])
	}
	return out
}

// mainFirst orders container statuses with the main container's first.
func mainFirst(p *corev1.Pod) []corev1.ContainerStatus {
	st := append([]corev1.ContainerStatus(nil), p.Status.ContainerStatuses...)
	if len(p.Spec.Containers) == 0 {
		return st
	}
	main := p.Spec.Containers[0].Name
	sort.SliceStable(st, func(i, j int) bool { return st[i].Name == main && st[j].Name != main })
	return st
}

// termination is the last termination of a container: the previous one
// when it restarted, else the current one when it has terminated.
func termination(cs corev1.ContainerStatus) *platform.Termination {
	t := cs.LastTerminationState.Terminated
	if t == nil {
		t = cs.State.Terminated
	}
	if t == nil {
		return nil
	}
	return &platform.Termination{Reason: t.Reason, ExitCode: t.ExitCode, FinishedAt: t.FinishedAt.Time}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// eventNames are the objects whose events belong to a workload: itself, its
// pods and the ReplicaSets those pods come from.
func eventNames(workload string, pods podList) map[string]bool {
	names := map[string]bool{workload: true}
	for _, p := range pods {
		names[p.Name] = true
		if h := p.Labels["pod-template-hash"]; h != "" {
			names[workload+"-"+h] = true
		}
	}
	return names
}

// eventList lists the events of a namespace, whichever API wrote them.
func (c *Client) eventList(ctx context.Context, namespace string) ([]corev1.Event, error) {
	l, err := c.kube.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, c.wrap(ctx, op{"list", "events", namespace, ""}, err)
	}
	return l.Items, nil
}

// recentEvents keeps the events about the named objects, oldest first, and
// of those the newest maxEvents.
func (c *Client) recentEvents(events []corev1.Event, names map[string]bool) []platform.Event {
	var out []platform.Event
	for i := range events {
		e := &events[i]
		if !names[e.InvolvedObject.Name] {
			continue
		}
		out = append(out, platform.Event{Time: eventTime(e), Type: e.Type, Reason: e.Reason,
			Object: e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name, Message: text.Prefix(e.Message, 500)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	if len(out) > c.maxEvents {
		out = out[len(out)-c.maxEvents:]
	}
	return out
}

// eventTime is the latest time an event was seen, whichever API wrote it.
func eventTime(e *corev1.Event) time.Time {
	t := e.CreationTimestamp.Time
	for _, c := range []time.Time{e.FirstTimestamp.Time, e.LastTimestamp.Time, e.EventTime.Time} {
		if c.After(t) {
			t = c
		}
	}
	if e.Series != nil && e.Series.LastObservedTime.After(t) {
		t = e.Series.LastObservedTime.Time
	}
	return t
}
