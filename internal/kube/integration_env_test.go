//go:build integration

// Integration tests of the adapter against the real control plane that
// `make testenv-up` (scripts/testenv/kube.sh) starts: kube-apiserver with etcd,
// kube-controller-manager, kube-scheduler and kwok. Only the metric input of
// the guard is faked (the Prometheus adapter is tested on its own); every
// Kubernetes request goes to the real API server.
package kube_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// cluster is the test cluster seen by one test: an admin client for set-up
// and checks, and a namespace of its own, deleted at the end.
type cluster struct {
	t     *testing.T
	conn  kube.Connection
	admin kubernetes.Interface
	ns    string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	// Only the test cluster's own kubeconfig: an ambient KUBECONFIG may name a real cluster.
	dir := os.Getenv("OPS_SKILL_TEST_KUBE_DIR")
	if dir == "" {
		t.Skip("the test cluster is not up: run scripts/testenv/kube.sh up (or make testenv-up) and load .testenv/env")
	}
	conn, err := kube.LoadConfig(kube.ConnectOptions{Kubeconfig: filepath.Join(dir, "kubeconfig"), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := kubernetes.NewForConfig(conn.Config)
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, conn: conn, admin: admin, ns: "it-" + strings.ToLower(shortName(t.Name())) + "-" + randHex(3)}
	_, err = admin.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: c.ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace (is the test cluster up?): %v", err)
	}
	t.Cleanup(func() {
		_ = admin.CoreV1().Namespaces().Delete(context.Background(), c.ns, metav1.DeleteOptions{})
	})
	// Pods cannot be created before the namespace's default ServiceAccount
	// exists, and the ReplicaSet controller backs off when that happens:
	// wait for the serviceaccount controller rather than for the backoff.
	waitFor(t, 30*time.Second, func() bool {
		_, err := admin.CoreV1().ServiceAccounts(c.ns).Get(context.Background(), "default", metav1.GetOptions{})
		return err == nil
	})
	return c
}

func shortName(s string) string {
	s = strings.NewReplacer("Test", "", "/", "-", "_", "-").Replace(s)
	if len(s) > 30 {
		s = s[:30]
	}
	return strings.Trim(s, "-")
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *cluster) ref(name string) platform.WorkloadRef {
	return platform.WorkloadRef{Namespace: c.ns, Name: name}
}

// counter counts the HTTP round trips an adapter makes.
type counter struct {
	n    atomic.Int64
	mu   sync.Mutex
	reqs []string
}

func (k *counter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		k.n.Add(1)
		k.mu.Lock()
		k.reqs = append(k.reqs, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		k.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

func (k *counter) reset() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := k.reqs
	k.reqs = nil
	k.n.Store(0)
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// adapter builds a fresh adapter (its own HTTP client and caches, like a
// second process) on cfg, counting its round trips.
func (c *cluster) adapter(cfg *rest.Config) (*kube.Client, *counter) {
	c.t.Helper()
	cfg = rest.CopyConfig(cfg)
	k := &counter{}
	cfg.Wrap(k.wrap)
	a, err := kube.NewForConfig(cfg, c.ns, kube.WithPollInterval(200*time.Millisecond))
	if err != nil {
		c.t.Fatal(err)
	}
	return a, k
}

// metrics is the one fake input: a CPU and error-rate window the guard
// judges, as Prometheus would return it. hold, when set, is called on every
// query (to line up concurrent scalers or stop the API server mid-run).
type metrics struct {
	cpu, errRate float64
	hold         func()
}

func (m *metrics) Query(ctx context.Context, q platform.MetricQuery) (platform.MetricResult, error) {
	if m.hold != nil {
		m.hold()
	}
	v := m.cpu
	if q.Metric == platform.MetricErrorRate {
		v = m.errRate
	}
	var s []platform.Sample
	for t := q.Start; !t.After(q.End); t = t.Add(q.Step) {
		s = append(s, platform.Sample{T: t, V: v})
	}
	return platform.MetricResult{Series: []platform.Series{{Samples: s}}}, nil
}

// registry builds the tools as the app does, on a real adapter, with no
// shared state store: the guard's state lives only in the annotation.
func (c *cluster) registry(cl platform.Cluster, m platform.Metrics, clk *clocktesting.FakeClock) *tools.Registry {
	return tools.NewRegistry(tools.Deps{Cluster: cl, Metrics: m, Clock: clk, Policy: policy(c.ns)})
}

func policy(ns string) tools.Policy {
	return tools.Policy{
		Scope: guard.Scope{AllowedNamespaces: []string{ns}},
		Scaling: guard.ScalingPolicy{Enabled: true, Min: 2, Max: 10,
			Up:         guard.Rule{Threshold: 80, Sustain: 5 * time.Minute, Step: 1},
			Down:       guard.Rule{Threshold: 30, Sustain: 15 * time.Minute, Step: 1},
			Out:        guard.Rule{Threshold: 10, Sustain: 2 * time.Minute, Step: 2},
			SampleStep: tools.SampleStep},
		Healing: guard.DefaultHealingPolicy(),
	}
}

func autoRun() *tools.Run { return tools.NewRun(1, guard.ModeAuto, nil, guard.DefaultMaxWrites) }

func call(ctx context.Context, reg *tools.Registry, run *tools.Run, tool, args string) tools.Outcome {
	return reg.Invoke(ctx, run, tools.Call{ID: "1", Tool: tools.Name(tool), Args: []byte(args)})
}

func wargs(ref platform.WorkloadRef, extra string) string {
	s := fmt.Sprintf(`{"namespace":%q,"name":%q`, ref.Namespace, ref.Name)
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func mustStatus(t *testing.T, o tools.Outcome, want tools.Status) {
	t.Helper()
	if o.Status != want {
		t.Fatalf("%s: status %q, want %q (summary %q, rule %q, reason %q, error %q)", o.Tool, o.Status, want, o.Summary, o.Rule, o.Reason, o.Error)
	}
}

// deployment creates a Deployment whose pods kwok runs, and waits until
// they are Running and ready.
func (c *cluster) deployment(name string, replicas int32, mutate ...func(*appsv1.Deployment)) *appsv1.Deployment {
	c.t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1",
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
					}}}},
			},
		},
	}
	for _, m := range mutate {
		m(d)
	}
	d, err := c.admin.AppsV1().Deployments(c.ns).Create(context.Background(), d, metav1.CreateOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	if !d.Spec.Paused {
		c.waitRunning(name, replicas)
	}
	return d
}

// waitRunning waits until exactly n pods of the workload are Running, ready
// and scheduled on the kwok node, none terminating.
func (c *cluster) waitRunning(app string, n int32) []corev1.Pod {
	c.t.Helper()
	start := time.Now()
	var pods []corev1.Pod
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 120*time.Second, true, func(ctx context.Context) (bool, error) {
		l, err := c.admin.CoreV1().Pods(c.ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return false, err
		}
		pods = pods[:0]
		for _, p := range l.Items {
			if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || p.Spec.NodeName != "kwok-node-0" || !ready(p) {
				return false, nil
			}
			pods = append(pods, p)
		}
		return int32(len(pods)) == n, nil
	})
	if err != nil {
		c.t.Fatalf("waiting for %d Running pods of %s: %v (last saw %d)", n, app, err, len(pods))
	}
	c.t.Logf("%d pods of %s Running after %s", n, app, time.Since(start).Round(time.Millisecond))
	return pods
}

func ready(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (c *cluster) get(name string) *appsv1.Deployment {
	c.t.Helper()
	d, err := c.admin.AppsV1().Deployments(c.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return d
}

// opsEvents lists the events ops-skill recorded in the namespace, as "reason: note".
func (c *cluster) opsEvents() []string {
	c.t.Helper()
	l, err := c.admin.EventsV1().Events(c.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	var out []string
	for _, e := range l.Items {
		if e.ReportingController == kube.ReportingController {
			out = append(out, e.Regarding.Kind+"/"+e.Regarding.Name+" "+e.Reason+": "+e.Note)
		}
	}
	return out
}

// setPodStatus changes a pod's status through the API, as a kubelet would.
func (c *cluster) setPodStatus(p corev1.Pod, fn func(*corev1.PodStatus)) {
	c.t.Helper()
	cur, err := c.admin.CoreV1().Pods(c.ns).Get(context.Background(), p.Name, metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	fn(&cur.Status)
	if _, err := c.admin.CoreV1().Pods(c.ns).UpdateStatus(context.Background(), cur, metav1.UpdateOptions{}); err != nil {
		c.t.Fatal(err)
	}
}

// oomLooping is the status of a pod whose main container is OOM-killed and backing off.
func oomLooping(s *corev1.PodStatus) {
	now := metav1.Now()
	for i := range s.Conditions {
		if s.Conditions[i].Type == corev1.PodReady || s.Conditions[i].Type == corev1.ContainersReady {
			s.Conditions[i].Status = corev1.ConditionFalse
		}
	}
	s.ContainerStatuses[0].Ready = false
	s.ContainerStatuses[0].RestartCount = 6
	s.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
		Message: "back-off 5m0s restarting failed container"}}
	s.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		Reason: "OOMKilled", ExitCode: 137, StartedAt: now, FinishedAt: now}}
}
