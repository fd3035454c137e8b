package kube

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

// at puts a pod on a StatefulSet revision.
func at(rev string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Labels[RevisionLabel] = rev }
}

func terminating(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: t0} }

func names(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestStalledPicksNotReadyPodsOnAnOldRevisionWithinTheBound(t *testing.T) {
	cases := []struct {
		name       string
		pods       []*corev1.Pod
		revision   string
		max        int
		todo, left []string
	}{
		{name: "crash-looping pods on the old revision",
			pods:     []*corev1.Pod{pod("db-0", "db", at("old"), crashLooping), pod("db-1", "db", at("old"), crashLooping)},
			revision: "new", max: 10, todo: []string{"db-0", "db-1"}},
		{name: "a ready pod on the old revision is never picked",
			pods:     []*corev1.Pod{pod("db-0", "db", at("old")), pod("db-1", "db", at("old"), crashLooping)},
			revision: "new", max: 10, todo: []string{"db-1"}},
		{name: "a not-ready pod already on the new revision is left to start",
			pods:     []*corev1.Pod{pod("db-0", "db", at("new"), crashLooping), pod("db-1", "db", at("old"), crashLooping)},
			revision: "new", max: 10, todo: []string{"db-1"}},
		{name: "a terminating pod is already going",
			pods:     []*corev1.Pod{pod("db-0", "db", at("old"), crashLooping, terminating)},
			revision: "new", max: 10},
		{name: "beyond the bound the pods are left",
			pods: []*corev1.Pod{pod("db-0", "db", at("old"), crashLooping), pod("db-1", "db", at("old"), crashLooping),
				pod("db-2", "db", at("old"), crashLooping)},
			revision: "new", max: 2, todo: []string{"db-0", "db-1"}, left: []string{"db-2"}},
		{name: "no revision (a dry run): every not-ready pod",
			pods:     []*corev1.Pod{pod("db-0", "db", at("new"), crashLooping), pod("db-1", "db", at("new"))},
			revision: "", max: 10, todo: []string{"db-0"}},
		{name: "bound zero picks none", pods: []*corev1.Pod{pod("db-0", "db", at("old"), crashLooping)},
			revision: "new", max: 0, left: []string{"db-0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var l podList
			for _, p := range tc.pods {
				l = append(l, *p)
			}
			todo, left := stalled(l, tc.revision, tc.max)
			if !slices.Equal(names(todo), tc.todo) || !slices.Equal(left, tc.left) {
				t.Errorf("todo %q left %q, want %q and %q", names(todo), left, tc.todo, tc.left)
			}
		})
	}
}

// observed is a StatefulSet whose controller has seen its spec, rolling
// from revision old to new.
func observed(s *appsv1.StatefulSet) *appsv1.StatefulSet {
	s.Generation, s.Status.ObservedGeneration = 4, 4
	s.Status.CurrentRevision, s.Status.UpdateRevision = "old", "new"
	return s
}

func TestRecycleDeletesTheStalledPodsWithPreconditions(t *testing.T) {
	f := newFixture(t, observed(statefulSet("db", 3)),
		pod("db-0", "db", at("old")), pod("db-1", "db", at("old"), crashLooping), pod("db-2", "db", at("new"), crashLooping))
	res, err := f.c.RecycleStalledPods(context.Background(), platform.WorkloadRef{Namespace: testNS, Name: "db"}, platform.RecycleRequest{Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Recycled, []string{"db-1"}) || len(res.Left) != 0 {
		t.Errorf("result %+v, want db-1 recycled", res)
	}
	var deletes []string
	for _, a := range f.kube.Actions() {
		d, ok := a.(k8stesting.DeleteActionImpl)
		if !ok {
			continue
		}
		deletes = append(deletes, d.Name)
		if pre := d.DeleteOptions.Preconditions; pre == nil || pre.UID == nil || *pre.UID != "uid-p-db-1" || pre.ResourceVersion == nil {
			t.Errorf("delete of %s without the pod's UID and resourceVersion as preconditions: %+v", d.Name, pre)
		}
	}
	if !slices.Equal(deletes, []string{"db-1"}) {
		t.Errorf("deleted %q, want db-1 only", deletes)
	}
}

func TestRecycleDryRunAsksTheServerToDeleteNothing(t *testing.T) {
	f := newFixture(t, observed(statefulSet("db", 1)), pod("db-0", "db", at("new"), crashLooping))
	res, err := f.c.RecycleStalledPods(context.Background(), platform.WorkloadRef{Name: "db"}, platform.RecycleRequest{Max: 10, DryRun: true})
	if err != nil || !slices.Equal(res.Recycled, []string{"db-0"}) {
		t.Fatalf("result %+v, %v; want db-0 (as if the template had changed)", res, err)
	}
	for _, a := range f.kube.Actions() {
		if d, ok := a.(k8stesting.DeleteActionImpl); ok && !slices.Equal(d.DeleteOptions.DryRun, []string{metav1.DryRunAll}) {
			t.Errorf("delete of %s without dryRun=All", d.Name)
		}
	}
}

func TestRecycleOfADeploymentDeletesNothing(t *testing.T) {
	f := newFixture(t, deployment("backend", 2), pod("backend-1", "backend", crashLooping))
	res, err := f.c.RecycleStalledPods(context.Background(), backend, platform.RecycleRequest{Max: 10})
	if err != nil || len(res.Recycled)+len(res.Left) != 0 {
		t.Fatalf("result %+v, %v; want nothing", res, err)
	}
	if w := f.writes(); len(w) != 0 {
		t.Errorf("writes %q, want none", w)
	}
}

// The controller has not observed the new template: the recycle waits for
// it (on the client's clock) rather than judge pods by the old revision,
// and gives up with ErrRolloutTimeout after observeTimeout.
func TestRecycleWaitsForTheControllerToObserveTheTemplate(t *testing.T) {
	s := observed(statefulSet("db", 1))
	s.Generation = 5 // the template just changed; status still says 4
	f := newFixture(t, s, pod("db-0", "db", at("new"), crashLooping))
	reads := 0
	f.kube.PrependReactor("get", "statefulsets", func(k8stesting.Action) (bool, runtime.Object, error) {
		reads++
		return false, nil, nil
	})
	done := make(chan error, 1)
	go func() {
		_, err := f.c.RecycleStalledPods(context.Background(), platform.WorkloadRef{Name: "db"}, platform.RecycleRequest{Max: 10})
		done <- err
	}()
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		default:
		}
		if f.clock.HasWaiters() {
			f.clock.Step(time.Second)
		}
		time.Sleep(time.Millisecond)
	}
	if waited := f.clock.Since(t0); waited < observeTimeout {
		t.Errorf("gave up after %s, want %s", waited, observeTimeout)
	}
	if !errors.Is(err, ErrRolloutTimeout) {
		t.Fatalf("err = %v, want ErrRolloutTimeout", err)
	}
	if reads < 2 {
		t.Errorf("read the StatefulSet %d times, want it polled", reads)
	}
	if w := f.writes(); len(w) != 0 {
		t.Errorf("writes %q before the controller observed the template, want none", w)
	}
}
