package preflight

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Permission is one RBAC permission and the API server's answer for it.
type Permission struct {
	Name  string // "update deployments.apps"
	Why   string // the tool or step that needs it
	Write bool   // only writes need it: observe mode does without
	// Optional: the run works without it, one tool refuses (a denial warns).
	Optional bool
	Allowed  bool
}

// Cluster is what the cluster checks ask the API server.
type Cluster interface {
	ServerVersion(ctx context.Context) (string, error)
	// Permissions answers for every permission the tools need in namespace.
	Permissions(ctx context.Context, namespace string) ([]Permission, error)
	ListWorkloads(ctx context.Context, namespace string) ([]platform.Workload, error)
}

// ErrAuth is what a Cluster wraps when the API server rejects the credentials.
var ErrAuth = errors.New("credentials rejected")

// ClusterOptions say what a run needs of the cluster.
type ClusterOptions struct {
	Where platform.Where
	// Writes is false in observe mode: a denied write verb then only warns.
	Writes bool
	// Fix is how to change the cluster configuration, e.g. "check the server of
	// context prod in ~/.kube/config".
	Fix string
}

// ClusterChecks checks the API server, the RBAC verbs and the namespace's
// workloads. When the API server does not answer, the later checks are skipped.
func ClusterChecks(ctx context.Context, c Cluster, o ClusterOptions) []Check {
	ns := o.Where.Namespace
	v, err := c.ServerVersion(ctx)
	if err != nil {
		ch := Check{Group: GroupCluster, Name: "api server", Status: Fail, Kind: ErrUnreachable,
			Detail: fmt.Sprintf("cannot reach the API server of %s at %s: %v", o.Where, o.Where.Server, err), Fix: o.Fix}
		if errors.Is(err, ErrAuth) {
			ch.Kind, ch.Fix = ErrDenied, "renew the credentials of the kubeconfig context (token, client certificate or exec plugin)"
		}
		return []Check{ch, {Group: GroupRBAC, Name: "permissions", Status: Skip, Detail: "the API server did not answer"}}
	}
	out := []Check{{Group: GroupCluster, Name: "api server", Status: Pass, Detail: fmt.Sprintf("%s answers (%s)", o.Where.Server, v)}}
	out = append(out, permissionChecks(ctx, c, ns, o.Writes)...)
	return append(out, workloadCheck(ctx, c, ns))
}

func permissionChecks(ctx context.Context, c Cluster, ns string, writes bool) []Check {
	perms, err := c.Permissions(ctx, ns)
	if err != nil {
		return []Check{{Group: GroupRBAC, Name: "permissions", Status: Fail, Kind: ErrUnreachable,
			Detail: "cannot ask the API server what ops-skill may do: " + err.Error()}}
	}
	fix := fmt.Sprintf("apply deploy/rbac.yaml in namespace %s (kubectl apply -n %s -f deploy/rbac.yaml) and bind the Role to the identity ops-skill runs as", ns, ns)
	out := make([]Check, 0, len(perms))
	for _, p := range perms {
		ch := Check{Group: GroupRBAC, Name: p.Name, Status: Pass, Detail: "allowed in " + ns + " (" + p.Why + ")"}
		switch {
		case p.Allowed:
		case p.Optional:
			ch.Status, ch.Detail, ch.Fix = Warn, "denied ("+p.Why+")", "apply the cluster-scoped part of deploy/rbac.yaml (kubectl apply -f deploy/rbac.yaml) as a cluster administrator"
		case p.Write && !writes:
			ch.Status, ch.Detail, ch.Fix = Warn, "denied in "+ns+" ("+p.Why+"); observe mode does not need it", fix
		default:
			ch.Status, ch.Kind, ch.Detail, ch.Fix = Fail, ErrDenied, "denied in "+ns+": needed to "+p.Why, fix
		}
		out = append(out, ch)
	}
	return out
}

func workloadCheck(ctx context.Context, c Cluster, ns string) Check {
	ws, err := c.ListWorkloads(ctx, ns)
	if err != nil {
		return Check{Group: GroupCluster, Name: "workloads", Status: Fail, Kind: ErrUnreachable,
			Detail: fmt.Sprintf("cannot list the workloads of namespace %s: %v", ns, err)}
	}
	if len(ws) == 0 {
		return Check{Group: GroupCluster, Name: "workloads", Status: Warn,
			Detail: "no Deployment or StatefulSet in namespace " + ns, Fix: "set the namespace with -n, NAMESPACE or the kubeconfig context"}
	}
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = w.Ref.Name
	}
	sort.Strings(names)
	return Check{Group: GroupCluster, Name: "workloads", Status: Pass, Detail: fmt.Sprintf("%d in %s: %s", len(ws), ns, strings.Join(names, ", "))}
}

// MetricTarget is a workload and the metrics a run reads of it.
type MetricTarget struct {
	Ref platform.WorkloadRef
	// Required are the metrics the guard needs to allow an action: no series fails.
	Required []platform.MetricName
	// Used are the metrics read for the diagnosis: no series warns.
	Used []platform.MetricName
}

// MetricOptions configure the Prometheus checks.
type MetricOptions struct {
	Now func() time.Time
	// Window is how far back a metric must have samples (default 10m).
	Window time.Duration
	// Source describes the series and exporter behind a named metric, for the fix.
	Source func(platform.MetricName) string
}

// MetricChecks checks that Prometheus answers, then that each metric of each
// target has series. m nil means Prometheus is not configured: a warning,
// since the tools then answer "not configured" and the guard refuses to scale.
func MetricChecks(ctx context.Context, m platform.Metrics, targets []MetricTarget, o MetricOptions) []Check {
	if m == nil {
		return []Check{{Group: GroupPrometheus, Name: "query", Status: Warn, Detail: "PROMETHEUS_URL is not set: no metric can be read, so the guard refuses every scale",
			Fix: "set PROMETHEUS_URL (or monitoring.prometheus_url in the config file)"}}
	}
	now := o.Now()
	if _, err := m.Query(ctx, platform.MetricQuery{PromQL: "vector(1)", End: now}); err != nil {
		return []Check{{Group: GroupPrometheus, Name: "query", Status: Fail, Kind: ErrUnreachable,
			Detail: "Prometheus does not answer: " + err.Error(), Fix: "check PROMETHEUS_URL and that Prometheus is up"}}
	}
	out := []Check{{Group: GroupPrometheus, Name: "query", Status: Pass, Detail: "answers"}}
	for _, t := range targets {
		for _, name := range t.Required {
			out = append(out, metricCheck(ctx, m, t.Ref, name, true, now, o))
		}
		for _, name := range t.Used {
			out = append(out, metricCheck(ctx, m, t.Ref, name, false, now, o))
		}
	}
	return out
}

func metricCheck(ctx context.Context, m platform.Metrics, ref platform.WorkloadRef, name platform.MetricName, required bool, now time.Time, o MetricOptions) Check {
	window := o.Window
	if window <= 0 {
		window = 10 * time.Minute
	}
	ch := Check{Group: GroupMetric, Name: string(name) + " " + ref.String()}
	res, err := m.Query(ctx, platform.MetricQuery{Metric: name, Target: ref, Start: now.Add(-window), End: now, Step: time.Minute})
	samples := 0
	for _, s := range res.Series {
		samples += len(s.Samples)
	}
	switch {
	case err != nil && !errors.Is(err, platform.ErrNotFound):
		ch.Status, ch.Kind, ch.Detail = Fail, ErrUnreachable, "query failed: "+err.Error()
	case samples > 0:
		ch.Status, ch.Detail = Pass, fmt.Sprintf("%d samples in the last %s", samples, window)
		return ch
	default:
		ch.Status, ch.Kind = Fail, ErrMissingData
		ch.Detail = fmt.Sprintf("no series for %s in the last %s", ref, window)
	}
	if o.Source != nil {
		ch.Fix = o.Source(name)
	}
	if !required {
		ch.Status, ch.Kind = Warn, nil
		ch.Detail += " (the diagnosis will lack it)"
	}
	return ch
}

// StorageChecks checks ClickHouse when it is configured.
func StorageChecks(ctx context.Context, s platform.Storage) []Check {
	if s == nil {
		return []Check{{Group: GroupClickHouse, Name: "disks", Status: Skip, Detail: "CLICKHOUSE_URL is not set"}}
	}
	disks, err := s.Disks(ctx)
	if err != nil {
		return []Check{{Group: GroupClickHouse, Name: "disks", Status: Fail, Kind: ErrUnreachable,
			Detail: "ClickHouse does not answer: " + err.Error(), Fix: "check CLICKHOUSE_URL and that ClickHouse is up"}}
	}
	return []Check{{Group: GroupClickHouse, Name: "disks", Status: Pass, Detail: fmt.Sprintf("answers, %d disk(s)", len(disks))}}
}
