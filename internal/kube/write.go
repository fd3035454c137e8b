package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Scale sets the replicas of a Deployment or StatefulSet and writes
// req.Annotations in the same Update of the object, carrying the
// resourceVersion just read. When req.ExpectedVersion is set and the object
// changed since that version, it fails with platform.ErrConflict before
// anything is written; a change of the status alone (the controllers write
// it all the time) does not count when this client made that read, since
// the spec, labels and annotations the decision was made on are the same. A
// concurrent change between the read and the write makes the server answer
// 409, also platform.ErrConflict: the caller must re-read and re-decide.
// DryRun asks the server to validate and admit the change without
// persisting it.
func (c *Client) Scale(ctx context.Context, ref platform.WorkloadRef, req platform.ScaleRequest) (platform.Workload, error) {
	if req.Replicas < 0 {
		return platform.Workload{}, fmt.Errorf("scale %s: replicas %d must not be negative", ref, req.Replicas)
	}
	return c.mutate(ctx, ref, req.ExpectedVersion, req.Annotations, req.DryRun, func(o object) error {
		o.setReplicas(req.Replicas)
		return nil
	})
}

// RolloutRestart restarts the pods of a workload the way `kubectl rollout
// restart` does: it sets the kubectl.kubernetes.io/restartedAt annotation of
// the pod template, in the same Update as req.Annotations. A paused
// Deployment is refused with ErrPaused, and a StatefulSet whose update
// strategy is OnDelete with platform.ErrUnsupported, since neither would roll.
func (c *Client) RolloutRestart(ctx context.Context, ref platform.WorkloadRef, req platform.RestartRequest) (platform.Workload, error) {
	return c.mutate(ctx, ref, req.ExpectedVersion, req.Annotations, req.DryRun, func(o object) error {
		if err := rolls(o); err != nil {
			return err
		}
		t := o.template()
		if t.Annotations == nil {
			t.Annotations = map[string]string{}
		}
		t.Annotations[RestartedAtAnnotation] = c.clock.Now().UTC().Format(time.RFC3339)
		return nil
	})
}

// SetResources sets the memory and/or CPU limit of one container (the first
// when req.Container is empty) in the same Update as req.Annotations. The
// pod template changes, so the pods roll as for a restart; a paused
// Deployment is refused with ErrPaused.
func (c *Client) SetResources(ctx context.Context, ref platform.WorkloadRef, req platform.ResourceRequest) (platform.Workload, error) {
	if req.MemoryLimit < 0 || req.CPULimitM < 0 || (req.MemoryLimit == 0 && req.CPULimitM == 0) {
		return platform.Workload{}, fmt.Errorf("set resources of %s: give a positive memory or cpu limit", ref)
	}
	return c.mutate(ctx, ref, req.ExpectedVersion, req.Annotations, req.DryRun, func(o object) error {
		if err := rolls(o); err != nil {
			return err
		}
		ct, err := findContainer(o, req.Container)
		if err != nil {
			return err
		}
		if ct.Resources.Limits == nil {
			ct.Resources.Limits = corev1.ResourceList{}
		}
		if req.MemoryLimit > 0 {
			ct.Resources.Limits[corev1.ResourceMemory] = *resource.NewQuantity(req.MemoryLimit, resource.BinarySI)
		}
		if req.CPULimitM > 0 {
			ct.Resources.Limits[corev1.ResourceCPU] = *resource.NewMilliQuantity(req.CPULimitM, resource.DecimalSI)
		}
		return nil
	})
}

// mutate is the one write path: read, check that the object is as the
// caller read it, change, annotate, Update with the resourceVersion just
// read. A 409 caused only by a status write between the read and the update
// (controllers write status all the time) is retried a few times; any other
// change since the caller's read is platform.ErrConflict.
func (c *Client) mutate(ctx context.Context, ref platform.WorkloadRef, expected string, annotations map[string]string,
	dryRun bool, change func(object) error) (platform.Workload, error) {
	ref = c.ns(ref)
	for attempt := 1; ; attempt++ {
		o, err := c.get(ctx, ref)
		if err != nil {
			return platform.Workload{}, err
		}
		m := o.meta()
		if expected != "" && m.ResourceVersion != expected && !c.unchangedSince(expected, o) {
			return platform.Workload{}, fmt.Errorf("%s %s changed since it was read at resourceVersion %s (now %s): %w",
				o.kind(), ref, expected, m.ResourceVersion, platform.ErrConflict)
		}
		if err := change(o); err != nil {
			return platform.Workload{}, fmt.Errorf("%s %s: %w", o.kind(), ref, err)
		}
		o.annotate(annotations)
		got, err := c.update(ctx, o, dryRun)
		if errors.Is(err, platform.ErrConflict) && attempt < maxWriteAttempts {
			continue
		}
		if err != nil {
			return platform.Workload{}, err
		}
		return got.workload(), nil
	}
}

// maxWriteAttempts bounds the retries of an update that lost a race with a
// status write.
const maxWriteAttempts = 3

// rolls refuses changes of the pod template that would not roll out.
func rolls(o object) error {
	switch {
	case o.paused():
		return fmt.Errorf("%w: the Deployment's rollout is paused (spec.paused); resume it first with kubectl rollout resume", ErrPaused)
	case o.sts != nil && o.sts.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType:
		return fmt.Errorf("%w: the StatefulSet's update strategy is OnDelete, so its pods change only when replaced; replace them by eviction", platform.ErrUnsupported)
	}
	return nil
}

func findContainer(o object, name string) (*corev1.Container, error) {
	cs := o.template().Spec.Containers
	if len(cs) == 0 {
		return nil, fmt.Errorf("the pod template has no containers: %w", platform.ErrNotFound)
	}
	if name == "" {
		return &cs[0], nil
	}
	var names []string
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i], nil
		}
		names = append(names, cs[i].Name)
	}
	return nil, fmt.Errorf("container %q: %w (containers: %s)", name, platform.ErrNotFound, strings.Join(names, ", "))
}
