//go:build integration

package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// legacyServer starts Debian's clickhouse-server 18.16 (2018) of the test's
// own, with max_partition_size_to_drop = 1000, and returns its native URL.
func legacyServer(t *testing.T) string {
	t.Helper()
	bin := testEnv(t, "clickhouse")["CLICKHOUSE_LEGACY_SERVER_BIN"]
	users := "/etc/clickhouse-server/users.xml"
	if _, err := os.Stat(users); bin == "" || err != nil {
		t.Skip("Debian's clickhouse-server is not installed (scripts/testenv/clickhouse.sh up installs it)")
	}
	dir := t.TempDir()
	native, http := freeTCPPort(t), freeTCPPort(t)
	cfg := fmt.Sprintf(`<yandex>
  <logger><level>error</level><log>%[1]s/server.log</log><errorlog>%[1]s/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%[2]d</tcp_port>
  <http_port>%[3]d</http_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <users_config>%[4]s</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>536870912</mark_cache_size>
  <max_partition_size_to_drop>1000</max_partition_size_to_drop>
</yandex>`, dir, native, http, users)
	path := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", native)
	deadline := time.Now().Add(30 * time.Second)
	for tick := time.NewTicker(100 * time.Millisecond); ; <-tick.C {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("clickhouse-server 18.16 did not listen on %s; see %s/error.log", addr, dir)
		}
	}
	return "clickhouse://" + addr + "/default"
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestNativeProtocolAgainstDebianServer runs the adapter over the native
// protocol against the 2018 server: listing and dropping work, the size
// limit is refused with ErrSizeLimit, and what the old server cannot report
// (disks, its drop limit) is ErrUnsupported unless a fallback is configured.
func TestNativeProtocolAgainstDebianServer(t *testing.T) {
	url := legacyServer(t)
	s := openStorage(t, url)
	ctx := context.Background()
	db := scratchDB(t, s)
	mustExec(t, s, "CREATE TABLE "+db+".ev (ts DateTime, v UInt64, p String) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY ts")
	mustExec(t, s, "INSERT INTO "+db+".ev SELECT toDateTime('2026-01-01 00:00:00') + number * 3600, number, '' FROM numbers(48)")
	mustExec(t, s, "INSERT INTO "+db+".ev SELECT toDateTime('2026-01-05 00:00:00') + number, number, arrayStringConcat(arrayMap(x -> toString(rand64(x + number)), range(10))) FROM numbers(20000)")
	ps, err := s.Partitions(ctx, platform.PartitionFilter{Database: db, Table: "ev"})
	if err != nil {
		t.Fatal(err)
	}
	if got := partitionIDs(ps); len(got) != 3 || got[0] != "20260101" || ps[0].Rows != 24 || !ps[0].MaxTime.Equal(time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC)) {
		t.Fatalf("partitions %+v", ps)
	}
	if _, err := s.Disks(ctx); !errors.Is(err, platform.ErrUnsupported) {
		t.Fatalf("disks: %v, want ErrUnsupported (no system.disks before 19.15)", err)
	}
	if _, err := s.MaxPartitionSizeToDrop(ctx); !errors.Is(err, platform.ErrUnsupported) {
		t.Fatalf("limit without fallback: %v, want ErrUnsupported", err)
	}
	withFallback, err := New(Config{URL: url, FallbackMaxPartitionSizeToDrop: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer withFallback.Close()
	if got, err := withFallback.MaxPartitionSizeToDrop(ctx); err != nil || got != 1000 {
		t.Fatalf("limit with fallback: %d, %v", got, err)
	}
	if err := s.DropPartition(ctx, db, "ev", "20260101"); err != nil {
		t.Fatalf("drop of a small partition: %v", err)
	}
	if err := s.DropPartition(ctx, db, "ev", "20260105"); !errors.Is(err, platform.ErrSizeLimit) {
		t.Fatalf("drop over the limit: %v, want ErrSizeLimit", err)
	}
	if err := s.DropPartition(ctx, db, "ev", "20260101"); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("second drop: %v, want ErrNotFound", err)
	}
	left, err := s.Partitions(ctx, platform.PartitionFilter{Database: db, Table: "ev"})
	if err != nil || len(left) != 2 || left[0].PartitionID != "20260102" {
		t.Fatalf("left %v (%v), want 20260102 and 20260105", partitionIDs(left), err)
	}
}
