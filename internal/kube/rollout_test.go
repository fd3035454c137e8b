package kube

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type waitResult struct {
	st  RolloutStatus
	err error
}

// startWait runs WaitRollout in the background and hands over each progress report.
func startWait(f *fixture, timeout time.Duration) (<-chan RolloutStatus, <-chan waitResult) {
	progress := make(chan RolloutStatus)
	done := make(chan waitResult, 1)
	go func() {
		st, err := f.c.WaitRollout(context.Background(), backend, timeout, func(s RolloutStatus) { progress <- s })
		done <- waitResult{st, err}
	}()
	return progress, done
}

func setStatus(t *testing.T, f *fixture, fn func(*appsv1.Deployment)) {
	t.Helper()
	d, err := f.kube.AppsV1().Deployments(testNS).Get(context.Background(), "backend", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fn(d)
	if _, err := f.kube.AppsV1().Deployments(testNS).UpdateStatus(context.Background(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func rolling() *appsv1.Deployment {
	d := deployment("backend", 3)
	d.Generation, d.Status.ObservedGeneration = 4, 3
	d.Status.UpdatedReplicas, d.Status.Replicas = 0, 3
	return d
}

func TestWaitRolloutReportsProgressUntilDone(t *testing.T) {
	f := newFixture(t, rolling())
	progress, done := startWait(f, time.Minute)
	var msgs []string
	steps := []func(*appsv1.Deployment){
		func(d *appsv1.Deployment) {
			d.Status.ObservedGeneration = 4
			d.Status.UpdatedReplicas = 1
			d.Status.Replicas = 4
		},
		func(d *appsv1.Deployment) {
			d.Status.UpdatedReplicas = 3
			d.Status.Replicas = 3
			d.Status.AvailableReplicas = 2
		},
		func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 3 },
	}
	for _, step := range steps {
		msgs = append(msgs, (<-progress).Message)
		setStatus(t, f, step)
		f.clock.Step(time.Second)
	}
	last := <-progress
	r := <-done
	if r.err != nil || !r.st.Done || !last.Done {
		t.Fatalf("result = %+v, %v", r.st, r.err)
	}
	want := []string{
		"waiting for the deployment controller to observe the new spec",
		"1 of 3 new replicas have been updated",
		"2 of 3 updated replicas are available",
	}
	if !equal(msgs, want) {
		t.Errorf("progress = %q, want %q", msgs, want)
	}
}

func TestWaitRolloutGivesUpAtTheDeadline(t *testing.T) {
	f := newFixture(t, rolling())
	progress, done := startWait(f, 5*time.Second)
	reports := 0
	for {
		select {
		case <-progress:
			reports++
			f.clock.Step(time.Second)
			continue
		case r := <-done:
			if !errors.Is(r.err, ErrRolloutTimeout) || r.st.Done {
				t.Fatalf("result = %+v, %v; want ErrRolloutTimeout", r.st, r.err)
			}
			if reports < 5 || reports > 6 {
				t.Errorf("%d progress reports over 5s at a 1s poll", reports)
			}
		}
		return
	}
}

func TestWaitRolloutStopsOnProgressDeadlineExceeded(t *testing.T) {
	d := rolling()
	d.Status.ObservedGeneration = 4
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
		Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet backend-abc12 has timed out progressing."}}
	f := newFixture(t, d)
	progress, done := startWait(f, time.Minute)
	<-progress
	if r := <-done; !errors.Is(r.err, ErrRolloutFailed) || !r.st.Failed {
		t.Fatalf("result = %+v, %v; want ErrRolloutFailed", r.st, r.err)
	}
}

func TestStatefulSetRolloutStatus(t *testing.T) {
	s := statefulSet("clickhouse", 2)
	s.Status = appsv1.StatefulSetStatus{ReadyReplicas: 2, UpdatedReplicas: 1, CurrentRevision: "a", UpdateRevision: "b"}
	if st := statefulSetRollout(s); st.Done || st.Message != "1 of 2 pods are on the new revision" {
		t.Errorf("mid-rollout = %+v", st)
	}
	s.Status.CurrentRevision, s.Status.UpdatedReplicas = "b", 2
	if st := statefulSetRollout(s); !st.Done {
		t.Errorf("rolled out = %+v", st)
	}
}
