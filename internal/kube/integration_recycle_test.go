//go:build integration

package kube_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/tools"
)

// orderedStatefulSet creates a StatefulSet with the API's defaults
// (OrderedReady, RollingUpdate) and a 256Mi memory limit, and waits until
// its pods are Running and ready.
func (c *cluster) orderedStatefulSet(name string, replicas int32) []corev1.Pod {
	c.t.Helper()
	labels := map[string]string{"app": name}
	s := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.ns},
		Spec: appsv1.StatefulSetSpec{Replicas: &replicas, ServiceName: name, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: name + ":1", Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}}}}}}}}
	if _, err := c.admin.AppsV1().StatefulSets(c.ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	return c.waitRunning(name, replicas)
}

// rolled waits until every pod of the StatefulSet is ready on its update
// revision with the given memory limit, and returns how long that took.
func (c *cluster) rolled(name string, replicas int, limit string) time.Duration {
	c.t.Helper()
	start, last := time.Now(), ""
	for time.Since(start) < 2*time.Minute {
		s, err := c.admin.AppsV1().StatefulSets(c.ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			c.t.Fatal(err)
		}
		l, err := c.admin.CoreV1().Pods(c.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			c.t.Fatal(err)
		}
		ok := 0
		for _, p := range l.Items {
			lim := p.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory]
			if p.DeletionTimestamp == nil && ready(p) && p.Labels[kube.RevisionLabel] == s.Status.UpdateRevision && lim.Cmp(resource.MustParse(limit)) == 0 {
				ok++
			}
		}
		if ok == replicas && len(l.Items) == replicas {
			return time.Since(start)
		}
		last = fmt.Sprintf("%d of %d pods ready at revision %s with %s", ok, len(l.Items), s.Status.UpdateRevision, limit)
		time.Sleep(200 * time.Millisecond)
	}
	c.t.Fatalf("StatefulSet %s did not roll: %s", name, last)
	return 0
}

// A memory raise on a StatefulSet whose pods crash-loop (OrderedReady: the
// controller waits for them to be ready, forever) deletes the not-ready
// pods on the old revision, so that the controller recreates them with the
// new limit; a ready pod is left to the controller's own roll.
func TestMemoryRaiseRecyclesTheCrashLoopingPodsOfAStatefulSet(t *testing.T) {
	cases := []struct {
		name     string
		looping  []int // the ordinals OOM-killed in a loop
		recycled []string
	}{
		{name: "every pod crash-looping", looping: []int{0, 1}, recycled: []string{"db-0", "db-1"}},
		{name: "one pod crash-looping, one ready", looping: []int{1}, recycled: []string{"db-1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			pods := c.orderedStatefulSet("db", 2)
			for _, i := range tc.looping {
				c.setPodStatus(pods[i], oomLooping)
			}
			a, _ := c.adapter(c.conn.Config)
			reg := c.registry(a, &metrics{cpu: 50}, clocktesting.NewFakeClock(time.Now()))
			start := time.Now()
			o := call(context.Background(), reg, autoRun(), "updateResources", wargs(c.ref("db"), `"memoryLimit":"512Mi"`))
			mustStatus(t, o, tools.StatusExecuted)
			res := o.Result.(tools.ResourcesResult)
			if !slices.Equal(res.Recycled, tc.recycled) || res.Note != "" {
				t.Fatalf("recycled %q (note %q), want %q", res.Recycled, res.Note, tc.recycled)
			}
			t.Logf("updateResources answered in %s", time.Since(start).Round(time.Millisecond))
			took := c.rolled("db", 2, "512Mi")
			t.Logf("both pods ready at the new revision %s after the call", took.Round(100*time.Millisecond))
		})
	}
}
