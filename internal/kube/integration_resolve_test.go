//go:build integration

package kube_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/duet-company/ops-skill/internal/alert"
	"github.com/duet-company/ops-skill/internal/platform"
)

// Alerts labelled as kube-state-metrics labels them name a pod, a PVC, an
// HPA or a Service; the adapter resolves each to its workload through the
// API server's own records (the controllers set the ownerReferences).
func TestResolveThroughTheAPIServersOwnerReferences(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	c.deployment("web", 2)
	c.statefulSetWithClaims("db", 2)
	pods := podsOf(t, c, "web")
	if _, err := c.admin.CoreV1().Services(c.ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web-svc", Namespace: c.ns},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.admin.AutoscalingV2().HorizontalPodAutoscalers(c.ns).Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web-hpa", Namespace: c.ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas: ptr.To[int32](2), MaxReplicas: 5}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a, k := c.adapter(c.conn.Config)
	tests := []struct {
		ref   platform.ObjectRef
		want  string
		kind  string
		chain string
	}{
		{platform.ObjectRef{Kind: platform.ObjectPod, Namespace: c.ns, Name: pods[0]}, "web", "Deployment", "→ replicaset/" + c.ns + "/web-"},
		{platform.ObjectRef{Kind: platform.ObjectPod, Namespace: c.ns, Name: "db-1"}, "db", "StatefulSet", "pod/" + c.ns + "/db-1 → statefulset/" + c.ns + "/db"},
		{platform.ObjectRef{Kind: platform.ObjectPVC, Namespace: c.ns, Name: "data-db-0"}, "db", "StatefulSet", "pvc/" + c.ns + "/data-db-0 → pod/" + c.ns + "/db-0 → statefulset/" + c.ns + "/db"},
		{platform.ObjectRef{Kind: platform.ObjectHPA, Namespace: c.ns, Name: "web-hpa"}, "web", "Deployment", "hpa/" + c.ns + "/web-hpa → deployment/" + c.ns + "/web"},
		{platform.ObjectRef{Kind: platform.ObjectService, Namespace: c.ns, Name: "web-svc"}, "web", "Deployment", "→ deployment/" + c.ns + "/web"},
	}
	for _, tt := range tests {
		k.reset()
		res, err := a.Resolve(ctx, tt.ref)
		reqs := k.reset()
		if err != nil {
			t.Errorf("Resolve(%s): %v", tt.ref, err)
			continue
		}
		t.Logf("%s → %s in %d API requests", tt.ref, res.Chain(), len(reqs))
		if res.Workload.Name != tt.want || res.Kind != tt.kind || !strings.Contains(res.Chain(), tt.chain) {
			t.Errorf("Resolve(%s) = %s %s via %q; want %s %s via …%s…", tt.ref, res.Kind, res.Workload, res.Chain(), tt.kind, tt.want, tt.chain)
		}
	}
	if _, err := a.Resolve(ctx, platform.ObjectRef{Kind: platform.ObjectPod, Namespace: c.ns, Name: "db-7"}); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("a pod that does not exist: %v, want ErrNotFound", err)
	}
}

// statefulSetWithClaims creates a StatefulSet with a volumeClaimTemplate
// "data" and waits until the controller made its pods (and their claims).
func (c *cluster) statefulSetWithClaims(name string, replicas int32) *appsv1.StatefulSet {
	c.t.Helper()
	labels := map[string]string{"app": name}
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &replicas, ServiceName: name, Selector: &metav1.LabelSelector{MatchLabels: labels},
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "db:1",
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}}}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}},
		},
	}
	s, err := c.admin.AppsV1().StatefulSets(c.ns).Create(context.Background(), s, metav1.CreateOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	waitFor(c.t, 60*time.Second, func() bool {
		l, err := c.admin.CoreV1().Pods(c.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
		return err == nil && int32(len(l.Items)) == replicas
	})
	return s
}

func podsOf(t *testing.T, c *cluster, app string) []string {
	t.Helper()
	l, err := c.admin.CoreV1().Pods(c.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range l.Items {
		out = append(out, p.Name)
	}
	return out
}

// The corpus's kube-state-metrics and kubelet payloads, pointed at the test
// cluster's objects: classified as the rules say, resolved through the API
// server to the workload the controllers made.
func TestCorpusPayloadsResolveOnTheLocalCluster(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	c.deployment("backend", 2)
	c.statefulSetWithClaims("clickhouse", 1)
	pod := podsOf(t, c, "backend")[0]
	a, k := c.adapter(c.conn.Config)
	tests := []struct {
		file, from, to string // the corpus payload, and the object name it names replaced by ours
		want           string
	}{
		{"kubepodcrashlooping-kps.json", "backend-vbz7nb2tx9-7rnvf", pod, "Deployment " + c.ns + "/backend"},
		{"kubepodcrashlooping-kp.json", "clickhouse-0", "clickhouse-0", "StatefulSet " + c.ns + "/clickhouse"},
		{"kubepersistentvolumefillingup-kp.json", "data-clickhouse-0", "data-clickhouse-0", "StatefulSet " + c.ns + "/clickhouse"},
	}
	for _, tt := range tests {
		raw, err := os.ReadFile(filepath.Join(projectRoot, "testdata", "alerts", "corpus", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		payload := strings.ReplaceAll(strings.ReplaceAll(string(raw), tt.from, tt.to), `"namespace": "ai-data-labs"`, `"namespace": "`+c.ns+`"`)
		w, err := alert.DecodeWebhook([]byte(payload), true)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		as, err := alert.Parser{Namespace: c.ns}.ParseWebhook(w, time.Now())
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		sub := as[0].Classification.Subject
		k.reset()
		res, err := a.Resolve(ctx, sub)
		reqs := k.reset()
		if err != nil {
			t.Errorf("%s: resolve %s: %v", tt.file, sub, err)
			continue
		}
		t.Logf("%s: %s → %s %s in %d API requests", tt.file, sub, res.Kind, res.Workload, len(reqs))
		if got := res.Kind + " " + res.Workload.String(); got != tt.want {
			t.Errorf("%s: %s resolved to %s, want %s (the scrape target's labels must not count)", tt.file, sub, got, tt.want)
		}
	}
}
