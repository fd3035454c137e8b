package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/clickhouse"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/health"
	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/prom"
	"github.com/duet-company/ops-skill/internal/store"
)

// wantsCluster reports whether a run should use a real cluster: a kubeconfig
// is configured, or ops-skill runs in a pod with a service account.
func (d deps) wantsCluster(cfg config.Config) bool {
	if cfg.Kubernetes.Kubeconfig != "" {
		return true
	}
	_, inCluster := d.env("KUBERNETES_SERVICE_HOST")
	return inCluster
}

// realPlatform connects the real adapters: client-go for the cluster,
// Prometheus and ClickHouse when their URLs are set, the health matrix.
func (d deps) realPlatform(cfg config.Config, st *store.Store) (backends, error) {
	conn, err := kube.LoadConfig(kube.ConnectOptions{Kubeconfig: cfg.Kubernetes.Kubeconfig, Context: cfg.Kubernetes.Context, Namespace: cfg.Kubernetes.Namespace})
	if err != nil {
		return backends{}, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("connect to the cluster: %w (or run with --simulate)", err)}
	}
	kc, err := kube.NewForConfig(conn.Config, conn.Namespace, kube.WithClock(clock.RealClock{}))
	if err != nil {
		return backends{}, &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	env := conn.Context
	if env == "" {
		env = "in-cluster"
	}
	b := backends{cluster: kc, clock: clock.RealClock{}, waiter: realWaiter{clock.RealClock{}}, env: env,
		state: storeState{s: st, env: env}, desc: fmt.Sprintf("Platform: cluster %s (%s)", env, conn.Host),
		where: platform.Where{Kind: platform.WhereCluster, Cluster: conn.Cluster, Context: conn.Context, Server: conn.Host, Namespace: conn.Namespace}}
	if err := d.attachData(cfg, &b); err != nil {
		return backends{}, err
	}
	hc, err := health.New(health.DefaultMatrix(conn.Namespace, cfg.SelfHealing.HealthCheckInterval).WithDefaults(cfg.SelfHealing.HealthCheckInterval), clock.RealClock{})
	if err != nil {
		return backends{}, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("health matrix: %w", err)}
	}
	b.health = hc
	return b, nil
}

// attachData connects Prometheus and ClickHouse when configured; without them
// the tools that need them answer "not configured".
func (d deps) attachData(cfg config.Config, b *backends) error {
	if u := cfg.Monitoring.PrometheusURL; u != "" {
		m, err := prom.New(prom.Config{URL: u, Clock: clock.RealClock{}})
		if err != nil {
			return &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("PROMETHEUS_URL: %w", err)}
		}
		b.metrics = m
	}
	if u := cfg.Storage.ClickHouseURL; u != "" {
		s, err := clickhouse.New(clickhouse.Config{URL: u})
		if err != nil {
			return &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("CLICKHOUSE_URL: %w", err)}
		}
		b.storage, b.closers = s, append(b.closers, s.Close)
	}
	return nil
}

// realWaiter waits the settle time on the wall clock.
type realWaiter struct{ c clock.Clock }

func (w realWaiter) Wait(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-w.c.After(d):
		return nil
	}
}

// closeBackends closes what the real adapters opened.
func closeBackends(b backends) error {
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}
