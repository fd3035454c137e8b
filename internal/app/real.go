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
	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/health"
	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/internal/preflight"
	"github.com/duet-company/ops-skill/internal/prom"
	"github.com/duet-company/ops-skill/internal/store"
)

// realPlatform connects the real adapters: client-go for the cluster,
// Prometheus and ClickHouse when their URLs are set, the health matrix; then
// checks, before anything acts, that each answers and allows what the run
// needs. It may change cfg: the namespace can come from the kubeconfig context.
func (d deps) realPlatform(ctx context.Context, cfg *config.Config, src clusterSource, mode guard.Mode, st *store.Store) (backends, error) {
	conn, err := d.connect(cfg, src)
	if err != nil {
		return backends{}, err
	}
	kc, err := kube.NewForConfig(conn.Config, conn.Namespace, kube.WithClock(clock.RealClock{}))
	if err != nil {
		return backends{}, &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	where := clusterWhere(conn, *cfg)
	env := where.Env()
	b := backends{cluster: kc, resolver: kc, volumes: kc, rollouts: kc, clock: clock.RealClock{}, waiter: realWaiter{clock.RealClock{}}, env: env, state: storeState{s: st, env: env},
		desc: "Platform: " + where.String() + " at " + conn.Host, where: where}
	if err := d.attachData(*cfg, &b); err != nil {
		return backends{}, err
	}
	m, err := runMatrix(*cfg, conn.Namespace)
	if err != nil {
		closeBackends(b)
		return backends{}, &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	hc, err := health.New(m.WithDefaults(cfg.SelfHealing.HealthCheckInterval), clock.RealClock{})
	if err != nil {
		closeBackends(b)
		return backends{}, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("health matrix: %w", err)}
	}
	b.health = hc
	rep := d.backendChecks(ctx, b, clusterProbe{kc}, preflight.ClusterOptions{Where: where, Writes: mode != guard.ModeObserve, Fix: clusterFix(src, conn)})
	if err := preflightError(rep); err != nil {
		closeBackends(b)
		return backends{}, err
	}
	d.warn(rep)
	return b, nil
}

// backendChecks is the preflight of a run: the cluster, Prometheus answering,
// ClickHouse when configured.
func (d deps) backendChecks(ctx context.Context, b backends, c preflight.Cluster, o preflight.ClusterOptions) preflight.Report {
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	var rep preflight.Report
	rep.Add(preflight.ClusterChecks(ctx, c, o)...)
	rep.Add(preflight.MetricChecks(ctx, b.metrics, nil, preflight.MetricOptions{Now: d.clock.Now})...)
	rep.Add(preflight.StorageChecks(ctx, b.storage)...)
	return rep
}

// preflightTimeout bounds the whole preflight of a run.
const preflightTimeout = 30 * time.Second

// preflightError maps a failed preflight to its exit code: 2 when only the
// configuration is wrong, 1 when a backend is unreachable or denies access.
func preflightError(rep preflight.Report) error {
	err := rep.Err()
	if err == nil {
		return nil
	}
	code := cli.ExitFailed
	var pe *preflight.Error
	if errors.As(err, &pe) && pe.OnlyConfig() {
		code = cli.ExitUsage
	}
	return &cli.ExitError{Code: code, Err: err}
}

// warn prints the preflight's warnings on standard error, where they do not
// mix with the transcript or JSON on standard output.
func (d deps) warn(rep preflight.Report) {
	if d.io == nil {
		return
	}
	for _, c := range rep.Checks {
		if c.Status == preflight.Warn {
			fmt.Fprintf(d.io.ErrOut, "preflight: %s %s: %s\n", c.Group, c.Name, c.Detail)
		}
	}
}

// attachData connects Prometheus and ClickHouse when configured; without them
// the tools that need them answer "not configured".
func (d deps) attachData(cfg config.Config, b *backends) error {
	if u := cfg.Monitoring.PrometheusURL; u != "" {
		m, err := prom.New(prom.Config{URL: u, Clock: clock.RealClock{}})
		if err != nil {
			return &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("PROMETHEUS_URL: %w", err)}
		}
		b.metrics, b.fresh = m, m
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
