package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/health"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/sim"
)

// healthChecks builds `ops-skill health`: the simulated platform's matrix, or
// real checks from --matrix or the spec's default matrix for NAMESPACE.
func (d deps) healthChecks(ctx context.Context, cfg config.Config, o cli.HealthOptions) (func(context.Context) []platform.HealthResult, error) {
	if o.Simulate {
		name := o.Scenario
		if name == "" {
			name = "healthy"
		}
		sc, err := sim.LoadScenario(sim.Scenarios(), name)
		if err != nil {
			return nil, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("--scenario: %w", err)}
		}
		return runAll(sim.New(sc, d.clock.Now().UTC().Truncate(time.Second)).Health()), nil
	}
	m := health.DefaultMatrix(cfg.Kubernetes.Namespace, cfg.SelfHealing.HealthCheckInterval)
	src, err := d.locateCluster(cfg)
	if err != nil {
		return nil, err
	}
	file, from := o.MatrixFile, "--matrix"
	if file == "" {
		file, from = cfg.SelfHealing.HealthMatrixFile, "HEALTH_MATRIX_FILE"
	}
	if file == "" && !src.found() {
		return nil, &cli.ExitError{Code: cli.ExitUsage, Err: needsCluster(m)}
	}
	if file != "" {
		var err error
		if m, err = readMatrix(from, file); err != nil {
			return nil, &cli.ExitError{Code: cli.ExitUsage, Err: err}
		}
	}
	c, err := health.New(m.WithDefaults(cfg.SelfHealing.HealthCheckInterval), clock.RealClock{})
	if err != nil {
		return nil, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("health matrix: %w", err)}
	}
	return c.RunOnce, nil
}

// errNoCluster marks `ops-skill health` run with the default matrix and no
// cluster to run it in.
var errNoCluster = errors.New("no cluster configured")

// needsCluster explains, without looking any name up, that the default
// matrix's in-cluster DNS names resolve only inside the cluster.
func needsCluster(m health.Matrix) error {
	var hosts []string
	for _, c := range m {
		if h := hostOf(c.Target); h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return fmt.Errorf("%w: the default health matrix checks in-cluster DNS names (%s), which resolve only inside the cluster: "+
		"run ops-skill in a pod of the cluster, pass --matrix FILE with targets reachable from here, or use --simulate",
		errNoCluster, strings.Join(hosts, ", "))
}

// hostOf is the host of a check target: a URL or host:port.
func hostOf(target string) string {
	if u, err := url.Parse(target); err == nil && u.Host != "" {
		return u.Hostname()
	}
	if h, _, err := net.SplitHostPort(target); err == nil {
		return h
	}
	return target
}

// readMatrix reads a health matrix file; from names the setting that gave
// the path (--matrix, HEALTH_MATRIX_FILE) in errors.
func readMatrix(from, path string) (health.Matrix, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	var m health.Matrix
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s %s: not a YAML list of {service, type, target, timeout}: %w", from, path, err)
	}
	return m, nil
}

// runMatrix is the health matrix of a run on a cluster: the file of
// HEALTH_MATRIX_FILE when set (a workstation reaches the services through
// port-forwards or ingresses), else the spec's default for the namespace.
func runMatrix(cfg config.Config, namespace string) (health.Matrix, error) {
	if f := cfg.SelfHealing.HealthMatrixFile; f != "" {
		return readMatrix("HEALTH_MATRIX_FILE", f)
	}
	return health.DefaultMatrix(namespace, cfg.SelfHealing.HealthCheckInterval), nil
}

// runAll checks every service of a platform.Health once.
func runAll(h platform.Health) func(context.Context) []platform.HealthResult {
	return func(ctx context.Context) []platform.HealthResult {
		services := h.Services()
		sort.Strings(services)
		out := make([]platform.HealthResult, 0, len(services))
		for _, s := range services {
			r, err := h.Check(ctx, s)
			if err != nil {
				r = platform.HealthResult{Service: s, Detail: err.Error()}
			}
			out = append(out, r)
		}
		return out
	}
}
