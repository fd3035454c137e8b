package app

import (
	"testing"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/kube"
)

func TestClusterWhereNamesAPodsClusterFromTheConfig(t *testing.T) {
	pod := kube.Connection{InCluster: true, Cluster: "in-cluster", Namespace: "shop"}
	ctx := kube.Connection{Cluster: "prod", Context: "prod-admin", Namespace: "shop"}
	cases := []struct {
		name    string
		conn    kube.Connection
		cluster string // kubernetes.cluster
		env     string // the history's key
		place   string
	}{
		{"a pod without a name", pod, "", "in-cluster", "cluster in-cluster"},
		{"a pod named by the config", pod, "prod-eu", "prod-eu", "cluster prod-eu"},
		{"a kubeconfig context names itself", ctx, "", "prod-admin", "cluster prod (context prod-admin)"},
		{"a kubeconfig context ignores the name", ctx, "prod-eu", "prod-admin", "cluster prod (context prod-admin)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cfg config.Config
			cfg.Kubernetes.Cluster = c.cluster
			w := clusterWhere(c.conn, cfg)
			if w.Env() != c.env || w.Place() != c.place {
				t.Errorf("env %q, place %q; want %q, %q", w.Env(), w.Place(), c.env, c.place)
			}
		})
	}
}
