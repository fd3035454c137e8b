//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/testenv"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// stack is the local test stack as .testenv/env.d describes it.
type stack struct {
	t          *testing.T
	env        map[string]string
	admin      kubernetes.Interface
	kubeconfig string // the stack's kubeconfig
}

// newStack reads the env files of the components; a missing one fails the
// test (make e2e starts them), or skips it with OPS_E2E_SKIP_MISSING=1.
func newStack(t *testing.T, components ...string) *stack {
	t.Helper()
	s := &stack{t: t, env: map[string]string{}}
	for _, c := range components {
		env, err := testenv.Read(c)
		if err != nil {
			msg := fmt.Sprintf("%v: run make testenv-up (or make e2e)", err)
			if errors.Is(err, os.ErrNotExist) && os.Getenv("OPS_E2E_SKIP_MISSING") == "1" {
				t.Skip(msg)
			}
			t.Fatal(msg)
		}
		maps.Copy(s.env, env)
	}
	s.kubeconfig = s.env["KUBECONFIG"]
	rc, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if s.admin, err = kubernetes.NewForConfig(rc); err != nil {
		t.Fatal(err)
	}
	return s
}

// namespace creates a namespace of the test's own, deleted at the end.
func (s *stack) namespace(prefix string) string {
	ns := fmt.Sprintf("%s-%06x", prefix, rand.IntN(1<<24))
	if _, err := s.admin.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("create namespace: %v", err)
	}
	s.t.Cleanup(func() { _ = s.admin.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	return ns
}

// deployment creates a Deployment with one container "app" of the given
// CPU request and memory limit.
func (s *stack) deployment(ns, name string, replicas int32, cpuRequest, memLimit string) {
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "shop/" + name + ":1", Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuRequest), corev1.ResourceMemory: resource.MustParse(memLimit)},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memLimit)}}}}}}}}
	if _, err := s.admin.AppsV1().Deployments(ns).Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stack) getDeployment(ns, name string) *appsv1.Deployment {
	d, err := s.admin.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

// eventually polls cond every 500ms until it holds or the deadline passes;
// it returns how long it took and fails the test with last() otherwise.
func eventually(t *testing.T, deadline time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	last := ""
	for time.Since(start) < deadline {
		ok, l := cond()
		if ok {
			return time.Since(start)
		}
		last = l
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: not after %s; last saw %s", what, deadline, last)
	return 0
}

// waitReady waits for a Deployment to have want ready replicas.
func (s *stack) waitReady(ns, name string, want int32) {
	s.t.Helper()
	took := eventually(s.t, 90*time.Second, fmt.Sprintf("%s/%s with %d ready replicas", ns, name, want), func() (bool, string) {
		d := s.getDeployment(ns, name)
		return d.Status.ReadyReplicas == want && d.Status.Replicas == want, fmt.Sprintf("%d ready of %d", d.Status.ReadyReplicas, d.Status.Replicas)
	})
	s.t.Logf("%s/%s had %d ready replicas after %s", ns, name, want, took.Round(100*time.Millisecond))
}

// load sets a workload's load on the workload model, removed at the end.
func (s *stack) load(l map[string]any) {
	s.t.Helper()
	b, _ := json.Marshal(l)
	resp, err := http.Post(s.env["OPS_WORKLOAD_URL"]+"/scenario/workloads", "application/json", bytes.NewReader(b))
	if err != nil {
		s.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		s.t.Fatalf("set load: %s %s", resp.Status, body)
	}
	s.t.Cleanup(func() {
		q := url.Values{"namespace": {fmt.Sprint(l["namespace"])}, "name": {fmt.Sprint(l["name"])}}
		req, _ := http.NewRequest(http.MethodDelete, s.env["OPS_WORKLOAD_URL"]+"/scenario/workloads?"+q.Encode(), nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	})
}

// promValue evaluates an instant query at t; ok is false without a result.
func (s *stack) promValue(query string, at time.Time) (float64, bool) {
	s.t.Helper()
	q := url.Values{"query": {query}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	resp, err := http.Get(s.env["PROMETHEUS_URL"] + "/api/v1/query?" + q.Encode())
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		s.t.Fatalf("query %s: %v %s", query, err, r.Error)
	}
	if len(r.Data.Result) != 1 {
		return 0, false
	}
	v, err := strconv.ParseFloat(fmt.Sprint(r.Data.Result[0].Value[1]), 64)
	return v, err == nil
}

// receiver is a Slack-style incoming webhook on loopback.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// expect fails t unless one message received holds every one of parts;
// it returns the messages received.
func (r *receiver) expect(t *testing.T, parts ...string) []string {
	t.Helper()
	msgs := r.received()
	for _, m := range msgs {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(m, p)
		}
		if all {
			return msgs
		}
	}
	t.Errorf("no webhook message holds %q; got %d: %q", parts, len(msgs), msgs)
	return msgs
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds ops-skill once per test process, as make build does.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ops-skill-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ops-skill")
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "./cmd/ops-skill")
		cmd.Dir = testenv.Root(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build ops-skill: %v", buildErr)
	}
	return binPath
}

// user is one person running ops-skill: a HOME, a kubeconfig whose context
// names the namespace, a config file and the environment they set.
type user struct {
	t    *testing.T
	home string
	env  []string
}

func (s *stack) user(ns, configYAML string, env map[string]string) *user {
	u := &user{t: s.t, home: s.t.TempDir()}
	c, err := clientcmd.LoadFromFile(s.kubeconfig)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, ctx := range c.Contexts {
		ctx.Namespace = ns
	}
	kc := filepath.Join(u.home, ".kube", "config")
	if err := os.MkdirAll(filepath.Dir(kc), 0o700); err != nil {
		s.t.Fatal(err)
	}
	if err := clientcmd.WriteToFile(*c, kc); err != nil {
		s.t.Fatal(err)
	}
	cfg := filepath.Join(u.home, ".config", "ops-skill", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(configYAML), 0o600); err != nil {
		s.t.Fatal(err)
	}
	u.env = []string{"HOME=" + u.home, "PATH=" + os.Getenv("PATH"), "KUBECONFIG=" + kc, "XDG_CONFIG_HOME=" + filepath.Join(u.home, ".config"),
		"OPS_SKILL_STATE_DIR=" + filepath.Join(u.home, "state")}
	for k, v := range env {
		u.env = append(u.env, k+"="+v)
	}
	return u
}

// run executes the binary and returns stdout, stderr, the exit code and the
// wall time it took.
func (u *user) run(timeout time.Duration, args ...string) (string, string, int, time.Duration) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(u.t), args...)
	cmd.Env = u.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatal(err)
	}
	if ctx.Err() != nil {
		u.t.Fatalf("ops-skill %v did not end within %s\nstdout: %s\nstderr: %s", args, timeout, out.String(), errOut.String())
	}
	return out.String(), errOut.String(), code, took
}
