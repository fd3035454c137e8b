package app

import (
	"context"
	"fmt"
	"os"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/utils/clock"

	opsskill "github.com/duet-company/ops-skill"
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
		sc, err := sim.LoadScenario(opsskill.Scenarios(), name)
		if err != nil {
			return nil, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("--scenario: %w", err)}
		}
		return runAll(sim.New(sc, d.clock.Now().UTC().Truncate(time.Second)).Health()), nil
	}
	m := health.DefaultMatrix(cfg.Kubernetes.Namespace, cfg.SelfHealing.HealthCheckInterval)
	if o.MatrixFile != "" {
		var err error
		if m, err = readMatrix(o.MatrixFile); err != nil {
			return nil, &cli.ExitError{Code: cli.ExitUsage, Err: err}
		}
	}
	c, err := health.New(m.WithDefaults(cfg.SelfHealing.HealthCheckInterval), clock.RealClock{})
	if err != nil {
		return nil, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("health matrix: %w", err)}
	}
	return c.RunOnce, nil
}

func readMatrix(path string) (health.Matrix, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--matrix: %w", err)
	}
	var m health.Matrix
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("--matrix %s: not a YAML list of {service, type, target, timeout}: %w", path, err)
	}
	return m, nil
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
