package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/kube"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/preflight"
	"github.com/duet-company/ops-skill/internal/prom"
	"github.com/duet-company/ops-skill/internal/store"
)

// doctor runs every preflight check, and the ones only a person asks for,
// as a report. It changes nothing and sends nothing unless --send-test.
func (d deps) doctor(ctx context.Context, cfg config.Config, o cli.DoctorOptions) (cli.DoctorReport, error) {
	start := time.Now()
	var rep preflight.Report
	rep.Add(d.configChecks(cfg, o)...)
	src, err := d.locateCluster(cfg)
	if err != nil {
		return cli.DoctorReport{}, err
	}
	var requests atomic.Int64
	where := platform.Where{Kind: platform.WhereSimulated, Namespace: cfg.Kubernetes.Namespace}
	switch {
	case o.Simulate:
		rep.Add(preflight.Check{Group: preflight.GroupCluster, Name: "platform", Status: preflight.Skip, Detail: "--simulate: runs use the simulated platform"})
	case !src.found():
		rep.Add(preflight.Check{Group: preflight.GroupCluster, Name: "platform", Status: preflight.Skip,
			Detail: "no cluster configuration (--kubeconfig, KUBECONFIG, ~/.kube/config, service account): runs use the simulated platform"})
	default:
		checks, w, err := d.clusterDoctor(ctx, &cfg, src, &requests)
		if err != nil {
			return cli.DoctorReport{}, err
		}
		rep.Add(checks...)
		where = w
	}
	rep.Add(d.stateChecks(ctx, cfg)...)
	rep.Add(d.notifyChecks(ctx, cfg, where, o.SendTest)...)
	rep.Add(d.llmCheck(ctx, cfg, o.LLM))
	return cli.DoctorReport{Report: rep, Requests: int(requests.Load()), Seconds: time.Since(start).Seconds()}, nil
}

func (d deps) configChecks(cfg config.Config, o cli.DoctorOptions) []preflight.Check {
	file := o.ConfigFile
	if file == "" {
		if p := config.DefaultConfigFile(d.env); p != "" {
			if _, err := os.Stat(p); err == nil {
				file = p
			}
		}
	}
	detail := "none: defaults and environment only"
	if file != "" {
		detail = file
	}
	overrides := filepath.Join(cfg.StateDir, config.OverridesFileName)
	odetail := "none"
	if _, err := os.Stat(overrides); err == nil {
		odetail = overrides
	}
	return []preflight.Check{
		{Group: preflight.GroupConfig, Name: "file", Status: preflight.Pass, Detail: detail},
		{Group: preflight.GroupConfig, Name: "threshold overrides", Status: preflight.Pass, Detail: odetail},
	}
}

// clusterDoctor connects like a run, counting the API server requests, and
// checks the cluster, RBAC, Prometheus with every named metric per
// workload, and ClickHouse.
func (d deps) clusterDoctor(ctx context.Context, cfg *config.Config, src clusterSource, requests *atomic.Int64) ([]preflight.Check, platform.Where, error) {
	conn, err := d.connect(cfg, src)
	if err != nil {
		return nil, platform.Where{}, err
	}
	conn.Config.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{next: rt, n: requests} })
	kc, err := kube.NewForConfig(conn.Config, conn.Namespace)
	if err != nil {
		return nil, platform.Where{}, &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	where := clusterWhere(conn, *cfg)
	out := []preflight.Check{
		{Group: preflight.GroupCluster, Name: "kubeconfig", Status: preflight.Pass, Detail: src.origin + ": " + firstNonEmptyString(strings.Join(src.files, ", "), kube.ServiceAccountDir)},
		{Group: preflight.GroupCluster, Name: "context", Status: preflight.Pass, Detail: firstNonEmptyString(conn.Context, "in-cluster") + " (cluster " + where.Cluster + ")"},
		{Group: preflight.GroupCluster, Name: "namespace", Status: preflight.Pass, Detail: conn.Namespace + namespaceOrigin(*cfg)},
	}
	var b backends
	if err := d.attachData(*cfg, &b); err != nil {
		return nil, platform.Where{}, err
	}
	defer closeBackends(b)
	ctx, cancel := context.WithTimeout(ctx, 2*preflightTimeout)
	defer cancel()
	out = append(out, preflight.ClusterChecks(ctx, clusterProbe{kc}, preflight.ClusterOptions{Where: where, Writes: true, Fix: clusterFix(src, conn)})...)
	out = append(out, preflight.MetricChecks(ctx, b.metrics, nil, preflight.MetricOptions{Now: d.clock.Now})...)
	if b.metrics != nil && out[len(out)-1].Status == preflight.Pass {
		out = append(out, d.workloadMetrics(ctx, kc, b.metrics, conn.Namespace)...)
	}
	out = append(out, preflight.StorageChecks(ctx, b.storage)...)
	return out, where, nil
}

func namespaceOrigin(cfg config.Config) string {
	if cfg.Source("kubernetes.namespace") == config.SourceKubeconfig {
		return " (from the kubeconfig context)"
	}
	return ""
}

// workloadMetrics is one row per workload: which named metrics have series.
func (d deps) workloadMetrics(ctx context.Context, c platform.Cluster, m platform.Metrics, ns string) []preflight.Check {
	ws, err := c.ListWorkloads(ctx, ns)
	if err != nil {
		return nil // the workloads row already says why
	}
	var out []preflight.Check
	for _, w := range ws {
		target := preflight.MetricTarget{Ref: w.Ref, Used: platform.KnownMetrics}
		checks := preflight.MetricChecks(ctx, m, []preflight.MetricTarget{target}, preflight.MetricOptions{Now: d.clock.Now, Source: prom.SourceOf})[1:]
		out = append(out, summariseMetrics(w.Ref, checks))
	}
	return out
}

func summariseMetrics(ref platform.WorkloadRef, checks []preflight.Check) preflight.Check {
	var have, missing, fixes []string
	for i, c := range checks {
		name := string(platform.KnownMetrics[i])
		if c.Status == preflight.Pass {
			have = append(have, name)
			continue
		}
		missing = append(missing, name)
		fixes = append(fixes, c.Fix)
	}
	ch := preflight.Check{Group: preflight.GroupMetric, Name: ref.String(), Status: preflight.Pass, Detail: "series for " + strings.Join(have, ", ")}
	if len(missing) > 0 {
		ch.Status = preflight.Warn
		ch.Detail = fmt.Sprintf("no series for %s; series for %s", strings.Join(missing, ", "), firstNonEmptyString(strings.Join(have, ", "), "none"))
		ch.Fix = strings.Join(fixes, "; ")
	}
	return ch
}

func (d deps) stateChecks(ctx context.Context, cfg config.Config) []preflight.Check {
	dir := cfg.StateDir
	fix := "set --state-dir or OPS_SKILL_STATE_DIR to a writable directory"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return []preflight.Check{{Group: preflight.GroupState, Name: "dir", Status: preflight.Fail, Kind: preflight.ErrConfig, Detail: err.Error(), Fix: fix}}
	}
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		return []preflight.Check{{Group: preflight.GroupState, Name: "dir", Status: preflight.Fail, Kind: preflight.ErrConfig, Detail: dir + " is not writable: " + err.Error(), Fix: fix}}
	}
	f.Close()
	os.Remove(f.Name())
	out := []preflight.Check{{Group: preflight.GroupState, Name: "dir", Status: preflight.Pass, Detail: dir + " is writable"}}
	st, err := d.openStore(ctx, cfg)
	if err != nil {
		if cfg.Store != "" {
			fix = "check --store or OPS_SKILL_STORE_URL: a reachable postgres:// URL or a writable SQLite file"
		}
		return append(out, preflight.Check{Group: preflight.GroupState, Name: "history", Status: preflight.Fail, Kind: preflight.ErrConfig, Detail: err.Error(), Fix: fix})
	}
	defer st.Close()
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return append(out, preflight.Check{Group: preflight.GroupState, Name: "history", Status: preflight.Fail, Detail: "cannot read the schema version: " + err.Error()})
	}
	return append(out, preflight.Check{Group: preflight.GroupState, Name: "history", Status: preflight.Pass, Detail: fmt.Sprintf("%s, schema version %d", st.Engine(), v)})
}

// notifyChecks lists the configured channels; with sendTest, one test
// message goes to each and its delivery is the check.
func (d deps) notifyChecks(ctx context.Context, cfg config.Config, where platform.Where, sendTest bool) []preflight.Check {
	st, err := store.Open(ctx, store.MemoryPath, d.clock)
	if err != nil {
		return []preflight.Check{{Group: preflight.GroupNotify, Name: "channels", Status: preflight.Fail, Detail: err.Error()}}
	}
	defer st.Close()
	fan, err := newNotifier(cfg, st, where.Env())
	if err != nil {
		return []preflight.Check{{Group: preflight.GroupNotify, Name: "channels", Status: preflight.Fail, Kind: preflight.ErrConfig, Detail: err.Error()}}
	}
	names := fan.Channels()
	if len(names) == 0 {
		return []preflight.Check{{Group: preflight.GroupNotify, Name: "channels", Status: preflight.Skip, Detail: "none configured (ALERT_WEBHOOK, GENERIC_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY, GRAFANA_URL+GRAFANA_TOKEN)"}}
	}
	if !sendTest {
		return []preflight.Check{{Group: preflight.GroupNotify, Name: "channels", Status: preflight.Pass, Detail: strings.Join(names, ", ") + " configured; nothing sent (--send-test sends a test message)"}}
	}
	n := platform.Notification{Severity: "info", Title: "ops-skill: test message from ops-skill doctor", Text: "A test message from ops-skill doctor. Nothing was done.\nPlatform: " + where.String(),
		Target: "ops-skill-doctor", State: platform.NotifyActed, Where: where, At: d.clock.Now()}
	sendErr := fan.Notify(ctx, n)
	closeCtx, cancel := context.WithTimeout(ctx, cfg.Alerting.NotifyDeadline+5*time.Second)
	defer cancel()
	if err := fan.Close(closeCtx); sendErr == nil {
		sendErr = err
	}
	if sendErr != nil {
		return []preflight.Check{{Group: preflight.GroupNotify, Name: "test message", Status: preflight.Fail, Kind: preflight.ErrUnreachable, Detail: sendErr.Error()}}
	}
	return []preflight.Check{{Group: preflight.GroupNotify, Name: "test message", Status: preflight.Pass, Detail: "delivered to " + strings.Join(names, ", ")}}
}

// llmCheck sends one one-token request, so a bad key, model or URL is found
// once, with its fix, instead of a fallback on every alert.
func (d deps) llmCheck(ctx context.Context, cfg config.Config, probe bool) preflight.Check {
	ch := preflight.Check{Group: preflight.GroupLLM, Name: "model"}
	switch {
	case cfg.LLM.Provider == "":
		ch.Status, ch.Detail = preflight.Skip, "no LLM configured: the rules planner decides"
		return ch
	case !probe:
		ch.Status, ch.Detail = preflight.Skip, cfg.LLM.Provider+"/"+cfg.LLM.Model+" configured; not checked (pass --llm to send a one-token request)"
		return ch
	}
	name, err := d.probeLLM(ctx, cfg.LLM)
	switch {
	case errors.Is(err, errLLMConfig) || errors.Is(err, llm.ErrMisconfigured):
		ch.Status, ch.Kind, ch.Detail, ch.Fix = preflight.Fail, preflight.ErrConfig, err.Error(), llmFix
	case err != nil:
		ch.Status, ch.Kind, ch.Detail, ch.Fix = preflight.Fail, preflight.ErrUnreachable, err.Error(), llmFix
	default:
		ch.Status, ch.Detail = preflight.Pass, name+" answered a one-token request"
	}
	return ch
}

// llmFix is what to check when the model cannot be reached.
const llmFix = "check LLM_PROVIDER, LLM_MODEL, LLM_BASE_URL, LLM_ENDPOINT and LLM_API_KEY"

// errLLMConfig marks a model that cannot even be built from the config.
var errLLMConfig = errors.New("llm configuration")

// probeLLM sends one tiny request to the configured model and returns its
// name. An error matching llm.ErrMisconfigured (or errLLMConfig) is fixed
// only by a change of configuration; any other may pass.
func (d deps) probeLLM(ctx context.Context, c config.LLM) (string, error) {
	m, err := d.newLLM(c)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errLLMConfig, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	_, err = m.Chat(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Reply with OK."}}, MaxTokens: probeTokens})
	return m.Name(), err
}

// probeTokens is the reply the probe allows: a few tokens, enough for
// every provider to accept the request.
const probeTokens = 16

// countingTransport counts the requests made through it.
type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}
