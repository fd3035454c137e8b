//go:build integration

package kube_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

func TestCrashLoopAndOOMAreReadFromPodStatus(t *testing.T) {
	c := newCluster(t)
	c.deployment("clickhouse", 2)
	pods := c.waitRunning("clickhouse", 2)
	c.setPodStatus(pods[0], oomLooping)
	a, _ := c.adapter(c.conn.Config)
	w, err := a.GetWorkload(context.Background(), c.ref("clickhouse"))
	if err != nil {
		t.Fatal(err)
	}
	var sick platform.Pod
	for _, p := range w.Pods {
		if p.Name == pods[0].Name {
			sick = p
		}
	}
	if sick.Ready || sick.WaitingReason != "CrashLoopBackOff" || sick.Restarts != 6 || sick.LastTerm == nil ||
		sick.LastTerm.Reason != "OOMKilled" || sick.LastTerm.ExitCode != 137 {
		t.Fatalf("pod = %+v, last termination %+v", sick, sick.LastTerm)
	}
	reg := c.registry(a, &metrics{cpu: 50}, clocktesting.NewFakeClock(time.Now()))
	o := call(context.Background(), reg, autoRun(), "getServiceStatus", wargs(c.ref("clickhouse"), ""))
	mustStatus(t, o, tools.StatusOK)
	st := o.Result.(tools.ServiceStatus)
	if st.CrashLooping != 1 || st.OOMKilled != 1 {
		t.Errorf("service status = %+v", st)
	}
}

func TestRolloutRestartCompletes(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	pods := c.waitRunning("backend", 2)
	c.setPodStatus(pods[0], oomLooping) // an unhealthy pod calls for a restart
	a, _ := c.adapter(c.conn.Config)
	reg := c.registry(a, &metrics{cpu: 50}, clocktesting.NewFakeClock(time.Now()))
	o := call(context.Background(), reg, autoRun(), "restartPods", wargs(c.ref("backend"), `"reason":"crash loop"`))
	mustStatus(t, o, tools.StatusExecuted)

	var seen []string
	st, err := a.WaitRollout(context.Background(), c.ref("backend"), time.Minute, func(s kube.RolloutStatus) {
		if len(seen) == 0 || seen[len(seen)-1] != s.Message {
			seen = append(seen, s.Message)
		}
	})
	if err != nil || !st.Done {
		t.Fatalf("rollout: %+v, %v (progress %q)", st, err, seen)
	}
	t.Logf("rollout progress: %q", seen)
	fresh := c.waitRunning("backend", 2)
	for _, p := range fresh {
		if p.Name == pods[0].Name || p.Name == pods[1].Name {
			t.Errorf("pod %s survived the restart", p.Name)
		}
	}
	d := c.get("backend")
	if d.Spec.Template.Annotations[kube.RestartedAtAnnotation] == "" {
		t.Error("no restartedAt annotation on the pod template")
	}
	if st, err := guard.DecodeState(d.Annotations[guard.StateAnnotation]); err != nil || len(st.Restarts) != 1 {
		t.Errorf("state annotation = %+v, %v; want one restart", st, err)
	}
	if ev := strings.Join(c.opsEvents(), "\n"); !strings.Contains(ev, "SuccessfulRestart") {
		t.Errorf("events = %q, want SuccessfulRestart", ev)
	}
}

func TestPausedRolloutIsRefused(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	// A merge patch, not a read-modify-write: the deployment controller
	// writes the status meanwhile, and an update would conflict with it.
	if _, err := c.admin.AppsV1().Deployments(c.ns).Patch(context.Background(), "backend", types.MergePatchType,
		[]byte(`{"spec":{"paused":true}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	before := c.get("backend")
	a, _ := c.adapter(c.conn.Config)
	_, err := a.RolloutRestart(context.Background(), c.ref("backend"), platform.RestartRequest{})
	if !errors.Is(err, kube.ErrPaused) || !strings.Contains(err.Error(), "kubectl rollout resume") {
		t.Fatalf("adapter: %v, want ErrPaused saying how to resume", err)
	}
	reg := c.registry(a, &metrics{cpu: 50}, clocktesting.NewFakeClock(time.Now()))
	o := call(context.Background(), reg, autoRun(), "restartPods", wargs(c.ref("backend"), ""))
	mustStatus(t, o, tools.StatusRefused)
	if o.Rule != guard.RuleRestartPaused {
		t.Errorf("rule = %q, want %q", o.Rule, guard.RuleRestartPaused)
	}
	if after := c.get("backend"); after.Generation != before.Generation {
		t.Errorf("generation %d → %d: the paused deployment was changed", before.Generation, after.Generation)
	}
}

// pdb protects the app's pods with minAvailable.
func (c *cluster) pdb(app string, minAvailable int) {
	c.t.Helper()
	mn := intstr.FromInt32(int32(minAvailable))
	_, err := c.admin.PolicyV1().PodDisruptionBudgets(c.ns).Create(context.Background(), &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: app},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &mn, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
	}, metav1.CreateOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	waitFor(c.t, 30*time.Second, func() bool { // the disruption controller has computed the budget
		p, err := c.admin.PolicyV1().PodDisruptionBudgets(c.ns).Get(context.Background(), app, metav1.GetOptions{})
		return err == nil && p.Status.ObservedGeneration == p.Generation && p.Status.ExpectedPods > 0
	})
}

func TestEvictionBlockedByADisruptionBudgetIsReportedNotForced(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	pods := c.waitRunning("backend", 2)
	c.setPodStatus(pods[0], oomLooping)
	c.pdb("backend", 2)
	a, _ := c.adapter(c.conn.Config)

	err := a.EvictPod(context.Background(), c.ref("backend"), pods[0].Name, false)
	if !errors.Is(err, platform.ErrDisruptionBudget) {
		t.Fatalf("adapter: %v, want ErrDisruptionBudget", err)
	}
	reg := c.registry(a, &metrics{cpu: 50}, clocktesting.NewFakeClock(time.Now()))
	o := call(context.Background(), reg, autoRun(), "restartPods", wargs(c.ref("backend"), `"pods":["`+pods[0].Name+`"]`))
	res, ok := o.Result.(tools.RestartResult)
	if !ok || len(res.Blocked) != 1 || len(res.Evicted) != 0 || !strings.Contains(res.Note, "escalate") {
		t.Fatalf("outcome %q: result %+v (error %q)", o.Status, o.Result, o.Error)
	}
	if _, err := c.admin.CoreV1().Pods(c.ns).Get(context.Background(), pods[0].Name, metav1.GetOptions{}); err != nil {
		t.Errorf("the blocked pod is gone: %v", err)
	}
	if ev := strings.Join(c.opsEvents(), "\n"); !strings.Contains(ev, "FailedEviction") {
		t.Errorf("events = %q, want FailedEviction", ev)
	}
}

func TestEvictionAllowedByTheBudgetReplacesThePod(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	pods := c.waitRunning("backend", 2)
	c.setPodStatus(pods[0], oomLooping)
	c.pdb("backend", 1)
	a, _ := c.adapter(c.conn.Config)
	reg := c.registry(a, &metrics{cpu: 50}, clocktesting.NewFakeClock(time.Now()))
	o := call(context.Background(), reg, autoRun(), "restartPods", wargs(c.ref("backend"), `"pods":["`+pods[0].Name+`"]`))
	mustStatus(t, o, tools.StatusExecuted)
	if res := o.Result.(tools.RestartResult); len(res.Evicted) != 1 {
		t.Fatalf("result = %+v", res)
	}
	waitFor(t, 30*time.Second, func() bool {
		_, err := c.admin.CoreV1().Pods(c.ns).Get(context.Background(), pods[0].Name, metav1.GetOptions{})
		return err != nil
	})
	c.waitRunning("backend", 2)
}

func TestUpdateResourcesRaisesTheLimitAndRolls(t *testing.T) {
	c := newCluster(t)
	c.deployment("clickhouse", 2)
	pods := c.waitRunning("clickhouse", 2)
	c.setPodStatus(pods[0], oomLooping)
	a, _ := c.adapter(c.conn.Config)
	reg := c.registry(a, &metrics{cpu: 50}, clocktesting.NewFakeClock(time.Now()))
	o := call(context.Background(), reg, autoRun(), "updateResources", wargs(c.ref("clickhouse"), `"memoryLimit":"512Mi"`))
	mustStatus(t, o, tools.StatusExecuted)
	d := c.get("clickhouse")
	if q := d.Spec.Template.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory]; q.Value() != 512<<20 {
		t.Errorf("memory limit = %s, want 512Mi", q.String())
	}
	if st, err := a.WaitRollout(context.Background(), c.ref("clickhouse"), time.Minute, nil); err != nil || !st.Done {
		t.Fatalf("rollout: %+v, %v", st, err)
	}
}

func TestLogsAreTailedFilteredAndCapped(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	a, _ := c.adapter(c.conn.Config)
	ctx := context.Background()
	lines, err := a.Logs(ctx, c.ref("backend"), platform.LogQuery{TailLines: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 || lines[0].Time.IsZero() {
		t.Fatalf("lines = %+v, want the last 2 of each of 2 pods with times", lines)
	}
	lines, err = a.Logs(ctx, c.ref("backend"), platform.LogQuery{Filter: "error"})
	if err != nil || len(lines) != 2 || !strings.Contains(lines[0].Text, "connection to database refused") {
		t.Fatalf("filtered = %+v, %v", lines, err)
	}
	lines, err = a.Logs(ctx, c.ref("backend"), platform.LogQuery{Previous: true, MaxBytes: 40})
	if err != nil || len(lines) != 1 || !strings.Contains(lines[0].Text, "out of memory") {
		t.Fatalf("previous, capped = %+v, %v", lines, err)
	}
}
