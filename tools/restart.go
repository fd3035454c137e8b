package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/units"
)

type restartArgs struct {
	WorkloadArgs
	Pods   []string `json:"pods,omitempty"`
	Reason string   `json:"reason,omitempty"`
}

func (a restartArgs) Validate() error {
	errs := []error{a.WorkloadArgs.Validate(), checkLen("reason", a.Reason, 500)}
	if len(a.Pods) > 50 {
		errs = append(errs, fmt.Errorf(`field "pods" lists %d pods, at most 50 allowed`, len(a.Pods)))
	}
	for _, p := range a.Pods {
		if err := checkName("pods[]", p, 253); err != nil {
			errs = append(errs, err)
			break
		}
	}
	return errors.Join(errs...)
}

// RestartResult is what a restart did.
type RestartResult struct {
	Target  string   `json:"target"`
	Action  string   `json:"action"` // rollout or replace
	Evicted []string `json:"evicted,omitempty"`
	Blocked []string `json:"blockedByDisruptionBudget,omitempty"`
	// Recycled and NotRecycled are as in ResourcesResult: a rollout of a
	// StatefulSet whose pods are not ready deletes them so that it rolls.
	Recycled    []string `json:"recycledPods,omitempty"`
	NotRecycled []string `json:"notRecycledPods,omitempty"`
	Note        string   `json:"note,omitempty"`
	DryRun      bool     `json:"dryRun,omitempty"`
}

// restarter plans restartPods with the backends it uses.
type restarter struct {
	workloads
	health platform.Health
	clock  clock.PassiveClock
	policy guard.HealingPolicy
}

// NewRestartPods builds restartPods. It reads the workload and the guard's
// state of it through c and st, asks h how many health checks of the service
// failed in a row, restarts or evicts through c and stores the new guard
// state in st. Without c its calls fail (not configured); without h the
// failures counted are the guard state's; without st the state lives only in
// the workload annotation.
func NewRestartPods(c platform.Cluster, h platform.Health, st StateStore, clk clock.PassiveClock, pol guard.HealingPolicy) Tool {
	t := writer[restartArgs]{about: about{RestartPods, RiskWrite, "Rollout restart, or evict pods; does not fix OOM."},
		plan: unplannable[restartArgs](errNoKubernetes)}
	if c != nil {
		if h == nil {
			h = noHealth{}
		}
		t.plan = restarter{newWorkloads(c, st), h, realIfNil(clk), pol}.plan
	}
	return t
}

// noHealth is the health checker of a tool built without one: it checks no service.
type noHealth struct{}

func (noHealth) Services() []string { return nil }
func (noHealth) Check(context.Context, string) (platform.HealthResult, error) {
	return platform.HealthResult{}, errNoHealth
}

func (t restarter) plan(ctx context.Context, _ *Run, a restartArgs) (Plan, error) {
	ref := platform.WorkloadRef(a.WorkloadArgs)
	w, state, err := t.withState(ctx, ref)
	if err != nil {
		return Plan{}, err
	}
	action := "rollout"
	if len(a.Pods) > 0 {
		action = "replace"
	}
	now := t.clock.Now()
	failures := max(state.ConsecutiveFailures, t.healthFailures(ctx, ref.Name))
	d := t.policy.DecideRestart(guard.RestartInput{Workload: w, Action: action, Pods: a.Pods, State: state,
		Now: now, ConsecutiveFailures: failures, Reason: a.Reason})
	p := Plan{Target: ref.String(), Decision: d, Params: map[string]any{"action": action}}
	p.Summary = "rollout restart " + ref.String()
	if action == "replace" {
		p.Summary = fmt.Sprintf("replace pods %s of %s", strings.Join(a.Pods, ", "), ref)
		p.Params["pods"] = a.Pods
	}
	p.Next = restarted(action, now)
	annotation := p.Next(state).Prune(now).Encode()
	p.Apply = func(ctx context.Context, dryRun bool) (any, error) {
		res := RestartResult{Target: ref.String(), Action: action, DryRun: dryRun, Note: d.Inputs["note"]}
		if action == "replace" {
			return t.evict(ctx, ref, a.Pods, res, dryRun)
		}
		_, err := t.cluster.RolloutRestart(ctx, ref, platform.RestartRequest{ExpectedVersion: w.ResourceVersion, DryRun: dryRun,
			Annotations: map[string]string{guard.StateAnnotation: annotation}})
		if err != nil {
			return nil, fmt.Errorf("rollout restart %s: %w", ref, err)
		}
		rr, err := recycleStalled(ctx, t.cluster, ref, dryRun)
		res.Recycled, res.NotRecycled, res.Note = rr.Recycled, rr.Left, joinNotes(res.Note, err)
		return res, nil
	}
	next, message := p.Next, "ops-skill: "+p.Summary+"; reason: "+text.Clip(firstNonEmpty(a.Reason, "requested"), 200)
	p.Applied = func(ctx context.Context, res any) error { return t.applied(ctx, ref, next, res, message) }
	return p, nil
}

// restarted is the state change of a restart: one restart, and for a
// replacement one eviction, counted against their budgets.
func restarted(action string, now time.Time) StateChange {
	return func(s guard.WorkloadState) guard.WorkloadState {
		s = s.WithRestart(now)
		if action == "replace" {
			s = s.WithEviction(now)
		}
		return s
	}
}

// applied stores the state change of a restart that restarted something and
// tells kubectl users what ops-skill did.
func (t restarter) applied(ctx context.Context, ref platform.WorkloadRef, next StateChange, res any, message string) error {
	rr, _ := res.(RestartResult)
	if len(rr.Evicted) == 0 && rr.Action == "replace" {
		return nil
	}
	reason := "SuccessfulRestart"
	if rr.Action == "replace" {
		reason = "SuccessfulEviction"
	}
	return errors.Join(t.store(ctx, ref, next),
		t.cluster.RecordEvent(ctx, ref, platform.Event{Time: t.clock.Now(), Type: "Normal", Reason: reason, Message: message}))
}

// healthFailures asks the health checker how many checks of a service in a
// row have failed; 0 when the service is not in the matrix or the check fails.
func (t restarter) healthFailures(ctx context.Context, service string) int {
	if !contains(t.health.Services(), service) {
		return 0
	}
	res, err := t.health.Check(ctx, service)
	if err != nil || res.OK {
		return 0
	}
	return res.ConsecutiveFailures
}

// evict replaces pods one by one through the Eviction API. A disruption-budget
// refusal stops the replacement and is reported; it is never turned into a delete.
func (t restarter) evict(ctx context.Context, ref platform.WorkloadRef, pods []string, res RestartResult, dryRun bool) (any, error) {
	for i, pod := range pods {
		err := t.cluster.EvictPod(ctx, ref, pod, dryRun)
		switch {
		case errors.Is(err, platform.ErrDisruptionBudget):
			res.Blocked = append(res.Blocked, pods[i:]...)
			res.Note = "eviction blocked by a PodDisruptionBudget: escalate instead of deleting pods"
			if !dryRun {
				// A Kubernetes event is a courtesy to kubectl users, not the
				// history the README promises: the blocked eviction is in the
				// result, which the gate records.
				_ = t.cluster.RecordEvent(ctx, ref, platform.Event{Time: t.clock.Now(), Type: "Warning", Reason: "FailedEviction",
					Message: "ops-skill: eviction of " + pod + " refused by a disruption budget"})
			}
			return res, nil
		case err != nil:
			return res, fmt.Errorf("evict %s: %w (evicted before the failure: %s)", pod, err, strings.Join(res.Evicted, ", "))
		}
		res.Evicted = append(res.Evicted, pod)
	}
	return res, nil
}

type resourcesArgs struct {
	WorkloadArgs
	Container   string `json:"container,omitempty"`
	MemoryLimit string `json:"memoryLimit" desc:"e.g. 8Gi"`
	Reason      string `json:"reason,omitempty"`
}

func (a resourcesArgs) Validate() error {
	errs := []error{a.WorkloadArgs.Validate(), checkLen("reason", a.Reason, 500)}
	if a.Container != "" {
		errs = append(errs, checkName("container", a.Container, 63))
	}
	if _, err := units.ParseBytes(a.MemoryLimit); err != nil {
		errs = append(errs, fmt.Errorf(`field "memoryLimit": %w`, err))
	}
	return errors.Join(errs...)
}

// ResourcesResult is what a resource change did. Recycled names the pods of
// a StatefulSet deleted after the change because they were not ready on the
// old revision, which keeps the controller from rolling (it recreates them
// with the new limit); NotRecycled those left beyond the bound; Note says
// why the pods were not recycled when that failed (the limit is changed).
type ResourcesResult struct {
	Target      string   `json:"target"`
	Container   string   `json:"container"`
	From        string   `json:"from"`
	To          string   `json:"to"`
	Recycled    []string `json:"recycledPods,omitempty"`
	NotRecycled []string `json:"notRecycledPods,omitempty"`
	Note        string   `json:"note,omitempty"`
	DryRun      bool     `json:"dryRun,omitempty"`
}

// MaxRecycledPods bounds the pods one memory raise deletes to let a
// StatefulSet roll.
const MaxRecycledPods = 10

// resizer plans updateResources with the backends it uses.
type resizer struct {
	workloads
	clock  clock.PassiveClock
	policy guard.HealingPolicy
}

// NewUpdateResources builds updateResources. It reads the workload and the
// guard's state of it through c and st, sets the limit through c and stores
// the new guard state in st. Without c its calls fail (not configured);
// without st the state lives only in the workload annotation.
func NewUpdateResources(c platform.Cluster, st StateStore, clk clock.PassiveClock, pol guard.HealingPolicy) Tool {
	t := writer[resourcesArgs]{about: about{UpdateResources, RiskWrite, "Raise a memory limit after OOM kills; rolls the pods."},
		plan: unplannable[resourcesArgs](errNoKubernetes)}
	if c != nil {
		t.plan = resizer{newWorkloads(c, st), realIfNil(clk), pol}.plan
	}
	return t
}

func (t resizer) plan(ctx context.Context, _ *Run, a resourcesArgs) (Plan, error) {
	ref := platform.WorkloadRef(a.WorkloadArgs)
	w, state, err := t.withState(ctx, ref)
	if err != nil {
		return Plan{}, err
	}
	c, err := container(w, a.Container)
	if err != nil {
		return Plan{}, err
	}
	want, _ := units.ParseBytes(a.MemoryLimit)
	now := t.clock.Now()
	d, judged := t.policy.DecideMemory(guard.MemoryInput{Workload: w, Container: c.Name, Current: c.MemoryLimit, Requested: want, State: state, Now: now})
	to := d.To
	p := Plan{Target: ref.String(), Decision: d,
		Summary: fmt.Sprintf("raise the memory limit of %s (container %s) from %s to %s", ref, c.Name, units.IBytes(c.MemoryLimit), units.IBytes(to)),
		Params:  map[string]any{"container": c.Name, "from": units.IBytes(c.MemoryLimit), "to": units.IBytes(to)}}
	if !d.Allowed() {
		p.Summary = fmt.Sprintf("set the memory limit of %s (container %s) to %s", ref, c.Name, a.MemoryLimit)
		return p, nil
	}
	p.Next = resized(state, judged, now)
	annotation := p.Next(state).Encode()
	p.Apply = func(ctx context.Context, dryRun bool) (any, error) {
		_, err := t.cluster.SetResources(ctx, ref, platform.ResourceRequest{Container: c.Name, MemoryLimit: to, ExpectedVersion: w.ResourceVersion, DryRun: dryRun,
			Annotations: map[string]string{guard.StateAnnotation: annotation}})
		if err != nil {
			return nil, fmt.Errorf("set resources: %w", err)
		}
		res := ResourcesResult{Target: ref.String(), Container: c.Name, From: units.IBytes(c.MemoryLimit), To: units.IBytes(to), DryRun: dryRun}
		return t.recycle(ctx, ref, res), nil
	}
	next, message := p.Next, "ops-skill: "+p.Summary
	p.Applied = func(ctx context.Context, _ any) error {
		return errors.Join(t.store(ctx, ref, next),
			t.cluster.RecordEvent(ctx, ref, platform.Event{Time: t.clock.Now(), Type: "Normal", Reason: "SuccessfulUpdateResources", Message: message}))
	}
	return p, nil
}

// recycle deletes, after the template change, the pods that keep a
// StatefulSet from rolling (not ready, old revision), at most
// MaxRecycledPods. A failure leaves the limit changed and says so in the
// result: the verification then finds the pods not rolled.
func (t resizer) recycle(ctx context.Context, ref platform.WorkloadRef, res ResourcesResult) ResourcesResult {
	rr, err := recycleStalled(ctx, t.cluster, ref, res.DryRun)
	res.Recycled, res.NotRecycled, res.Note = rr.Recycled, rr.Left, joinNotes(res.Note, err)
	return res
}

// recycleStalled deletes, after a change of a workload's pod template, the
// pods that keep it from rolling, at most MaxRecycledPods.
func recycleStalled(ctx context.Context, c platform.Cluster, ref platform.WorkloadRef, dryRun bool) (platform.RecycleResult, error) {
	rr, err := c.RecycleStalledPods(ctx, ref, platform.RecycleRequest{Max: MaxRecycledPods, DryRun: dryRun})
	if err != nil {
		err = fmt.Errorf("the pods that block the roll were not all recycled: %w", err)
	}
	return rr, err
}

// joinNotes appends an error's text to a note.
func joinNotes(note string, err error) string {
	switch {
	case err == nil:
		return note
	case note == "":
		return err.Error()
	}
	return note + "; " + err.Error()
}

// resized is the state change of a memory raise, from the state the guard
// judged (before) to the one it decided (after): the baseline the guard
// started, when it started one, and one restart, for the rollout the change
// causes.
func resized(before, after guard.WorkloadState, now time.Time) StateChange {
	rebased := after.MemoryBaseline != before.MemoryBaseline || !after.MemoryBaselineAt.Equal(before.MemoryBaselineAt)
	base, at := after.MemoryBaseline, after.MemoryBaselineAt
	return func(s guard.WorkloadState) guard.WorkloadState {
		if rebased {
			s.MemoryBaseline, s.MemoryBaselineAt = base, at
		}
		return s.WithRestart(now)
	}
}

func container(w platform.Workload, name string) (platform.Container, error) {
	if len(w.Containers) == 0 {
		return platform.Container{}, fmt.Errorf("workload %s has no containers", w.Ref)
	}
	if name == "" {
		return w.Containers[0], nil
	}
	var names []string
	for _, c := range w.Containers {
		if c.Name == name {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return platform.Container{}, fmt.Errorf("container %q of %s: %w (containers: %s)", name, w.Ref, platform.ErrNotFound, strings.Join(names, ", "))
}
