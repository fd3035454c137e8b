package kube

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

func TestParseLogSplitsTimestamps(t *testing.T) {
	raw := "2026-01-01T00:00:01.5Z INFO up\nno timestamp here\n2026-01-01T00:00:02Z ERROR down\n"
	got := parseLog("p", []byte(raw))
	if len(got) != 3 {
		t.Fatalf("lines = %+v", got)
	}
	if got[0].Text != "INFO up" || !got[0].Time.Equal(time.Date(2026, 1, 1, 0, 0, 1, 5e8, time.UTC)) || got[0].Pod != "p" {
		t.Errorf("line 0 = %+v", got[0])
	}
	if got[1].Text != "no timestamp here" || !got[1].Time.IsZero() {
		t.Errorf("line 1 = %+v", got[1])
	}
}

func TestLogFilterAndByteCap(t *testing.T) {
	lines := parseLog("p", []byte("2026-01-01T00:00:01Z INFO a\n2026-01-01T00:00:02Z error b\n2026-01-01T00:00:03Z ERROR c\n"))
	f := filterLines(append([]platform.LogLine(nil), lines...), "Error")
	if len(f) != 2 || f[0].Text != "error b" {
		t.Errorf("filtered = %+v", f)
	}
	c := capBytes(lines, len("error b\nERROR c\n"))
	if len(c) != 2 || c[1].Text != "ERROR c" {
		t.Errorf("capped = %+v, want the newest two", c)
	}
}

func TestLogBounds(t *testing.T) {
	tests := []struct {
		q     platform.LogQuery
		tail  int64
		limit int
	}{
		{platform.LogQuery{}, DefaultTailLines, DefaultLogBytes},
		{platform.LogQuery{TailLines: 10, MaxBytes: 100}, 10, 100},
		{platform.LogQuery{TailLines: 1 << 30, MaxBytes: 1 << 30}, MaxTailLines, MaxLogBytes},
	}
	for _, tt := range tests {
		if tail, limit := bounds(tt.q); tail != tt.tail || limit != tt.limit {
			t.Errorf("bounds(%+v) = %d, %d", tt.q, tail, limit)
		}
	}
}

func TestLogsReadsThePodsOfTheWorkload(t *testing.T) {
	f := newFixture(t, deployment("backend", 2), pod("backend-abc12-a", "backend"), pod("backend-abc12-b", "backend"), pod("other", "frontend"))
	lines, err := f.c.Logs(context.Background(), backend, platform.LogQuery{Filter: "FAKE"})
	if err != nil {
		t.Fatal(err)
	}
	pods := map[string]bool{}
	for _, l := range lines {
		pods[l.Pod] = true
	}
	if len(pods) != 2 || !pods["backend-abc12-a"] || !pods["backend-abc12-b"] {
		t.Errorf("lines from %v, want both backend pods", pods)
	}
	_, err = f.c.Logs(context.Background(), backend, platform.LogQuery{Pod: "other"})
	if !errors.Is(err, platform.ErrNotFound) || !strings.Contains(err.Error(), "not a pod of") {
		t.Errorf("logs of another workload's pod: %v", err)
	}
}
