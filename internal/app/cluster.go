package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/preflight"
)

// clusterSource is where the cluster configuration of a run was found, the
// way kubectl looks: --kubeconfig, else KUBECONFIG (a list), else
// ~/.kube/config, else the pod's service account.
type clusterSource struct {
	files     []string // kubeconfig files that exist, in precedence order
	origin    string   // how they were found, for messages
	inCluster bool
}

// found reports whether any cluster configuration exists.
func (s clusterSource) found() bool { return s.inCluster || len(s.files) > 0 }

// locateCluster finds the cluster configuration without connecting. A
// kubeconfig that is named but missing is an error (exit 2), never a silent
// switch to the simulated platform; no configuration at all is not.
func (d deps) locateCluster(cfg config.Config) (clusterSource, error) {
	if list := cfg.Kubernetes.Kubeconfig; list != "" {
		origin := "--kubeconfig"
		if v, ok := d.env("KUBECONFIG"); ok && expandHome(v, d.env) == list {
			origin = "KUBECONFIG"
		}
		var files, missing []string
		for _, p := range filepath.SplitList(list) {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if _, err := os.Stat(p); err != nil {
				missing = append(missing, p)
				continue
			}
			files = append(files, p)
		}
		if len(files) == 0 {
			return clusterSource{}, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("%w: %s=%s: no such kubeconfig file; fix the path, unset it to use ~/.kube/config, or run with --simulate",
				config.ErrInvalid, origin, strings.Join(missing, string(os.PathListSeparator)))}
		}
		return clusterSource{files: files, origin: origin}, nil
	}
	if home, ok := d.env("HOME"); ok && home != "" {
		p := filepath.Join(home, ".kube", "config")
		if _, err := os.Stat(p); err == nil {
			return clusterSource{files: []string{p}, origin: "~/.kube/config"}, nil
		}
	}
	if host, ok := d.env("KUBERNETES_SERVICE_HOST"); ok && host != "" {
		if _, err := os.Stat(filepath.Join(kube.ServiceAccountDir, "token")); err == nil {
			return clusterSource{inCluster: true, origin: "in-cluster service account"}, nil
		}
	}
	if cfg.Kubernetes.Context != "" {
		return clusterSource{}, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("%w: --context %s names a kubeconfig context, but no kubeconfig was found (--kubeconfig, KUBECONFIG, ~/.kube/config)",
			config.ErrInvalid, cfg.Kubernetes.Context)}
	}
	return clusterSource{}, nil
}

func expandHome(p string, env config.EnvFunc) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, ok := env("HOME"); ok {
			return filepath.Join(home, rest)
		}
	}
	return p
}

// loadConfig loads the effective config and, unless the command runs on the
// simulated platform, takes the kubeconfig context's namespace when nothing
// else named one, so that every command (config show, tools call, history)
// sees the namespace a run would use. The kubeconfig is only read here; a
// broken one is reported by the commands that connect.
func (d deps) loadConfig(file string, flags *pflag.FlagSet) (config.Config, error) {
	cfg, err := config.Load(config.LoadOptions{ConfigFile: file, Env: d.env, Flags: flags})
	if err != nil || simulating(flags) || namespaceExplicit(cfg) {
		return cfg, err
	}
	src, lerr := d.locateCluster(cfg)
	if lerr != nil || !src.found() {
		return cfg, nil
	}
	conn, lerr := kube.LoadConfig(kube.ConnectOptions{Kubeconfig: strings.Join(src.files, string(os.PathListSeparator)), Context: cfg.Kubernetes.Context, InCluster: src.inCluster})
	if lerr != nil {
		return cfg, nil
	}
	if _, err := cfg.UseKubeconfigNamespace(conn.ContextNamespace); err != nil {
		return cfg, fmt.Errorf("the namespace of kubeconfig context %s: %w", conn.Context, err)
	}
	return cfg, nil
}

func simulating(flags *pflag.FlagSet) bool {
	if flags == nil {
		return false
	}
	f := flags.Lookup("simulate")
	return f != nil && f.Value.String() == "true"
}

// connect resolves the kubeconfig context and the namespace of a run:
// -n > NAMESPACE > config file > the context's namespace > ai-data-labs.
func (d deps) connect(cfg *config.Config, src clusterSource) (kube.Connection, error) {
	explicit := namespaceExplicit(*cfg)
	o := kube.ConnectOptions{Kubeconfig: strings.Join(src.files, string(os.PathListSeparator)), Context: cfg.Kubernetes.Context, InCluster: src.inCluster}
	if explicit {
		o.Namespace = cfg.Kubernetes.Namespace
	}
	conn, err := kube.LoadConfig(o)
	if err != nil {
		return kube.Connection{}, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("%w: %s (%s): %w; fix the kubeconfig, choose another context with --context, or run with --simulate",
			config.ErrInvalid, src.origin, strings.Join(src.files, ", "), err)}
	}
	if !explicit {
		// The context's namespace; the allowlist follows when it was only derived.
		if _, err := cfg.UseKubeconfigNamespace(conn.ContextNamespace); err != nil {
			return kube.Connection{}, &cli.ExitError{Code: cli.ExitUsage, Err: fmt.Errorf("the namespace of context %s: %w", conn.Context, err)}
		}
		conn.Namespace = cfg.Kubernetes.Namespace
	}
	return conn, nil
}

// namespaceExplicit reports a namespace set by a flag, the environment, a
// file or an override.
func namespaceExplicit(cfg config.Config) bool {
	src := cfg.Source("kubernetes.namespace")
	return src != config.SourceDefault && src != config.SourceKubeconfig
}

// clusterFix says how to repair an unreachable cluster configuration.
func clusterFix(src clusterSource, conn kube.Connection) string {
	if src.inCluster {
		return "check that the pod can reach the API server (network policy, KUBERNETES_SERVICE_HOST)"
	}
	return fmt.Sprintf("check the server of context %s in %s (kubectl --context %s cluster-info), the VPN or tunnel; or choose another context with --context, or run with --simulate",
		conn.Context, strings.Join(src.files, ", "), conn.Context)
}

// clusterProbe adapts the client-go adapter to the preflight's port.
type clusterProbe struct{ c *kube.Client }

func (p clusterProbe) ServerVersion(ctx context.Context) (string, error) {
	v, err := p.c.ServerVersion(ctx)
	if errors.Is(err, kube.ErrUnauthorized) {
		return "", fmt.Errorf("%w: %w", preflight.ErrAuth, err)
	}
	return v, err
}

func (p clusterProbe) Permissions(ctx context.Context, ns string) ([]preflight.Permission, error) {
	res, err := p.c.Access(ctx, ns, kube.RequiredPermissions())
	if err != nil {
		return nil, err
	}
	out := make([]preflight.Permission, len(res))
	for i, r := range res {
		out[i] = preflight.Permission{Name: r.Permission.String(), Why: r.Why, Write: r.Writes(), Optional: r.Optional, Allowed: r.Allowed}
	}
	return out, nil
}

func (p clusterProbe) ListWorkloads(ctx context.Context, ns string) ([]platform.Workload, error) {
	return p.c.ListWorkloads(ctx, ns)
}

// clusterWhere is where a run on conn acts. In a pod, which has no kubeconfig
// context, kubernetes.cluster (OPS_SKILL_CLUSTER) names the cluster, and with
// it the history's records (Where.Env): the clusters sharing one store tell
// theirs apart. A kubeconfig context names itself.
func clusterWhere(conn kube.Connection, cfg config.Config) platform.Where {
	w := platform.Where{Kind: platform.WhereCluster, Cluster: conn.Cluster, Context: conn.Context, Server: conn.Host, Namespace: conn.Namespace}
	if conn.InCluster && cfg.Kubernetes.Cluster != "" {
		w.Cluster = cfg.Kubernetes.Cluster
	}
	return w
}
