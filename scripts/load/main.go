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
//
// Both servers run as child processes bound to 127.0.0.1; the load comes
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
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/ops-skill", "the ops-skill binary (make build)")
	flag.IntVar(&o.storm, "storm", 10000, "identical deliveries in the storm")
	flag.IntVar(&o.distinct, "distinct", 2000, "distinct deliveries")
	flag.IntVar(&o.conc, "c", 32, "concurrent clients")
	flag.StringVar(&o.bare, "bare-server", "", "internal: serve the bare handler on this address")
	flag.BoolVar(&o.json, "json", false, "print the results as JSON too")
	flag.Parse()
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
	bare, srv, token, err := startServers(o, dir)
	if err != nil {
		return err
	}
	defer bare.stop()
	defer srv.stop()
	cl := newClient(o.conc, token)
	stormBody := delivery("LoadStorm", time.Now().UTC().Add(-time.Minute).Truncate(time.Second))
	rows, stormRSS, err := phase(cl, bare, srv, "storm (identical)", o.storm, o.conc, 2*time.Minute, func(int) []byte { return stormBody })
	if err != nil {
		return err
	}
	actions, alerts, err := stormHistory(dir, "LoadStorm")
	if err != nil {
		return err
	}
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	more, distinctRSS, err := phase(cl, bare, srv, "distinct", o.distinct, o.conc, 10*time.Minute,
		func(i int) []byte { return delivery(fmt.Sprintf("LoadDistinct%05d", i), start) })
	if err != nil {
		return err
	}
	rows = append(rows, more...)
	report(os.Stdout, o, rows, stormRSS, distinctRSS, actions, alerts)
	if o.json {
		printJSON(os.Stdout, rows, stormRSS, distinctRSS, actions, alerts)
	}
	if actions != 1 || alerts != 1 {
		return fmt.Errorf("the storm of %d identical deliveries produced %d actions and %d alert records, want exactly 1", o.storm, actions, alerts)
	}
	return nil
}

// startServers starts the bare handler and serve (simulated platform,
// history in dir) and waits until both accept.
func startServers(o options, dir string) (bare, srv *child, token string, err error) {
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return nil, nil, "", err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, nil, "", fmt.Errorf("%s: %w (run make build first)", o.bin, err)
	}
	token = "load-" + fmt.Sprint(time.Now().UnixNano())
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
	srv, err = start("ops-skill serve", bin, []string{"serve", "--simulate", "--scenario", "high-cpu", "--auth-token-file", filepath.Join(dir, "token"),
		"--no-health-loop", "--escalation-period", "0", "--queue-size", fmt.Sprint(o.distinct + 100)},
		[]string{"OPS_SKILL_STATE_DIR=" + dir, "XDG_CONFIG_HOME=" + dir})
	if err != nil {
		bare.stop()
		return nil, nil, "", err
	}
	for _, p := range []*child{bare, srv} {
		if err := p.waitLeader(30 * time.Second); err != nil {
			bare.stop()
			srv.stop()
			return nil, nil, "", err
		}
	}
	return bare, srv, token, nil
}

// phase runs the same load against the bare handler, then serve (sampling
// its memory until its queue is empty again).
func phase(cl *client, bare, srv *child, name string, n, conc int, settle time.Duration, body func(int) []byte) ([]row, memory, error) {
	rows := []row{measure(cl, bare, name, n, conc, body)}
	sampler := srv.sampleRSS()
	rows = append(rows, measure(cl, srv, name, n, conc, body))
	err := srv.waitIdle(settle)
	return rows, sampler.stop(), err
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
