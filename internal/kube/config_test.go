package kube

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const kubeconfigA = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://127.0.0.1:6443"}
- name: b
  cluster: {server: "https://127.0.0.1:7443"}
users:
- name: u
  user: {token: secret}
contexts:
- name: prod
  context: {cluster: a, user: u, namespace: payments}
current-context: prod
`

const kubeconfigB = `apiVersion: v1
kind: Config
contexts:
- name: staging
  context: {cluster: b, user: u}
current-context: staging
`

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigResolvesLikeKubectl(t *testing.T) {
	a, b := writeFile(t, "a", kubeconfigA), writeFile(t, "b", kubeconfigB)
	list := strings.Join([]string{a, b}, string(os.PathListSeparator))
	tests := []struct {
		name      string
		opts      ConnectOptions
		host, ns  string
		context   string
		wantError bool
	}{
		{name: "first file's current context wins", opts: ConnectOptions{Kubeconfig: list},
			host: "https://127.0.0.1:6443", ns: "payments", context: "prod"},
		{name: "context from a later file", opts: ConnectOptions{Kubeconfig: list, Context: "staging"},
			host: "https://127.0.0.1:7443", ns: "default", context: "staging"},
		{name: "namespace flag overrides the context's", opts: ConnectOptions{Kubeconfig: list, Namespace: "ai-data-labs"},
			host: "https://127.0.0.1:6443", ns: "ai-data-labs", context: "prod"},
		{name: "unknown context", opts: ConnectOptions{Kubeconfig: list, Context: "nope"}, wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := LoadConfig(tt.opts)
			if tt.wantError {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if conn.Host != tt.host || conn.Namespace != tt.ns || conn.Context != tt.context || conn.InCluster {
				t.Errorf("connection = %s ns %s ctx %s in-cluster %v", conn.Host, conn.Namespace, conn.Context, conn.InCluster)
			}
		})
	}
}

func TestLoadConfigBoundsTimeAndRate(t *testing.T) {
	a := writeFile(t, "a", kubeconfigA)
	conn, err := LoadConfig(ConnectOptions{Kubeconfig: a})
	if err != nil {
		t.Fatal(err)
	}
	c := conn.Config
	if c.Timeout != DefaultTimeout || c.QPS != DefaultQPS || c.Burst != DefaultBurst || c.UserAgent != "ops-skill" {
		t.Errorf("defaults: timeout %s qps %v burst %d ua %q", c.Timeout, c.QPS, c.Burst, c.UserAgent)
	}
	conn, _ = LoadConfig(ConnectOptions{Kubeconfig: a, Timeout: time.Second, QPS: 2, Burst: 3})
	if c := conn.Config; c.Timeout != time.Second || c.QPS != 2 || c.Burst != 3 {
		t.Errorf("explicit: timeout %s qps %v burst %d", c.Timeout, c.QPS, c.Burst)
	}
}

func TestLoadConfigWithoutAnyConfigSaysHowToFixIt(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	_, err := LoadConfig(ConnectOptions{Kubeconfig: filepath.Join(t.TempDir(), "missing")})
	if !errors.Is(err, ErrNoConfig) {
		t.Fatalf("err = %v, want ErrNoConfig", err)
	}
}

func TestConnectBuildsTheAdapterOnTheResolvedNamespace(t *testing.T) {
	c, conn, err := Connect(ConnectOptions{Kubeconfig: writeFile(t, "a", kubeconfigA)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Namespace() != "payments" || conn.Context != "prod" {
		t.Errorf("namespace %q, context %q", c.Namespace(), conn.Context)
	}
}
