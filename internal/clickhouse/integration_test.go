//go:build integration

package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/duet-company/ops-skill/internal/guard"
	"github.com/duet-company/ops-skill/internal/platform"
)

const day = 24 * time.Hour

// openStorage connects to the ClickHouse of the test environment.
func openStorage(t *testing.T, url string) *Storage {
	t.Helper()
	s, err := New(Config{URL: url, QueryTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("ping %s: %v", url, err)
	}
	return s
}

// sharedStorage is the shared server of scripts/testenv/clickhouse.sh.
func sharedStorage(t *testing.T) (*Storage, map[string]string) {
	env := testEnv(t, "clickhouse")
	return openStorage(t, env["CLICKHOUSE_URL"]), env
}

// scratchDB creates a database of its own for one test and drops it after.
func scratchDB(t *testing.T, s *Storage) string {
	t.Helper()
	db := fmt.Sprintf("ops_it_%d", time.Now().UnixNano())
	mustExec(t, s, "CREATE DATABASE "+db)
	t.Cleanup(func() { _ = s.exec(context.Background(), "cleanup", "DROP DATABASE IF EXISTS "+db) })
	return db
}

func mustExec(t *testing.T, s *Storage, q string) {
	t.Helper()
	if err := s.exec(context.Background(), "test setup", q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// dailyTable creates db.events partitioned by day with 24 hourly rows of
// about rowBytes random bytes on each of days days, the last day ending at
// base+23h. It returns the partition IDs oldest first.
func dailyTable(t *testing.T, s *Storage, db string, base time.Time, days, rowBytes int) []string {
	t.Helper()
	mustExec(t, s, "CREATE TABLE "+db+".events (ts DateTime('UTC'), payload String) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY ts")
	start := base.Add(-time.Duration(days-1) * day)
	mustExec(t, s, fmt.Sprintf("INSERT INTO %s.events SETTINGS max_partitions_per_insert_block = 1000 SELECT toDateTime(%d, 'UTC') + number * 3600, randomPrintableASCII(%d) FROM numbers(%d)",
		db, start.Unix(), rowBytes, 24*days))
	ids := make([]string, days)
	for i := range ids {
		ids[i] = start.Add(time.Duration(i) * day).Format("20060102")
	}
	return ids
}

// today is midnight UTC of the test run; now is late that day, after its
// last row.
func today() (base, now time.Time) {
	base = time.Now().UTC().Truncate(day)
	return base, base.Add(23*time.Hour + 30*time.Minute)
}

func partitionIDs(ps []platform.Partition) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.PartitionID
	}
	return out
}

func TestPartitionsOfADailyTable(t *testing.T) {
	s, _ := sharedStorage(t)
	db := scratchDB(t, s)
	base, _ := today()
	ids := dailyTable(t, s, db, base, 100, 200)
	ps, err := s.Partitions(context.Background(), platform.PartitionFilter{Database: db, Table: "events"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(partitionIDs(ps), ids) {
		t.Fatalf("partitions %v\nwant %v", partitionIDs(ps), ids)
	}
	for i, p := range ps {
		dayStart := base.Add(-time.Duration(99-i) * day)
		if p.Rows != 24 || p.Bytes == 0 || !p.MinTime.Equal(dayStart) || !p.MaxTime.Equal(dayStart.Add(23*time.Hour)) ||
			p.Database != db || p.Table != "events" || p.Partition != ids[i] {
			t.Fatalf("partition %d = %+v, want 24 rows from %s to 23:00", i, p, dayStart)
		}
	}
}

func TestPartitionsOfAMonthlyDateTable(t *testing.T) {
	s, _ := sharedStorage(t)
	db := scratchDB(t, s)
	mustExec(t, s, "CREATE TABLE "+db+".daily_totals (d Date, v UInt64) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY d")
	mustExec(t, s, "INSERT INTO "+db+".daily_totals SELECT toDate('2025-07-01') + number, number FROM numbers(184)")
	ps, err := s.Partitions(context.Background(), platform.PartitionFilter{Database: db})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id   string
		rows uint64
		last string
	}{{"202507", 31, "2025-07-31"}, {"202508", 31, "2025-08-31"}, {"202509", 30, "2025-09-30"},
		{"202510", 31, "2025-10-31"}, {"202511", 30, "2025-11-30"}, {"202512", 31, "2025-12-31"}}
	if len(ps) != len(want) {
		t.Fatalf("partitions %v, want 6 months", partitionIDs(ps))
	}
	for i, w := range want {
		last, _ := time.Parse(time.DateOnly, w.last)
		if ps[i].PartitionID != w.id || ps[i].Rows != w.rows || !ps[i].MaxTime.Equal(last.Add(day-time.Second)) {
			t.Errorf("partition %d = %s rows %d max %s, want %s rows %d max end of %s", i, ps[i].PartitionID, ps[i].Rows, ps[i].MaxTime, w.id, w.rows, w.last)
		}
	}
}

func TestPartitionsCountActivePartsOnly(t *testing.T) {
	s, _ := sharedStorage(t)
	db := scratchDB(t, s)
	mustExec(t, s, "CREATE TABLE "+db+".t (ts DateTime('UTC'), v UInt64) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY ts")
	for range 2 {
		mustExec(t, s, "INSERT INTO "+db+".t SELECT toDateTime('2026-01-01 00:00:00', 'UTC') + number * 3600, number FROM numbers(24)")
	}
	mustExec(t, s, "OPTIMIZE TABLE "+db+".t FINAL")
	var inactive uint64
	if err := s.query(context.Background(), "count inactive", "SELECT count() FROM system.parts WHERE NOT active AND database = ?",
		func(r driver.Rows) error { return r.Scan(&inactive) }, db); err != nil {
		t.Fatal(err)
	}
	if inactive == 0 {
		t.Fatal("no inactive parts after OPTIMIZE FINAL: the test would prove nothing")
	}
	ps, err := s.Partitions(context.Background(), platform.PartitionFilter{Database: db, Table: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Rows != 48 {
		t.Fatalf("partitions %+v, want one partition of 48 rows (active parts only, %d inactive)", ps, inactive)
	}
}

func TestDisksReportCapacityAndFreeSpace(t *testing.T) {
	s, _ := sharedStorage(t)
	disks, err := s.Disks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(disks) == 0 || disks[0].Name != "default" || disks[0].TotalBytes == 0 || disks[0].FreeBytes > disks[0].TotalBytes {
		t.Fatalf("disks = %+v", disks)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(disks[0].Path, &fs); err != nil {
		t.Fatal(err)
	}
	if total := fs.Blocks * uint64(fs.Bsize); !within(float64(disks[0].TotalBytes), float64(total), 0.01) {
		t.Fatalf("total %d, the file system says %d", disks[0].TotalBytes, total)
	}
}

func within(got, want, rel float64) bool { return math.Abs(got-want) <= rel*math.Abs(want) }

func TestGuardedDropRemovesExactlyTheExpiredPartitions(t *testing.T) {
	s, _ := sharedStorage(t)
	db := scratchDB(t, s)
	base, now := today()
	ids := dailyTable(t, s, db, base, 100, 200)
	ctx := context.Background()
	ps, err := s.Partitions(ctx, platform.PartitionFilter{Database: db, Table: "events"})
	if err != nil {
		t.Fatal(err)
	}
	limit, err := s.MaxPartitionSizeToDrop(ctx)
	if err != nil || limit != 50_000_000_000 {
		t.Fatalf("max_partition_size_to_drop = %d, %v; want the server default 50 GB", limit, err)
	}
	dd := guard.DefaultPartitionPolicy().Decide(guard.DropInput{Partitions: ps, ServerLimit: limit, Now: now})
	if !slices.Equal(partitionIDs(dd.Allowed), ids[:10]) {
		t.Fatalf("guard allows %v, want the 10 partitions whose newest row is over 90 days old: %v", partitionIDs(dd.Allowed), ids[:10])
	}
	for _, p := range dd.Allowed {
		if err := s.DropPartition(ctx, db, "events", p.PartitionID); err != nil {
			t.Fatalf("drop %s: %v", p.PartitionID, err)
		}
	}
	left, err := s.Partitions(ctx, platform.PartitionFilter{Database: db, Table: "events"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(partitionIDs(left), ids[10:]) {
		t.Fatalf("left %v, want %v", partitionIDs(left), ids[10:])
	}
	err = s.DropPartition(ctx, db, "events", ids[0])
	if !errors.Is(err, platform.ErrNotFound) || !strings.Contains(err.Error(), "no active partition") {
		t.Fatalf("second drop of %s: %v, want ErrNotFound", ids[0], err)
	}
	if err := s.DropPartition(ctx, db, "nope", ids[0]); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("drop from a missing table: %v, want ErrNotFound", err)
	}
}

func TestSessionSettingOverridesTheServerLimit(t *testing.T) {
	_, env := sharedStorage(t)
	s := openStorage(t, env["CLICKHOUSE_URL"]+"?max_partition_size_to_drop=500")
	got, err := s.MaxPartitionSizeToDrop(context.Background())
	if err != nil || got != 500 {
		t.Fatalf("limit = %d, %v; want the connection's 500", got, err)
	}
}

// startFront starts a ClickHouse of its own (chdbfront) with a server
// config, for tests that need server settings or to stop the server.
func startFront(t *testing.T, bin, config string) (url string, stop func()) {
	t.Helper()
	if bin == "" {
		t.Skip("CHDB_FRONT_BIN missing from the clickhouse env file")
	}
	dir := t.TempDir()
	args := []string{"-listen", "127.0.0.1:0", "-path", filepath.Join(dir, "data"), "-port-file", filepath.Join(dir, "port")}
	if config != "" {
		cfg := filepath.Join(dir, "config.xml")
		if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--", "--config-file="+cfg)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	url = "http://127.0.0.1:" + waitPortFile(t, filepath.Join(dir, "port")) + "/"
	return url, stop
}

// waitPortFile polls for the port a server writes, then for its /ping.
func waitPortFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for tick := time.NewTicker(50 * time.Millisecond); time.Now().Before(deadline); <-tick.C {
		b, err := os.ReadFile(path)
		port := strings.TrimSpace(string(b))
		if err != nil || port == "" {
			continue
		}
		if resp, err := http.Get("http://" + net.JoinHostPort("127.0.0.1", port) + "/ping"); err == nil {
			resp.Body.Close()
			return port
		}
	}
	t.Fatalf("server did not write %s and answer /ping within 30s", path)
	return ""
}

func TestServerSizeLimitRefusesTheDropWithoutRetry(t *testing.T) {
	env := testEnv(t, "clickhouse")
	url, _ := startFront(t, env["CHDB_FRONT_BIN"], "<clickhouse><max_partition_size_to_drop>1000</max_partition_size_to_drop></clickhouse>")
	s := openStorage(t, url)
	ctx := context.Background()
	limit, err := s.MaxPartitionSizeToDrop(ctx)
	if err != nil || limit != 1000 {
		t.Fatalf("limit = %d, %v; want the server's 1000", limit, err)
	}
	db := scratchDB(t, s)
	base, now := today()
	ids := dailyTable(t, s, db, base, 95, 200)
	ps, err := s.Partitions(ctx, platform.PartitionFilter{Database: db, Table: "events"})
	if err != nil {
		t.Fatal(err)
	}
	dd := guard.DefaultPartitionPolicy().Decide(guard.DropInput{Partitions: ps, ServerLimit: limit, Now: now})
	if len(dd.Allowed) != 0 || len(dd.Refused) != 5 || dd.Refused[0].Rule != guard.RulePartitionServerLimit {
		t.Fatalf("guard decision %+v, want the 5 expired partitions refused by the server limit", dd)
	}
	before := s.Stats().Statements
	err = s.DropPartition(ctx, db, "events", ids[0]) // as if the guard had not known the limit
	var e *Error
	if !errors.Is(err, platform.ErrSizeLimit) || !errors.As(err, &e) || e.Code != CodeSizeLimitExceeded {
		t.Fatalf("drop over the limit: %v, want ErrSizeLimit (code 359)", err)
	}
	if n := s.Stats().Statements - before; n != 2 {
		t.Fatalf("%d statements for the refused drop, want 2 (check + one ALTER, no retry)", n)
	}
	left, err := s.Partitions(ctx, platform.PartitionFilter{Database: db, Table: "events"})
	if err != nil || len(left) != 95 {
		t.Fatalf("%d partitions left (%v), want all 95", len(left), err)
	}
}

func TestStoppedServerIsUnavailable(t *testing.T) {
	env := testEnv(t, "clickhouse")
	url, stop := startFront(t, env["CHDB_FRONT_BIN"], "")
	s := openStorage(t, url)
	stop()
	_, err := s.Disks(context.Background())
	if !errors.Is(err, platform.ErrUnavailable) {
		t.Fatalf("disks of a stopped server: %v, want ErrUnavailable", err)
	}
}
