package kube

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// The group clients NewForConfig builds share one rate limiter (as a
// clientset's do), send kubectl's kind of user agent and reach the server.
func TestGroupClientsShareOneRateLimitAndReachTheServer(t *testing.T) {
	var mu sync.Mutex
	var agents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/version":
			_, _ = w.Write([]byte(`{"major":"1","minor":"37","gitVersion":"v1.37.2"}`))
		case "/apis/apps/v1/namespaces/ns/deployments":
			_, _ = w.Write([]byte(`{"kind":"DeploymentList","apiVersion":"apps/v1","items":[]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	g, err := newGroups(&rest.Config{Host: srv.URL, QPS: 5, Burst: 10})
	if err != nil {
		t.Fatal(err)
	}
	rl := g.apps.RESTClient().GetRateLimiter()
	for name, c := range map[string]rest.Interface{"core": g.core.RESTClient(), "authorization": g.authorization.RESTClient(),
		"autoscaling": g.autoscaling.RESTClient(), "events": g.events.RESTClient(), "policy": g.policy.RESTClient(),
		"storage": g.storage.RESTClient()} {
		if c.GetRateLimiter() != rl {
			t.Errorf("%s has a rate limiter of its own", name)
		}
	}
	if rl == nil || rl.QPS() != 5 {
		t.Errorf("rate limiter %v, want 5 QPS", rl)
	}
	if v, err := g.Discovery().ServerVersion(); err != nil || v.GitVersion != "v1.37.2" {
		t.Errorf("server version %v, %v", v, err)
	}
	if _, err := g.AppsV1().Deployments("ns").List(context.Background(), metav1.ListOptions{}); err != nil {
		t.Errorf("list deployments: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range agents {
		if a == "" || strings.HasPrefix(a, "Go-http-client") {
			t.Errorf("user agent %q, want client-go's default", a)
		}
	}
	if _, err := newGroups(&rest.Config{Host: srv.URL, QPS: 5}); err == nil {
		t.Error("QPS without a burst was accepted")
	}
}
