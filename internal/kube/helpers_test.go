package kube

import (
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/platform"
)

const testNS = "ai-data-labs"

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

var backend = platform.WorkloadRef{Namespace: testNS, Name: "backend"}

// fixture is an adapter on fake clients with a fake clock.
type fixture struct {
	kube  *fake.Clientset
	dyn   *dynamicfake.FakeDynamicClient
	clock *clocktesting.FakeClock
	c     *Client
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{kube: fake.NewClientset(objs...), clock: clocktesting.NewFakeClock(t0)}
	f.dyn = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{ScaledObjectResource: "ScaledObjectList"})
	f.c = New(f.kube, f.dyn, testNS, WithClock(f.clock), WithInstance("test"), WithPollInterval(time.Second))
	return f
}

// writes lists the update/create actions the fake saw, as "verb resource[/sub]".
func (f *fixture) writes() []string {
	var out []string
	for _, a := range f.kube.Actions() {
		if a.GetVerb() == "get" || a.GetVerb() == "list" || a.GetVerb() == "watch" {
			continue
		}
		r := a.GetResource().Resource
		if s := a.GetSubresource(); s != "" {
			r += "/" + s
		}
		out = append(out, a.GetVerb()+" "+r)
	}
	return out
}

// lastUpdate returns the object of the last update action.
func (f *fixture) lastUpdate(t *testing.T) runtime.Object {
	t.Helper()
	acts := f.kube.Actions()
	for i := len(acts) - 1; i >= 0; i-- {
		if u, ok := acts[i].(k8stesting.UpdateActionImpl); ok {
			return u.Object
		}
	}
	t.Fatal("no update action")
	return nil
}

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, ResourceVersion: "100", UID: k8stypes.UID("uid-d-" + name), Generation: 3},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "app:1",
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
						Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")},
					},
				}, {Name: "sidecar", Image: "proxy:1"}}},
			},
		},
		Status: appsv1.DeploymentStatus{Replicas: replicas, ReadyReplicas: replicas, UpdatedReplicas: replicas, AvailableReplicas: replicas, ObservedGeneration: 3},
	}
}

func statefulSet(name string, replicas int32) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, ResourceVersion: "200", UID: k8stypes.UID("uid-s-" + name)},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "db:1"}}},
			},
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
		},
	}
}

func pod(name, app string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, UID: k8stypes.UID("uid-p-" + name),
			Labels: map[string]string{"app": app, "pod-template-hash": "abc12"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}, {Name: "sidecar"}}},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			StartTime:  &metav1.Time{Time: t0.Add(-time.Hour)},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "sidecar", RestartCount: 1},
				{Name: "app", RestartCount: 2},
			},
		},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

// crashLooping makes the main container OOM-killed and backing off.
func crashLooping(p *corev1.Pod) {
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	p.Status.ContainerStatuses[1] = corev1.ContainerStatus{
		Name: "app", RestartCount: 7,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			Reason: "OOMKilled", ExitCode: 137, FinishedAt: metav1.Time{Time: t0.Add(-time.Minute)}}},
	}
}

func event(name, kind, object, reason string, at time.Time) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: testNS},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Name: object, Namespace: testNS},
		Reason:         reason, Type: corev1.EventTypeWarning, Message: reason + " of " + object,
		LastTimestamp: metav1.Time{Time: at},
	}
}

func hpa(name, targetKind, target string) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: targetKind, Name: target},
			MaxReplicas:    10,
		},
	}
}

var hpaResource = autoscalingv2.SchemeGroupVersion.WithResource("horizontalpodautoscalers").GroupResource()

func scaledObject(name, kind, target string) *unstructured.Unstructured {
	ref := map[string]any{"name": target}
	if kind != "" {
		ref["kind"] = kind
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
		"metadata": map[string]any{"name": name, "namespace": testNS},
		"spec":     map[string]any{"scaleTargetRef": ref},
	}}
}

func metav1CreateOptions() metav1.CreateOptions { return metav1.CreateOptions{} }

func equal(a, b []string) bool { return slices.Equal(a, b) }
