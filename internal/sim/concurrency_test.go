package sim_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/platform"
)

// TestConcurrentReadsAndWrites runs reads of every port in parallel with writes
// and clock steps; run with -race.
func TestConcurrentReadsAndWrites(t *testing.T) {
	p := load(t, "clickhouse-oom")
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	read := func() {
		defer wg.Done()
		for i := 0; i < 30; i++ {
			_, err := p.Metrics().Query(ctx, platform.MetricQuery{Metric: platform.MetricCPU, Target: ref("backend"),
				Start: p.Now().Add(-10 * time.Minute), End: p.Now(), Step: 15 * time.Second})
			if err != nil {
				errs <- err
			}
			if _, err := p.Cluster().GetWorkload(ctx, ref("clickhouse")); err != nil {
				errs <- err
			}
			if _, err := p.Cluster().Logs(ctx, ref("clickhouse"), platform.LogQuery{TailLines: 10}); err != nil {
				errs <- err
			}
			if _, err := p.Health().Check(ctx, "clickhouse"); err != nil {
				errs <- err
			}
			_, _ = p.Storage().Disks(ctx) // unavailable until clickhouse recovers
			_ = p.Snapshot()
		}
	}
	write := func() {
		defer wg.Done()
		for i := 0; i < 10; i++ {
			if _, err := p.Cluster().Scale(ctx, ref("backend"), platform.ScaleRequest{Replicas: int32(3 + i%3)}); err != nil {
				errs <- err
			}
			if _, err := p.Cluster().SetResources(ctx, ref("clickhouse"), platform.ResourceRequest{MemoryLimit: int64(8+i) << 30}); err != nil {
				errs <- err
			}
			_ = p.Notifier().Notify(ctx, platform.Notification{Title: "x"})
			p.Advance(10 * time.Second)
		}
	}
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go read()
	}
	wg.Add(2)
	go write()
	go write()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(p.Notifications()); n != 20 {
		t.Errorf("notifications %d, want 20", n)
	}
}
