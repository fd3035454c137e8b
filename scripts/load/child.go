package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/duet-company/ops-skill/internal/store"
)

// child is a server process under load.
type child struct {
	name   string
	cmd    *exec.Cmd
	url    string
	cancel context.CancelFunc
}

func (c *child) stop() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cancel()
		<-done
	}
}

// waitLeader polls /readyz until the server is ready and leads.
func (c *child) waitLeader(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(c.url + "/readyz")
		if err == nil {
			var rd struct{ Ready, Leader bool }
			_ = json.NewDecoder(resp.Body).Decode(&rd)
			resp.Body.Close()
			if rd.Ready && rd.Leader {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not become ready within %s", c.name, timeout)
}

// waitIdle polls /metrics until nothing is queued or running, twice in a row.
func (c *child) waitIdle(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	idle := 0
	for time.Now().Before(deadline) {
		m, err := scrape(c.url + "/metrics")
		if err == nil && m["ops_skill_serve_queue_depth"] == 0 && m["ops_skill_serve_runs_in_flight"] == 0 {
			if idle++; idle == 2 {
				return nil
			}
		} else {
			idle = 0
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s still busy after %s", c.name, timeout)
}

// scrape reads the unlabelled samples of a Prometheus text page.
func scrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// memory is what /proc says of a process's resident memory.
type memory struct {
	PeakSampledMiB float64 `json:"peakSampledMiB"` // highest VmRSS sampled during the phase
	HighWaterMiB   float64 `json:"highWaterMiB"`   // VmHWM: peak resident set since start
	AfterMiB       float64 `json:"afterMiB"`       // VmRSS when the phase ended
}

type sampler struct {
	pid    int
	stopCh chan struct{}
	wg     sync.WaitGroup
	peak   float64
}

// sampleRSS samples the child's VmRSS every 20 ms until stop.
func (c *child) sampleRSS() *sampler {
	s := &sampler{pid: c.cmd.Process.Pid, stopCh: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if v := procStatus(s.pid, "VmRSS"); v > s.peak {
				s.peak = v
			}
			select {
			case <-s.stopCh:
				return
			case <-t.C:
			}
		}
	})
	return s
}

func (s *sampler) stop() memory {
	close(s.stopCh)
	s.wg.Wait()
	return memory{PeakSampledMiB: s.peak, HighWaterMiB: procStatus(s.pid, "VmHWM"), AfterMiB: procStatus(s.pid, "VmRSS")}
}

// procStatus reads a "kB" field of /proc/PID/status, in MiB.
func procStatus(pid int, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// stormHistory counts, in serve's history at location, the alert records of
// the storm's alert and the writes they executed.
func stormHistory(location, name string) (actions, alerts int, err error) {
	ctx := context.Background()
	st, err := store.Open(ctx, location, clock.RealClock{})
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	recs, err := st.ListAlerts(ctx, store.AlertFilter{Limit: 10000})
	if err != nil {
		return 0, 0, err
	}
	for _, a := range recs {
		if a.Fingerprint != fingerprint(name) {
			continue
		}
		alerts++
		calls, err := st.ListToolCalls(ctx, a.ID)
		if err != nil {
			return 0, 0, err
		}
		for _, c := range calls {
			if c.Write && c.Verdict == store.VerdictExecuted {
				actions++
			}
		}
	}
	return actions, alerts, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
