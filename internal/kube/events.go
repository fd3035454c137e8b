package kube

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
)

// Limits the API server puts on events.k8s.io/v1 Events.
const (
	maxNoteBytes   = 1024
	maxReasonBytes = 128
)

// RecordEvent creates an events.k8s.io/v1 Event about the workload, with
// reportingController "ops-skill", so `kubectl describe` and `kubectl
// events` show what ops-skill did. The action is derived from the reason
// (SuccessfulRescale → Scale, SuccessfulRestart → Restart, FailedEviction →
// Evict, …); an empty type is Normal and a zero time is now.
func (c *Client) RecordEvent(ctx context.Context, ref platform.WorkloadRef, ev platform.Event) error {
	ref = c.ns(ref)
	id, ok := c.known(ref)
	if !ok || id.uid == "" {
		o, err := c.get(ctx, ref)
		if err != nil {
			return err
		}
		id = identity{kind: o.kind(), uid: o.meta().UID}
	}
	return c.createEvent(ctx, corev1.ObjectReference{APIVersion: "apps/v1", Kind: id.kind, Namespace: ref.Namespace, Name: ref.Name, UID: id.uid}, ev)
}

// RecordVolumeEvent creates an events.k8s.io/v1 Event about the claim, as
// RecordEvent does for a workload, so `kubectl describe pvc` shows an
// expansion ops-skill made.
func (c *Client) RecordVolumeEvent(ctx context.Context, ref platform.VolumeRef, ev platform.Event) error {
	ref = c.vns(ref)
	pvc, err := c.getClaim(ctx, ref)
	if err != nil {
		return err
	}
	return c.createEvent(ctx, corev1.ObjectReference{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: ref.Namespace,
		Name: ref.Name, UID: pvc.UID}, ev)
}

// createEvent creates the Event ev regarding the object; an empty type is
// Normal and a zero time is now.
func (c *Client) createEvent(ctx context.Context, regarding corev1.ObjectReference, ev platform.Event) error {
	if ev.Time.IsZero() {
		ev.Time = c.clock.Now()
	}
	if ev.Type == "" {
		ev.Type = corev1.EventTypeNormal
	}
	if ev.Reason == "" {
		return fmt.Errorf("record event on %s/%s: a reason is required", regarding.Namespace, regarding.Name)
	}
	e := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      text.Prefix(regarding.Name, 200) + "." + strconv.FormatInt(ev.Time.UnixNano(), 16) + strconv.FormatUint(uint64(rand.Uint32()), 16),
			Namespace: regarding.Namespace,
		},
		EventTime:           metav1.NewMicroTime(ev.Time),
		ReportingController: ReportingController,
		ReportingInstance:   c.instance,
		Action:              action(ev.Reason),
		Reason:              text.Prefix(ev.Reason, maxReasonBytes),
		Type:                ev.Type,
		Note:                text.Prefix(ev.Message, maxNoteBytes),
		Regarding:           regarding,
	}
	_, err := c.kube.EventsV1().Events(regarding.Namespace).Create(ctx, e, metav1.CreateOptions{FieldManager: FieldManager})
	return c.wrap(ctx, op{"create", "events.events.k8s.io", regarding.Namespace, ""}, err)
}

// action is the events.k8s.io action of a reason in the style of the HPA's.
func action(reason string) string {
	for _, a := range []struct{ word, action string }{
		{"Rescale", "Scale"}, {"Scale", "Scale"}, {"Restart", "Restart"}, {"Evict", "Evict"},
		{"Resources", "UpdateResources"}, {"Partition", "DropPartitions"}, {"Expansion", "ExpandVolume"},
	} {
		if containsFold(reason, a.word) {
			return a.action
		}
	}
	return "Act"
}
