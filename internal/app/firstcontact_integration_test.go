//go:build integration

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/duet-company/ops-skill/internal/testenv"
)

// These tests run the built binary the way a new user would, against the
// local cluster (kube-apiserver + controllers + kwok), Prometheus and a real
// webhook receiver on loopback.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds ops-skill once per test process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ops-skill-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ops-skill")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/ops-skill").CombinedOutput()
		if err != nil {
			buildErr = &exec.ExitError{Stderr: out}
		}
	})
	if buildErr != nil {
		t.Fatalf("build ops-skill: %v", buildErr)
	}
	return binPath
}

// firstContact is one test namespace on the local cluster with a backend
// Deployment, and a HOME of its own.
type firstContact struct {
	t     *testing.T
	admin kubernetes.Interface
	base  *clientcmdapi.Config // the test cluster's kubeconfig
	ns    string
	home  string
	hook  *receiver
}

func newFirstContact(t *testing.T) *firstContact {
	t.Helper()
	env := testenv.Load(t, "kube")
	base, err := clientcmd.LoadFromFile(env["KUBECONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	rc, err := clientcmd.NewDefaultClientConfig(*base, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	admin, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	f := &firstContact{t: t, admin: admin, base: base, ns: "fc-" + randomSuffix(), home: t.TempDir(), hook: newReceiver(t)}
	ctx := context.Background()
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() { _ = admin.CoreV1().Namespaces().Delete(context.Background(), f.ns, metav1.DeleteOptions{}) })
	f.deployment("backend", 3)
	return f
}

func (f *firstContact) deployment(name string, replicas int32) {
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1", Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}}}}}}}
	if _, err := f.admin.AppsV1().Deployments(f.ns).Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *firstContact) replicas(name string) int32 {
	d, err := f.admin.AppsV1().Deployments(f.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return *d.Spec.Replicas
}

// kubeconfig writes a copy of the test kubeconfig whose context names ns;
// edit may change the cluster or the user.
func (f *firstContact) kubeconfig(path string, edit func(*clientcmdapi.Config)) string {
	f.t.Helper()
	c := f.base.DeepCopy()
	for _, ctx := range c.Contexts {
		ctx.Namespace = f.ns
	}
	if edit != nil {
		edit(c)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		f.t.Fatal(err)
	}
	if err := clientcmd.WriteToFile(*c, path); err != nil {
		f.t.Fatal(err)
	}
	return path
}

// run executes the binary with a clean environment: HOME, a state dir, the
// webhook receiver as Slack, plus extra.
func (f *firstContact) run(extra map[string]string, args ...string) (string, string, int) {
	f.t.Helper()
	cmd := exec.Command(binary(f.t), args...)
	cmd.Env = []string{"HOME=" + f.home, "PATH=" + os.Getenv("PATH"), "OPS_SKILL_STATE_DIR=" + filepath.Join(f.home, "state"),
		"ALERT_WEBHOOK=" + f.hook.srv.URL + "/services/x"}
	for k, v := range extra {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	go func() { <-ctx.Done(); _ = cmd.Process.Kill() }()
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		f.t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// noTrace asserts that a refused run left nothing: no message, no incident.
func (f *firstContact) noTrace(extra map[string]string) {
	f.t.Helper()
	if got := f.hook.received(); len(got) != 0 {
		f.t.Errorf("the webhook received %d messages: %q", len(got), got)
	}
	out, _, _ := f.run(extra, "incidents", "-o", "json", "--simulate")
	if strings.TrimSpace(out) != "[]" && strings.TrimSpace(out) != "null" {
		f.t.Errorf("incidents were opened: %s", out)
	}
	if r := f.replicas("backend"); r != 3 {
		f.t.Errorf("backend has %d replicas, want 3 untouched", r)
	}
}

const cpuAlert = "Alert: Backend service CPU at 85% for 5 minutes"

func TestFirstContactUsesHomeKubeconfigAndItsNamespace(t *testing.T) {
	f := newFirstContact(t)
	f.kubeconfig(filepath.Join(f.home, ".kube", "config"), nil)
	out, errOut, code := f.run(nil, "--mode", "observe", "-o", "json", cpuAlert)
	var sum struct {
		Type     string `json:"type"`
		Platform struct {
			Kind, Context, Namespace string
		} `json:"platform"`
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Type != "summary" {
		t.Fatalf("last line is not the summary (exit %d): %v\n%s\nstderr: %s", code, err, out, errOut)
	}
	if sum.Platform.Kind != "cluster" || sum.Platform.Context != "ops-skill-test" || sum.Platform.Namespace != f.ns {
		t.Errorf("platform %+v, want the cluster of ~/.kube/config in namespace %s", sum.Platform, f.ns)
	}
	if strings.Contains(out, "simulated") {
		t.Errorf("a run with ~/.kube/config mentions the simulated platform:\n%s", out)
	}
	f.noTrace(nil) // observe mode: nothing sent, nothing opened, nothing changed

	out, _, _ = f.run(nil, "config", "show")
	if !strings.Contains(out, "namespace: "+f.ns+" # kubeconfig") {
		t.Errorf("config show does not name the context's namespace and its source:\n%s", out)
	}
	out, _, code = f.run(nil, "doctor")
	if !strings.Contains(out, f.ns+" (from the kubeconfig context)") || !strings.Contains(out, "update deployments.apps") {
		t.Errorf("doctor (exit %d) does not show the context's namespace and the RBAC rows:\n%s", code, out)
	}
}

func TestFirstContactRefusesBeforeActing(t *testing.T) {
	f := newFirstContact(t)
	prom := testenv.Load(t, "prometheus")
	denied := f.serviceAccountWithout("update")
	cases := []struct {
		name  string
		edit  func(*clientcmdapi.Config)
		env   map[string]string
		code  int
		wants []string
	}{
		{name: "unreachable API server", edit: func(c *clientcmdapi.Config) {
			for _, cl := range c.Clusters {
				cl.Server = "https://127.0.0.1:1"
			}
		}, code: 1, wants: []string{"cannot reach the API server", "connection refused", "--simulate"}},
		{name: "service account without update", edit: func(c *clientcmdapi.Config) {
			for _, u := range c.AuthInfos {
				u.Token = denied
			}
		}, code: 1, wants: []string{"update deployments.apps", "denied", "deploy/rbac.yaml"}},
		{name: "Prometheus stopped", env: map[string]string{"PROMETHEUS_URL": "http://127.0.0.1:1"}, code: 1,
			wants: []string{"Prometheus does not answer", "PROMETHEUS_URL"}},
		{name: "metric missing", env: map[string]string{"PROMETHEUS_URL": prom["PROMETHEUS_URL"]}, code: 1,
			wants: []string{"cpu_utilization", "no series for " + f.ns + "/backend", "cAdvisor"}},
		{name: "kubeconfig named but missing", env: map[string]string{"KUBECONFIG": "/nonexistent"}, code: 2,
			wants: []string{"KUBECONFIG=/nonexistent", "no such kubeconfig file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.t = t
			f.kubeconfig(filepath.Join(f.home, ".kube", "config"), c.edit)
			out, errOut, code := f.run(c.env, cpuAlert)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out, errOut)
			}
			for _, w := range c.wants {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr does not say %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(out+errOut, "no known service") {
				t.Errorf("reported an unknown service instead of the real cause:\n%s%s", out, errOut)
			}
			f.noTrace(c.env)
		})
	}
}

// serviceAccountWithout binds deploy/rbac.yaml's Role, less one verb, to a
// new ServiceAccount and returns its token.
func (f *firstContact) serviceAccountWithout(verb string) string {
	f.t.Helper()
	ctx := context.Background()
	sa := "ops-skill-narrow"
	if _, err := f.admin.CoreV1().ServiceAccounts(f.ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: sa}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets"}, Verbs: []string{"get", "list", "update"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"pods/eviction"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"list"}},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create"}},
		{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}, Verbs: []string{"list"}},
		{APIGroups: []string{"keda.sh"}, Resources: []string{"scaledobjects"}, Verbs: []string{"list"}},
	}}
	for i := range role.Rules {
		var keep []string
		for _, v := range role.Rules[i].Verbs {
			if v != verb {
				keep = append(keep, v)
			}
		}
		role.Rules[i].Verbs = keep
	}
	if _, err := f.admin.RbacV1().Roles(f.ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sa}, RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: sa},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: f.ns}}}
	if _, err := f.admin.RbacV1().RoleBindings(f.ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	exp := int64(600)
	tr, err := f.admin.CoreV1().ServiceAccounts(f.ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return tr.Status.Token
}
