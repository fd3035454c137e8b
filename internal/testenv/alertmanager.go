package testenv

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// AlertmanagerRoute is how a test's Alertmanager groups and repeats its alerts.
type AlertmanagerRoute struct {
	GroupBy []string      // label names
	Repeat  time.Duration // repeat_interval: how often a firing group is sent again
}

// StartAlertmanager runs a private Alertmanager of bin (the test stack's
// ALERTMANAGER_BIN; not clustered) whose one receiver posts every alert to
// each of the webhook URLs' /webhook with the bearer token in tokenFile,
// grouped and repeated as route says, and waits until it is ready. It is
// killed at the end of the test, and its log shown when the test failed.
// It returns its URL.
func StartAlertmanager(t testing.TB, bin, tokenFile string, route AlertmanagerRoute, webhooks ...string) string {
	t.Helper()
	dir := t.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "route:\n  receiver: ops-skill\n  group_by: [%s]\n  group_wait: 100ms\n  group_interval: 1s\n  repeat_interval: %s\n",
		strings.Join(route.GroupBy, ", "), route.Repeat)
	cfg.WriteString("receivers:\n  - name: ops-skill\n    webhook_configs:\n")
	for _, u := range webhooks {
		fmt.Fprintf(&cfg, "      - url: %s/webhook\n        send_resolved: true\n        http_config:\n          authorization: {type: Bearer, credentials_file: %s}\n", u, tokenFile)
	}
	path := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--config.file="+path, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	var out SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager log:\n%s", out.String())
		}
	})
	url := "http://" + addr
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
			err = fmt.Errorf("%s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager on %s not ready after 20s: %v\n%s", addr, err, out.String())
		}
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
