package kube

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

func TestGetWorkloadMapsDeploymentPodsAndEvents(t *testing.T) {
	f := newFixture(t,
		deployment("backend", 2),
		deployment("backend-worker", 1),
		pod("backend-abc12-aaaaa", "backend"),
		pod("backend-abc12-bbbbb", "backend", crashLooping),
		pod("backend-worker-x", "backend-worker"),
		event("e1", "Pod", "backend-abc12-bbbbb", "BackOff", t0.Add(-time.Minute)),
		event("e2", "Deployment", "backend", "ScalingReplicaSet", t0.Add(-2*time.Minute)),
		event("e3", "ReplicaSet", "backend-abc12", "SuccessfulCreate", t0.Add(-3*time.Minute)),
		event("e4", "Pod", "backend-worker-x", "Killing", t0),
	)
	w, err := f.c.GetWorkload(context.Background(), backend)
	if err != nil {
		t.Fatal(err)
	}
	if w.Kind != KindDeployment || w.Replicas != 2 || w.ResourceVersion != "100" || w.Generation != 3 {
		t.Errorf("workload = %s %d rv %s gen %d", w.Kind, w.Replicas, w.ResourceVersion, w.Generation)
	}
	if len(w.Containers) != 2 || w.Containers[0].MemoryLimit != 2<<30 || w.Containers[0].CPURequestM != 500 || w.Containers[0].MemoryRequest != 1<<30 {
		t.Errorf("containers = %+v", w.Containers)
	}
	if len(w.Pods) != 2 {
		t.Fatalf("pods = %+v, want the 2 of backend only", w.Pods)
	}
	healthy, looping := w.Pods[0], w.Pods[1]
	if !healthy.Ready || healthy.Restarts != 3 || healthy.WaitingReason != "" || healthy.LastTerm != nil || healthy.Phase != "Running" {
		t.Errorf("healthy pod = %+v", healthy)
	}
	if looping.Ready || looping.Restarts != 8 || looping.WaitingReason != "CrashLoopBackOff" ||
		looping.LastTerm == nil || looping.LastTerm.Reason != "OOMKilled" || looping.LastTerm.ExitCode != 137 {
		t.Errorf("crash-looping pod = %+v (last %+v)", looping, looping.LastTerm)
	}
	var reasons []string
	for _, e := range w.Events {
		reasons = append(reasons, e.Reason)
	}
	if want := []string{"SuccessfulCreate", "ScalingReplicaSet", "BackOff"}; !equal(reasons, want) {
		t.Errorf("events = %v, want %v (oldest first, backend's only)", reasons, want)
	}
	if w.AutoscaledBy != "" {
		t.Errorf("autoscaledBy = %q, want none", w.AutoscaledBy)
	}
}

func TestGetWorkloadFindsStatefulSets(t *testing.T) {
	f := newFixture(t, statefulSet("clickhouse", 3), pod("clickhouse-0", "clickhouse"))
	w, err := f.c.GetWorkload(context.Background(), platform.WorkloadRef{Namespace: testNS, Name: "clickhouse"})
	if err != nil {
		t.Fatal(err)
	}
	if w.Kind != KindStatefulSet || w.Replicas != 3 || len(w.Pods) != 1 {
		t.Errorf("workload = %+v", w)
	}
}

func TestGetWorkloadOfUnknownNameIsNotFound(t *testing.T) {
	f := newFixture(t, deployment("backend", 2))
	_, err := f.c.GetWorkload(context.Background(), platform.WorkloadRef{Namespace: testNS, Name: "nope"})
	if !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestGetWorkloadReadsTheAutoscalerThatOwnsIt(t *testing.T) {
	tests := []struct {
		name  string
		objs  []runtime.Object
		keda  []runtime.Object
		noCRD bool
		want  string
	}{
		{name: "hpa targeting it", objs: []runtime.Object{hpa("backend-hpa", "Deployment", "backend")}, want: "HorizontalPodAutoscaler/backend-hpa"},
		{name: "hpa targeting another", objs: []runtime.Object{hpa("other", "Deployment", "frontend")}, want: ""},
		{name: "hpa targeting a statefulset of that name", objs: []runtime.Object{hpa("x", "StatefulSet", "backend")}, want: ""},
		{name: "scaled object with default kind", keda: []runtime.Object{scaledObject("backend-so", "", "backend")}, want: "ScaledObject/backend-so"},
		{name: "scaled object of another", keda: []runtime.Object{scaledObject("so", "Deployment", "frontend")}, want: ""},
		{name: "keda not installed", noCRD: true, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, append(tt.objs, deployment("backend", 2))...)
			for _, o := range tt.keda {
				u := o.(*unstructured.Unstructured)
				if _, err := f.dyn.Resource(ScaledObjectResource).Namespace(testNS).Create(context.Background(), u, metav1CreateOptions()); err != nil {
					t.Fatal(err)
				}
			}
			if tt.noCRD {
				f.dyn.PrependReactor("list", "scaledobjects", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewNotFound(ScaledObjectResource.GroupResource(), "")
				})
			}
			w, err := f.c.GetWorkload(context.Background(), backend)
			if err != nil {
				t.Fatal(err)
			}
			if w.AutoscaledBy != tt.want {
				t.Errorf("autoscaledBy = %q, want %q", w.AutoscaledBy, tt.want)
			}
		})
	}
}

func TestGetWorkloadFailsClosedWhenOwnershipCannotBeRead(t *testing.T) {
	f := newFixture(t, deployment("backend", 2))
	f.kube.PrependReactor("list", "horizontalpodautoscalers", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(hpaResource, "", errors.New("no"))
	})
	_, err := f.c.GetWorkload(context.Background(), backend)
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("err = %v, want ErrForbidden", err)
	}
}

func TestListWorkloadsListsBothKindsByName(t *testing.T) {
	f := newFixture(t, deployment("frontend", 2), statefulSet("clickhouse", 1), deployment("backend", 3))
	ws, err := f.c.ListWorkloads(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range ws {
		names = append(names, w.Kind+"/"+w.Ref.Name)
	}
	if want := []string{"Deployment/backend", "StatefulSet/clickhouse", "Deployment/frontend"}; !equal(names, want) {
		t.Errorf("workloads = %v, want %v", names, want)
	}
}

func TestPodViewOfATerminatedContainerWithoutRestart(t *testing.T) {
	p := pod("p", "backend", func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodFailed
		p.Status.ContainerStatuses[1].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1}}
	})
	v := podView(p)
	if v.Phase != "Failed" || v.LastTerm == nil || v.LastTerm.Reason != "Error" || v.LastTerm.ExitCode != 1 {
		t.Errorf("pod = %+v", v)
	}
}
