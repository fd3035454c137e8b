//go:build integration

package kube_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/tools"
)

// This file sorts last so that go test runs it after the other integration
// tests: the controllers need a while to recover from the outage.

func TestAPIServerStoppedMidWriteIsAClearErrorAndNoWrite(t *testing.T) {
	c := newCluster(t)
	c.deployment("backend", 2)
	before := c.get("backend")
	dir := os.Getenv("OPS_SKILL_TEST_KUBE_DIR")
	if dir == "" {
		t.Fatal("OPS_SKILL_TEST_KUBE_DIR is not set: load .testenv/env")
	}
	t.Cleanup(func() { restartAPIServer(t) })

	// Stop the API server at the moment the adapter sends its write.
	cfg := rest.CopyConfig(c.conn.Config)
	cfg.Timeout = 3 * time.Second
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPut {
				stopAPIServer(t, filepath.Join(dir, "kube-apiserver.pid"))
			}
			return rt.RoundTrip(r)
		})
	})
	a, _ := c.adapter(cfg)
	reg := c.registry(a, &metrics{cpu: 90}, clocktesting.NewFakeClock(time.Now()))
	o := call(context.Background(), reg, autoRun(), "scaleDeployment", wargs(c.ref("backend"), `"replicas":3`))
	mustStatus(t, o, tools.StatusFailed)
	if !strings.Contains(o.Error, platform.ErrUnavailable.Error()) || !strings.Contains(o.Error, "did not answer") {
		t.Errorf("error %q is not a clear unavailability", o.Error)
	}
	_, err := a.GetWorkload(context.Background(), c.ref("backend"))
	if !errors.Is(err, platform.ErrUnavailable) {
		t.Errorf("GetWorkload while stopped: %v, want ErrUnavailable", err)
	}

	restartAPIServer(t)
	after := c.get("backend")
	if *after.Spec.Replicas != 2 || after.Generation != before.Generation || after.Annotations[guard.StateAnnotation] != "" {
		t.Errorf("partial write: replicas %d, generation %d → %d, state %q", *after.Spec.Replicas, before.Generation, after.Generation,
			after.Annotations[guard.StateAnnotation])
	}
}

func stopAPIServer(t *testing.T, pidFile string) {
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Error(err)
		return
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	// SIGKILL, as a crash or a lost node would: a SIGTERM lets the server
	// drain its watches for a minute first.
	if pid <= 0 || syscall.Kill(pid, syscall.SIGKILL) != nil {
		return
	}
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
}

// restartAPIServer brings the test cluster back: `kube.sh up` starts what is missing.
func restartAPIServer(t *testing.T) {
	cmd := exec.Command("bash", "scripts/testenv/kube.sh", "up")
	cmd.Dir = projectRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restart the test cluster: %v\n%s", err, out)
	}
}
