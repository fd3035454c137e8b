//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// smallDisk mounts a tmpfs of the given size, unmounted at the end: a data
// volume whose fullness a test controls, as ClickHouse's PersistentVolume
// is in a cluster. The shared ClickHouse of the stack lives on the host's
// file system, whose usage no test can move. Mounting needs CAP_SYS_ADMIN
// (root in CI); without it the test is skipped, saying so.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("mounting a %d-byte tmpfs for ClickHouse's data volume: %v (needs CAP_SYS_ADMIN, e.g. root)", size, err)
		}
		t.Fatalf("mount a tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// clickhouse is a ClickHouse (chDB behind chdbfront) of the test's own.
type clickhouse struct {
	t   *testing.T
	url string
}

// ownClickHouse starts the stack's chdbfront binary on dataDir, stopped at
// the end.
func (s *stack) ownClickHouse(dataDir string) *clickhouse {
	s.t.Helper()
	portFile := filepath.Join(s.t.TempDir(), "port")
	cmd := exec.Command(s.env["CHDB_FRONT_BIN"], "-listen", "127.0.0.1:0", "-port-file", portFile, "-path", filepath.Join(dataDir, "data"))
	logf, err := os.Create(filepath.Join(s.t.TempDir(), "chdbfront.log"))
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start chdbfront: %v", err)
	}
	s.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	})
	var port string
	eventually(s.t, 30*time.Second, "chdbfront writes its port", func() (bool, string) {
		b, err := os.ReadFile(portFile)
		port = strings.TrimSpace(string(b))
		return err == nil && port != "", fmt.Sprint(err)
	})
	ch := &clickhouse{t: s.t, url: "http://127.0.0.1:" + port + "/"}
	eventually(s.t, 30*time.Second, "chdbfront answers", func() (bool, string) {
		out, err := ch.try("SELECT 1")
		return err == nil && out == "1", fmt.Sprint(out, err)
	})
	return ch
}

func (c *clickhouse) try(sql string) (string, error) {
	resp, err := http.Post(c.url, "text/plain", strings.NewReader(sql))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", resp.Status, b)
	}
	return strings.TrimSpace(string(b)), err
}

func (c *clickhouse) query(sql string) string {
	c.t.Helper()
	out, err := c.try(sql)
	if err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// usage is the data disk's used share in percent, from system.disks.
func (c *clickhouse) usage() float64 {
	c.t.Helper()
	v, err := strconv.ParseFloat(c.query("SELECT 100 * (1 - sum(free_space) / sum(total_space)) FROM system.disks"), 64)
	if err != nil {
		c.t.Fatal(err)
	}
	return v
}

// partitions are the active partition IDs of analytics.events, oldest first.
func (c *clickhouse) partitions() []string {
	c.t.Helper()
	out := c.query("SELECT DISTINCT partition_id FROM system.parts WHERE active AND database = 'analytics' AND table = 'events' ORDER BY partition_id")
	return strings.Fields(out)
}

// fillEvents creates analytics.events, partitioned by month as the spec's
// incident has it, with one partition per entry of mib: the first is this
// month's, each next one's rows are 31 days older (so no two share a
// month). The rows are random, so that compression keeps their size.
func (c *clickhouse) fillEvents(now time.Time, mib []int) (ids []string) {
	c.t.Helper()
	c.query("CREATE DATABASE analytics")
	c.query("CREATE TABLE analytics.events (ts DateTime, payload String) ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY ts")
	for i, n := range mib {
		at := now.Add(-time.Duration(i*31+5) * 24 * time.Hour)
		c.query(fmt.Sprintf("INSERT INTO analytics.events SELECT toDateTime(%d), randomString(1024) FROM numbers(%d)", at.Unix(), n*1024))
		ids = append(ids, at.UTC().Format("200601"))
	}
	slices.Sort(ids)
	return ids
}

// TestDiskIncidentDropsOldPartitionsOnTheRealStack plays the spec's third
// incident, "Database disk usage at 85%": ClickHouse's data volume (a
// 96 MiB tmpfs) holds analytics.events, eight monthly partitions of which
// the five older than 90 days hold about a quarter of the data. ops-skill,
// run as a user runs it against that ClickHouse and the cluster where its
// StatefulSet runs, drops exactly those five; ClickHouse's own tables show
// them gone and the disk below the 75% target, and the webhook says so.
func TestDiskIncidentDropsOldPartitionsOnTheRealStack(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := newStack(t, "kube", "clickhouse")
	bin := binary(t)
	t.Logf("binary %s built after %s", bin, time.Since(start).Round(time.Second))
	ch := s.ownClickHouse(smallDisk(t, 96<<20))
	ids := ch.fillEvents(time.Now(), []int{32, 18, 11, 6, 5, 4, 3, 2})
	before := ch.usage()
	if before < 80 || before >= 90 {
		t.Fatalf("the disk is %.1f%% used after the fill, want about 85%%", before)
	}
	if got := ch.partitions(); !slices.Equal(got, ids) {
		t.Fatalf("partitions %v, want %v", got, ids)
	}
	t.Logf("disk %.1f%% used, partitions %v", before, ids)

	ns := s.namespace("e2e-disk")
	s.statefulSet(ns, "clickhouse", 1, "4Gi")
	eventually(t, 90*time.Second, "clickhouse-0 ready", func() (bool, string) {
		p, err := s.admin.CoreV1().Pods(ns).Get(context.Background(), "clickhouse-0", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				return true, ""
			}
		}
		return false, string(p.Status.Phase)
	})

	hook := newReceiver(t)
	u := s.user(ns, "", map[string]string{"CLICKHOUSE_URL": ch.url, "ALERT_WEBHOOK": hook.srv.URL + "/services/e2e"})
	out, errOut, code, took := u.run(12*time.Minute, "-o", "json", "Database disk usage at 85%")
	t.Logf("ops-skill ran for %s (exit %d); stderr:\n%s", took.Round(100*time.Millisecond), code, errOut)

	// ClickHouse: the five partitions past 90 days are gone, the three
	// recent ones are kept, and the disk has the space back.
	if got := ch.partitions(); !slices.Equal(got, ids[5:]) {
		t.Errorf("partitions left %v, want the three of the last 90 days %v\nstdout: %s", got, ids[5:], out)
	}
	after := ch.usage()
	if after >= 75 {
		t.Errorf("the disk is %.1f%% used after the drop, want below the 75%% target", after)
	}
	t.Logf("disk %.1f%% → %.1f%% used", before, after)
	// The receiver: the drop was notified.
	hook.expect(t, "Dropped 5 partitions of analytics.events older than 90 days")
	// The exit code and the run's own account.
	if code != 0 {
		t.Errorf("exit %d, want 0\nstdout: %s", code, out)
	}
	sum := lastSummary(t, out)
	sum.checkResolved(t, ns, "the space of the 5 dropped partitions")
	t.Logf("verification %+v; time to resolution %.1fs; whole test %s", sum.Verification, sum.TimeToResolution, time.Since(start).Round(time.Second))

	u.decidesAsSimulated(out, "disk-space")
}
