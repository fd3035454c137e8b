package tools

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/units"
)

type restartArgs struct {
	WorkloadArgs
	Pods   []string `json:"pods,omitempty" desc:"evict these; default: rollout restart"`
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
	Note    string   `json:"note,omitempty"`
	DryRun  bool     `json:"dryRun,omitempty"`
}

func restartPodsTool() Tool {
	return writeTool[restartArgs]{
		name: RestartPods, risk: RiskWrite,
		desc: "Rollout-restart a workload or replace pods; does not fix OOM.",
		plan: planRestart, after: afterRestart,
	}
}

func planRestart(ctx context.Context, r *Registry, run *Run, a restartArgs) (Plan, error) {
	ref := platform.WorkloadRef(a.WorkloadArgs)
	w, state, err := r.workloadAndState(ctx, ref)
	if err != nil {
		return Plan{}, err
	}
	action := "rollout"
	if len(a.Pods) > 0 {
		action = "replace"
	}
	failures := max(state.ConsecutiveFailures, r.healthFailures(ctx, ref.Name))
	d := r.deps.Policy.Healing.DecideRestart(guard.RestartInput{Workload: w, Action: action, Pods: a.Pods, State: state,
		Now: r.now(), ConsecutiveFailures: failures, Reason: a.Reason})
	p := Plan{Target: ref.String(), Decision: d, Params: map[string]any{"action": action}}
	p.Summary = "rollout restart " + ref.String()
	if action == "replace" {
		p.Summary = fmt.Sprintf("replace pods %s of %s", strings.Join(a.Pods, ", "), ref)
		p.Params["pods"] = a.Pods
	}
	p.Apply = func(ctx context.Context, dryRun bool) (any, error) {
		res := RestartResult{Target: ref.String(), Action: action, DryRun: dryRun, Note: d.Inputs["note"]}
		if action == "rollout" {
			next := state.WithRestart(r.now()).Prune(r.now())
			_, err := r.deps.Cluster.RolloutRestart(ctx, ref, platform.RestartRequest{ExpectedVersion: w.ResourceVersion, DryRun: dryRun,
				Annotations: map[string]string{guard.StateAnnotation: next.Encode()}})
			if err != nil {
				return nil, fmt.Errorf("rollout restart %s: %w", ref, err)
			}
			return res, nil
		}
		return evict(ctx, r, ref, a.Pods, res, dryRun)
	}
	return p, nil
}

// healthFailures asks the health checker how many checks of a service in a
// row have failed; 0 when the service is not in the matrix or the check fails.
func (r *Registry) healthFailures(ctx context.Context, service string) int {
	if r.deps.Health == nil || !contains(r.deps.Health.Services(), service) {
		return 0
	}
	res, err := r.deps.Health.Check(ctx, service)
	if err != nil || res.OK {
		return 0
	}
	return res.ConsecutiveFailures
}

// evict replaces pods one by one through the Eviction API. A disruption-budget
// refusal stops the replacement and is reported; it is never turned into a delete.
func evict(ctx context.Context, r *Registry, ref platform.WorkloadRef, pods []string, res RestartResult, dryRun bool) (any, error) {
	for i, pod := range pods {
		err := r.deps.Cluster.EvictPod(ctx, ref, pod, dryRun)
		switch {
		case errors.Is(err, platform.ErrDisruptionBudget):
			res.Blocked = append(res.Blocked, pods[i:]...)
			res.Note = "eviction blocked by a PodDisruptionBudget: escalate instead of deleting pods"
			if !dryRun {
				// A Kubernetes event is a courtesy to kubectl users, not the
				// history the README promises: the blocked eviction is in the
				// result, which the gate records.
				_ = r.deps.Cluster.RecordEvent(ctx, ref, platform.Event{Time: r.now(), Type: "Warning", Reason: "FailedEviction",
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

func afterRestart(ctx context.Context, r *Registry, run *Run, a restartArgs, p Plan, res any) error {
	rr, _ := res.(RestartResult)
	if len(rr.Evicted) == 0 && rr.Action == "replace" {
		return nil
	}
	ref := platform.WorkloadRef(a.WorkloadArgs)
	now := r.now()
	err := r.updateState(ctx, ref, func(s *guard.WorkloadState) {
		s.Restarts = append(s.Restarts, now)
		if rr.Action == "replace" {
			s.Evictions = append(s.Evictions, now)
		}
	})
	reason := "SuccessfulRestart"
	if rr.Action == "replace" {
		reason = "SuccessfulEviction"
	}
	return errors.Join(err, r.deps.Cluster.RecordEvent(ctx, ref, platform.Event{Time: now, Type: "Normal", Reason: reason,
		Message: "ops-skill: " + p.Summary + "; reason: " + text.Clip(firstNonEmpty(a.Reason, "requested"), 200)}))
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

// ResourcesResult is what a resource change did.
type ResourcesResult struct {
	Target    string `json:"target"`
	Container string `json:"container"`
	From      string `json:"from"`
	To        string `json:"to"`
	DryRun    bool   `json:"dryRun,omitempty"`
}

func updateResourcesTool() Tool {
	return writeTool[resourcesArgs]{
		name: UpdateResources, risk: RiskWrite,
		desc: "Raise a container's memory limit after OOM kills; rolls the pods.",
		plan: planResources, after: afterResources,
	}
}

func planResources(ctx context.Context, r *Registry, run *Run, a resourcesArgs) (Plan, error) {
	ref := platform.WorkloadRef(a.WorkloadArgs)
	w, state, err := r.workloadAndState(ctx, ref)
	if err != nil {
		return Plan{}, err
	}
	c, err := container(w, a.Container)
	if err != nil {
		return Plan{}, err
	}
	want, _ := units.ParseBytes(a.MemoryLimit)
	d, next := r.deps.Policy.Healing.DecideMemory(guard.MemoryInput{Workload: w, Container: c.Name, Current: c.MemoryLimit, Requested: want, State: state, Now: r.now()})
	to := d.To
	p := Plan{Target: ref.String(), Decision: d,
		Summary: fmt.Sprintf("raise the memory limit of %s (container %s) from %s to %s", ref, c.Name, units.IBytes(c.MemoryLimit), units.IBytes(to)),
		Params:  map[string]any{"container": c.Name, "from": units.IBytes(c.MemoryLimit), "to": units.IBytes(to)}}
	if !d.Allowed() {
		p.Summary = fmt.Sprintf("set the memory limit of %s (container %s) to %s", ref, c.Name, a.MemoryLimit)
	}
	p.Apply = func(ctx context.Context, dryRun bool) (any, error) {
		next.Restarts = append(next.Restarts, r.now())
		_, err := r.deps.Cluster.SetResources(ctx, ref, platform.ResourceRequest{Container: c.Name, MemoryLimit: to, ExpectedVersion: w.ResourceVersion, DryRun: dryRun,
			Annotations: map[string]string{guard.StateAnnotation: next.Encode()}})
		if err != nil {
			return nil, fmt.Errorf("set resources: %w", err)
		}
		return ResourcesResult{Target: ref.String(), Container: c.Name, From: units.IBytes(c.MemoryLimit), To: units.IBytes(to), DryRun: dryRun}, nil
	}
	return p, nil
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

func afterResources(ctx context.Context, r *Registry, run *Run, a resourcesArgs, p Plan, res any) error {
	ref := platform.WorkloadRef(a.WorkloadArgs)
	now := r.now()
	baseline, _ := strconv.ParseInt(p.Decision.Inputs["baseline_bytes"], 10, 64)
	err := r.updateState(ctx, ref, func(s *guard.WorkloadState) {
		if baseline > 0 && (s.MemoryBaseline == 0 || now.Sub(s.MemoryBaselineAt) > 24*time.Hour) {
			s.MemoryBaseline, s.MemoryBaselineAt = baseline, now
		}
		s.Restarts = append(s.Restarts, now)
	})
	return errors.Join(err, r.deps.Cluster.RecordEvent(ctx, ref, platform.Event{Time: now, Type: "Normal", Reason: "SuccessfulUpdateResources",
		Message: "ops-skill: " + p.Summary}))
}
