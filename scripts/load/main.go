// Command load measures `ops-skill serve` under Alertmanager deliveries on
// loopback, against a bare net/http handler run the same way in the same
// run:
//
//   - a storm of identical deliveries (the same alert instance, as from
//     retries and Alertmanager peers): deliveries per second accepted, p50
//     and p99 response time, and — from the history — that exactly one
//     action was taken;
//   - distinct deliveries (a new alert instance each): the same figures;
//   - the resident memory of serve (VmRSS sampled during the load, VmHWM)
//     from /proc.
//
// Usage (from the project root, after `make build`):
//
//	go run ./scripts/load -bin bin/ops-skill -storm 10000 -distinct 2000 -c 32
//	go run ./scripts/load -store 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' -replicas 3
//
// -store picks the history serve keeps: empty, a SQLite file in the run's
// temp dir; a postgres:// URL (or OPS_SKILL_STORE_URL), a new schema of that
// database, dropped at the end. -replicas starts that many serve processes
// on the one store (no Lease: each takes deliveries, the shared delivery
// ledger decides which runs one), and the load goes round-robin to them, as
// Alertmanager's peers deliver one alert to every replica.
//
// All servers run as child processes bound to 127.0.0.1; the load comes
// from this process with keep-alive connections.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

type options struct {
	bin      string
	storm    int
	distinct int
	conc     int
	bare     string // internal: run as the bare server on this address
	json     bool
	store    string // "" (SQLite) or a postgres:// URL
	replicas int
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/ops-skill", "the ops-skill binary (make build)")
	flag.IntVar(&o.storm, "storm", 10000, "identical deliveries in the storm")
	flag.IntVar(&o.distinct, "distinct", 2000, "distinct deliveries")
	flag.IntVar(&o.conc, "c", 32, "concurrent clients")
	flag.StringVar(&o.bare, "bare-server", "", "internal: serve the bare handler on this address")
	flag.BoolVar(&o.json, "json", false, "print the results as JSON too")
	flag.StringVar(&o.store, "store", os.Getenv(storeURLEnv), "serve's store: empty for a SQLite file, or a postgres:// URL (a new schema per run; default $"+storeURLEnv+")")
	flag.IntVar(&o.replicas, "replicas", 1, "serve processes sharing the store; deliveries go round-robin")
	flag.Parse()
	if o.replicas < 1 {
		fmt.Fprintln(os.Stderr, "load: -replicas must be at least 1")
		os.Exit(2)
	}
	if o.bare != "" {
		runBare(o.bare)
		return
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// runBare is the baseline: read the body, answer 202 with a small JSON body.
func runBare(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/webhook", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"accepted":1,"duplicates":0}`+"\n")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"ready":true,"leader":true}`) })
	if err := http.ListenAndServe(addr, mux); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	dir, err := os.MkdirTemp("", "ops-skill-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := prepareStore(context.Background(), o.store, dir)
	if err != nil {
		return err
	}
	defer st.drop()
	bare, srvs, token, err := startServers(o, dir, st)
	if err != nil {
		return err
	}
	defer bare.stop()
	defer stopAll(srvs)
	cl := newClient(o.conc, token)
	stormBody := delivery("LoadStorm", time.Now().UTC().Add(-time.Minute).Truncate(time.Second))
	rows, stormRSS, err := phase(cl, bare, srvs, "storm (identical)", o.storm, o.conc, 2*time.Minute, func(int) []byte { return stormBody })
	if err != nil {
		return err
	}
	actions, alerts, err := stormHistory(st.location, "LoadStorm")
	if err != nil {
		return err
	}
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	more, distinctRSS, err := phase(cl, bare, srvs, "distinct", o.distinct, o.conc, 10*time.Minute,
		func(i int) []byte { return delivery(fmt.Sprintf("LoadDistinct%05d", i), start) })
	if err != nil {
		return err
	}
	rows = append(rows, more...)
	report(os.Stdout, o, st, rows, stormRSS, distinctRSS, actions, alerts)
	if o.json {
		printJSON(os.Stdout, o, st, rows, stormRSS, distinctRSS, actions, alerts)
	}
	if actions != 1 || alerts != 1 {
		return fmt.Errorf("the storm of %d identical deliveries produced %d actions and %d alert records, want exactly 1", o.storm, actions, alerts)
	}
	return nil
}

// startServers starts the bare handler and o.replicas serve processes
// (simulated platform, each with a state dir of its own, all on st) and
// waits until every one accepts.
func startServers(o options, dir string, st runStore) (bare *child, srvs []*child, token string, err error) {
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return nil, nil, "", err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, nil, "", fmt.Errorf("%s: %w (run make build first)", o.bin, err)
	}
	// serve refuses a token shorter than 32 bytes.
	if token, err = randomToken(); err != nil {
		return nil, nil, "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token+"\n"), 0o600); err != nil {
		return nil, nil, "", err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, "", err
	}
	if bare, err = start("bare net/http", self, []string{"-bare-server"}, nil); err != nil {
		return nil, nil, "", err
	}
	fail := func(err error) (*child, []*child, string, error) {
		bare.stop()
		stopAll(srvs)
		return nil, nil, "", err
	}
	for r := range o.replicas {
		state := dir
		if o.replicas > 1 {
			state = filepath.Join(dir, fmt.Sprintf("replica-%d", r))
			if err := os.MkdirAll(state, 0o700); err != nil {
				return fail(err)
			}
		}
		srv, err := start(serveName(o.replicas), bin, []string{"serve", "--simulate", "--scenario", "high-cpu",
			"--auth-token-file", filepath.Join(dir, "token"), "--no-health-loop", "--escalation-period", "0",
			"--queue-size", fmt.Sprint(o.distinct + 100), "--leader-election", "none", "--identity", fmt.Sprintf("load-%d", r)},
			[]string{"OPS_SKILL_STATE_DIR=" + state, "XDG_CONFIG_HOME=" + dir, storeURLEnv + "=" + st.location})
		if err != nil {
			return fail(err)
		}
		srvs = append(srvs, srv)
	}
	for _, p := range append([]*child{bare}, srvs...) {
		if err := p.waitLeader(30 * time.Second); err != nil {
			return fail(err)
		}
	}
	return bare, srvs, token, nil
}

func serveName(replicas int) string {
	if replicas == 1 {
		return "ops-skill serve"
	}
	return fmt.Sprintf("ops-skill serve ×%d", replicas)
}

func stopAll(cs []*child) {
	for _, c := range cs {
		c.stop()
	}
}

// phase runs the same load against the bare handler, then serve's replicas
// (sampling the first one's memory until every queue is empty again).
func phase(cl *client, bare *child, srvs []*child, name string, n, conc int, settle time.Duration, body func(int) []byte) ([]row, memory, error) {
	rows := []row{measure(cl, []*child{bare}, name, n, conc, body)}
	sampler := srvs[0].sampleRSS()
	start := time.Now()
	r := measure(cl, srvs, name, n, conc, body)
	for _, s := range srvs {
		if err := s.waitIdle(settle); err != nil {
			return append(rows, r), sampler.stop(), err
		}
	}
	r.DrainedSeconds = time.Since(start).Seconds()
	r.HandledPerSecond = float64(n) / r.DrainedSeconds
	return append(rows, r), sampler.stop(), nil
}

// delivery is an Alertmanager webhook (version 4) with one firing backend
// CPU alert named name.
func delivery(name string, startsAt time.Time) []byte {
	return []byte(fmt.Sprintf(`{"version":"4","groupKey":"{}:{alertname=\"%[1]s\"}","truncatedAlerts":0,"status":"firing","receiver":"ops-skill",
"groupLabels":{"alertname":"%[1]s"},"commonLabels":{"alertname":"%[1]s","namespace":"ai-data-labs","service":"backend","severity":"warning"},
"commonAnnotations":{"summary":"Backend service CPU at 85%% for 5 minutes"},"externalURL":"http://alertmanager:9093",
"alerts":[{"status":"firing","labels":{"alertname":"%[1]s","namespace":"ai-data-labs","service":"backend","severity":"warning"},
"annotations":{"summary":"Backend service CPU at 85%% for 5 minutes","value":"85"},"startsAt":"%[2]s","endsAt":"0001-01-01T00:00:00Z",
"generatorURL":"http://prometheus:9090/graph?g0.expr=cpu","fingerprint":"%[3]s"}]}`,
		name, startsAt.Format(time.RFC3339), fingerprint(name)))
}

func fingerprint(name string) string {
	var h uint64 = 1469598103934665603
	for _, c := range []byte(name) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return fmt.Sprintf("%016x", h)
}

// env is this process's environment without what would change ops-skill's
// behaviour (a cluster, a model, state, notifications).
func env(extra []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "KUBECONFIG" || strings.HasPrefix(k, "LLM_") || strings.HasPrefix(k, "OPS_SKILL_") || k == "ALERT_WEBHOOK" ||
			k == "PAGERDUTY_ROUTING_KEY" || k == "GENERIC_WEBHOOK_URL" || k == "GRAFANA_TOKEN" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// start runs a server child on a free loopback port.
func start(name, bin string, args, extra []string) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if args[0] == "-bare-server" {
		args = []string{"-bare-server", addr}
	} else {
		args = append(args, "--listen", addr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env(extra)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &child{name: name, cmd: cmd, url: "http://" + addr, cancel: cancel}, nil
}
