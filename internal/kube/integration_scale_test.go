//go:build integration

package kube_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

func TestScaleUpAndDownPodsFollow(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	a, _ := c.adapter(c.conn.Config)
	clk := clocktesting.NewFakeClock(time.Now())
	m := &metrics{cpu: 90}
	reg := c.registry(a, m, clk)
	ctx := context.Background()

	o := call(ctx, reg, autoRun(), "scaleDeployment", wargs(c.ref("backend"), `"replicas":3`))
	mustStatus(t, o, tools.StatusExecuted)
	c.waitRunning("backend", 3)
	if st, err := a.WaitRollout(ctx, c.ref("backend"), time.Minute, nil); err != nil {
		t.Fatalf("rollout after the scale: %+v, %v", st, err)
	}
	d := c.get("backend")
	st, err := guard.DecodeState(d.Annotations[guard.StateAnnotation])
	if err != nil || st.LastScaleTo != 3 || st.LastScaleFrom != 2 || !st.LastScaleUp.Equal(clk.Now().UTC()) {
		t.Errorf("state annotation = %+v, %v", st, err)
	}

	// Half an hour later the load is gone: scale down one step.
	clk.Step(30 * time.Minute)
	m.cpu = 10
	o = call(ctx, reg, autoRun(), "scaleDeployment", wargs(c.ref("backend"), `"replicas":2`))
	mustStatus(t, o, tools.StatusExecuted)
	c.waitRunning("backend", 2)
	if ev := c.opsEvents(); len(ev) != 2 || !strings.Contains(strings.Join(ev, "\n"), "SuccessfulRescale: ops-skill: new size 2") {
		t.Errorf("events = %q, want two SuccessfulRescale", ev)
	}
}

func TestSecondConcurrentScalerLosesCleanly(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	gen := c.get("backend").Generation
	// Both scalers read the workload, then meet at their first metric query
	// before either writes, so both decide on the same resourceVersion.
	var arrivals atomic.Int32
	met := make(chan struct{})
	m := &metrics{cpu: 90, hold: func() {
		switch arrivals.Add(1) {
		case 1:
			select {
			case <-met:
			case <-time.After(10 * time.Second):
			}
		case 2:
			close(met)
		}
	}}
	now := time.Now()
	outs := make([]tools.Outcome, 2)
	var wg sync.WaitGroup
	for i := range outs {
		a, _ := c.adapter(c.conn.Config) // a separate process each
		reg := c.registry(a, m, clocktesting.NewFakeClock(now))
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = call(context.Background(), reg, autoRun(), "scaleDeployment", wargs(c.ref("backend"), `"replicas":3`))
		}()
	}
	wg.Wait()
	executed := 0
	for _, o := range outs {
		switch o.Status {
		case tools.StatusExecuted:
			executed++
		case tools.StatusRefused:
			t.Logf("loser: %s: %s", o.Rule, o.Reason)
		default:
			t.Errorf("unexpected outcome %q: %s %s", o.Status, o.Error, o.Reason)
		}
	}
	d := c.get("backend")
	if executed != 1 || *d.Spec.Replicas != 3 || d.Generation != gen+1 {
		t.Fatalf("executed %d, replicas %d, generation %d→%d: want exactly one change", executed, *d.Spec.Replicas, gen, d.Generation)
	}
	if ev := c.opsEvents(); len(ev) != 1 {
		t.Errorf("events = %q, want exactly one", ev)
	}
}

func TestCooldownIsReadFromTheAnnotationsByASecondProcess(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	now := time.Now()
	first, _ := c.adapter(c.conn.Config)
	o := call(context.Background(), c.registry(first, &metrics{cpu: 90}, clocktesting.NewFakeClock(now)), autoRun(),
		"scaleDeployment", wargs(c.ref("backend"), `"replicas":3`))
	mustStatus(t, o, tools.StatusExecuted)

	// Another process, no shared store: 10 minutes later the load is low, but
	// a scale-down right after a scale-up is refused from the annotation alone.
	second, _ := c.adapter(c.conn.Config)
	reg := c.registry(second, &metrics{cpu: 10}, clocktesting.NewFakeClock(now.Add(10*time.Minute)))
	o = call(context.Background(), reg, autoRun(), "scaleDeployment", wargs(c.ref("backend"), `"replicas":2`))
	mustStatus(t, o, tools.StatusRefused)
	if o.Rule != guard.RuleCooldownDownAfterUp {
		t.Errorf("rule = %q (%s), want %q", o.Rule, o.Reason, guard.RuleCooldownDownAfterUp)
	}
	if r := *c.get("backend").Spec.Replicas; r != 3 {
		t.Errorf("replicas = %d, want 3", r)
	}
}

func TestAutoscalerOwnedWorkloadIsRefused(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	c.deployment("worker", 2)
	_, err := c.admin.AutoscalingV2().HorizontalPodAutoscalers(c.ns).Create(context.Background(), &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "backend"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 5,
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "backend"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := c.adapter(c.conn.Config)
	// Without the KEDA CRD the worker has no owner.
	w, err := a.GetWorkload(context.Background(), c.ref("worker"))
	if err != nil || w.AutoscaledBy != "" {
		t.Fatalf("worker owned by %q, %v; want none", w.AutoscaledBy, err)
	}
	installKEDA(t, c)
	createScaledObject(t, c, "worker-so", "worker")

	reg := c.registry(a, &metrics{cpu: 95}, clocktesting.NewFakeClock(time.Now()))
	for name, owner := range map[string]string{"backend": "HorizontalPodAutoscaler/backend", "worker": "ScaledObject/worker-so"} {
		o := call(context.Background(), reg, autoRun(), "scaleDeployment", wargs(c.ref(name), `"replicas":3`))
		mustStatus(t, o, tools.StatusRefused)
		if o.Rule != guard.RuleAutoscalerOwned || !strings.Contains(o.Reason, owner) {
			t.Errorf("%s: rule %q reason %q, want %s named", name, o.Rule, o.Reason, owner)
		}
		if r := *c.get(name).Spec.Replicas; r != 2 {
			t.Errorf("%s: replicas = %d, want 2", name, r)
		}
	}
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// installKEDA registers KEDA's ScaledObject CRD (only its shape, no operator).
func installKEDA(t *testing.T, c *cluster) {
	t.Helper()
	dyn := dynamic.NewForConfigOrDie(c.conn.Config)
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "scaledobjects.keda.sh"},
		"spec": map[string]any{
			"group": "keda.sh", "scope": "Namespaced",
			"names": map[string]any{"plural": "scaledobjects", "singular": "scaledobject", "kind": "ScaledObject", "listKind": "ScaledObjectList"},
			"versions": []any{map[string]any{"name": "v1alpha1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
		},
	}}
	_, err := dyn.Resource(crdResource).Create(context.Background(), crd, metav1.CreateOptions{})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool {
		_, err := dyn.Resource(kube.ScaledObjectResource).Namespace(c.ns).List(context.Background(), metav1.ListOptions{})
		return err == nil
	})
}

func createScaledObject(t *testing.T, c *cluster, name, target string) {
	t.Helper()
	dyn := dynamic.NewForConfigOrDie(c.conn.Config)
	so := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
		"metadata": map[string]any{"name": name, "namespace": c.ns},
		"spec":     map[string]any{"scaleTargetRef": map[string]any{"name": target}},
	}}
	if _, err := dyn.Resource(kube.ScaledObjectResource).Namespace(c.ns).Create(context.Background(), so, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond on real time: the cluster's controllers run on their own.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestObserveModeIsAServerSideDryRun(t *testing.T) {
	c := newCluster(t)
	before := c.deployment("backend", 2)
	a, k := c.adapter(c.conn.Config)
	run := tools.NewRun(1, guard.ModeObserve, nil, guard.DefaultMaxWrites)
	o := call(context.Background(), c.registry(a, &metrics{cpu: 90}, clocktesting.NewFakeClock(time.Now())), run,
		"scaleDeployment", wargs(c.ref("backend"), `"replicas":3`))
	mustStatus(t, o, tools.StatusDryRun)
	if !strings.Contains(strings.Join(k.reset(), "\n"), "PUT /apis/apps/v1/namespaces/"+c.ns+"/deployments/backend?dryRun=All") {
		t.Error("no server-side dry-run update was sent")
	}
	after := c.get("backend")
	if after.ResourceVersion != before.ResourceVersion && after.Generation != before.Generation {
		t.Errorf("the dry run changed the deployment (generation %d→%d)", before.Generation, after.Generation)
	}
	if _, ok := after.Annotations[guard.StateAnnotation]; ok || *after.Spec.Replicas != 2 {
		t.Error("the dry run wrote replicas or the state annotation")
	}
}

func TestRoundTripsPerScaleAction(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	a, k := c.adapter(c.conn.Config)
	ref := c.ref("backend")
	w, err := a.GetWorkload(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	k.reset()
	if _, err := a.Scale(context.Background(), ref, platform.ScaleRequest{Replicas: 3, ExpectedVersion: w.ResourceVersion,
		Annotations: map[string]string{guard.StateAnnotation: "{}"}}); err != nil {
		t.Fatal(err)
	}
	// The counts are figures, logged: they depend on timing (a status update
	// of the deployment controller can make a PUT conflict; the adapter then
	// re-reads and retries up to kube.MaxWriteAttempts, and the gate re-plans
	// up to tools.PlanAttempts). What is asserted holds whatever the timing:
	// every PUT follows a GET of the object, and the PUTs stay within the
	// bounds the code sets.
	reqs := k.reset()
	t.Logf("adapter Scale: %d round trips (2 without a conflict): %q", len(reqs), reqs)
	checkReadBeforeWrite(t, "adapter Scale", reqs, kube.MaxWriteAttempts)
	// Let the controllers finish their status writes for 3 replicas, so the
	// next figure is mostly about the tool (a late one is still allowed for).
	waitFor(t, 60*time.Second, func() bool {
		d := c.get("backend")
		return d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas == 3
	})
	k.reset()
	reg := c.registry(a, &metrics{cpu: 90}, clocktesting.NewFakeClock(time.Now()))
	mustStatus(t, call(context.Background(), reg, autoRun(), "scaleDeployment", wargs(ref, `"replicas":4`)), tools.StatusExecuted)
	reqs = k.reset()
	t.Logf("scaleDeployment tool call: %d round trips (8 without a conflict): %q", len(reqs), reqs)
	checkReadBeforeWrite(t, "scaleDeployment", reqs, tools.PlanAttempts*kube.MaxWriteAttempts)
}

// checkReadBeforeWrite asserts that every PUT comes right after a GET of the
// same object (never a blind re-apply of a stale delta), and that there are
// between 1 and maxPuts of them.
func checkReadBeforeWrite(t *testing.T, what string, reqs []string, maxPuts int) {
	t.Helper()
	puts := 0
	for i, r := range reqs {
		path, ok := strings.CutPrefix(r, "PUT ")
		if !ok {
			continue
		}
		puts++
		obj, _, _ := strings.Cut(path, "?")
		if i == 0 || !strings.HasPrefix(reqs[i-1], "GET "+obj+"?") {
			t.Errorf("%s: PUT %s without a GET of it right before: %q", what, obj, reqs)
		}
	}
	if puts < 1 || puts > maxPuts {
		t.Errorf("%s made %d PUTs, want 1 to %d: %q", what, puts, maxPuts, reqs)
	}
}

func TestScaleAStatefulSet(t *testing.T) {
	c := newCluster(t)
	one := int32(1)
	labels := map[string]string{"app": "db"}
	_, err := c.admin.AppsV1().StatefulSets(c.ns).Create(context.Background(), &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "db:1"}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.waitRunning("db", 1)
	a, _ := c.adapter(c.conn.Config)
	w, err := a.GetWorkload(context.Background(), c.ref("db"))
	if err != nil || w.Kind != kube.KindStatefulSet || len(w.Pods) != 1 {
		t.Fatalf("workload = %+v, %v", w, err)
	}
	if _, err := a.Scale(context.Background(), c.ref("db"), platform.ScaleRequest{Replicas: 2, ExpectedVersion: w.ResourceVersion}); err != nil {
		t.Fatal(err)
	}
	c.waitRunning("db", 2)
	_, err = a.Scale(context.Background(), c.ref("db"), platform.ScaleRequest{Replicas: 3, ExpectedVersion: w.ResourceVersion})
	if !errors.Is(err, platform.ErrConflict) {
		t.Fatalf("scale on a stale read: %v, want ErrConflict", err)
	}
}
