package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// client posts deliveries over keep-alive connections.
type client struct {
	http  *http.Client
	token string
}

func newClient(conc int, token string) *client {
	tr := &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, IdleConnTimeout: time.Minute}
	return &client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, token: token}
}

func (c *client) post(url string, body []byte) (int, time.Duration) {
	req, _ := http.NewRequest(http.MethodPost, url+"/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, time.Since(start)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

// row is one measured phase against one server.
type row struct {
	Server     string      `json:"server"`
	Phase      string      `json:"phase"`
	Requests   int         `json:"requests"`
	Seconds    float64     `json:"seconds"`
	PerSecond  float64     `json:"acceptedPerSecond"` // 2xx answers per second of wall time
	P50Micros  float64     `json:"p50Micros"`
	P99Micros  float64     `json:"p99Micros"`
	MaxMicros  float64     `json:"maxMicros"`
	StatusSeen map[int]int `json:"status"`
	// DrainedSeconds is the time from the first delivery until every serve
	// replica's queue was empty and nothing ran (polled every 200 ms, twice
	// idle in a row: up to 0.4 s late); HandledPerSecond is requests over it.
	// Zero for the bare handler, which queues nothing.
	DrainedSeconds   float64 `json:"drainedSeconds,omitempty"`
	HandledPerSecond float64 `json:"handledPerSecond,omitempty"`
}

// measure sends n deliveries (body(i) for the i-th, to targets[i mod
// len(targets)]) from conc clients.
func measure(c *client, targets []*child, phase string, n, conc int, body func(int) []byte) row {
	lat := make([]time.Duration, n)
	codes := make([]int, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				codes[i], lat[i] = c.post(targets[i%len(targets)].url, body(i))
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	r := row{Server: targets[0].name, Phase: phase, Requests: n, Seconds: wall.Seconds(), StatusSeen: map[int]int{}}
	ok := 0
	for _, code := range codes {
		r.StatusSeen[code]++
		if code >= 200 && code < 300 {
			ok++
		}
	}
	r.PerSecond = float64(ok) / wall.Seconds()
	slices.Sort(lat)
	r.P50Micros, r.P99Micros, r.MaxMicros = micros(lat[n/2]), micros(lat[min(n-1, n*99/100)]), micros(lat[n-1])
	return r
}

func micros(d time.Duration) float64 { return float64(d.Microseconds()) }

func report(w io.Writer, o options, st runStore, rows []row, storm, distinct memory, actions, alerts int) {
	fmt.Fprintf(w, "Loopback load, %d concurrent keep-alive clients; every server is a child process on 127.0.0.1.\n", o.conc)
	fmt.Fprintf(w, "serve: %d replica(s), deliveries round-robin; store: %s (%s).\n\n", o.replicas, st.engine, st.label)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tserver\trequests\taccepted/s\thandled/s\tp50\tp99\tmax\tstatus codes")
	for _, r := range rows {
		handled := "-"
		if r.HandledPerSecond > 0 {
			handled = fmt.Sprintf("%.0f", r.HandledPerSecond)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%s\t%.0fµs\t%.0fµs\t%.0fµs\t%v\n", r.Phase, r.Server, r.Requests, r.PerSecond,
			handled, r.P50Micros, r.P99Micros, r.MaxMicros, r.StatusSeen)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "accepted/s: 2xx answers per second of sending; handled/s: deliveries per second until every queue was empty (±0.4 s)")
	fmt.Fprintf(w, "\nStorm of %d identical deliveries across %d replica(s): %d alert record(s), %d executed action(s) in the shared history.\n", o.storm, o.replicas, alerts, actions)
	fmt.Fprintf(w, "serve resident memory (/proc, the first replica): storm peak %.1f MiB (after %.1f MiB); distinct peak %.1f MiB (after %.1f MiB); VmHWM %.1f MiB\n",
		storm.PeakSampledMiB, storm.AfterMiB, distinct.PeakSampledMiB, distinct.AfterMiB, distinct.HighWaterMiB)
}

func printJSON(w io.Writer, o options, st runStore, rows []row, storm, distinct memory, actions, alerts int) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"rows": rows, "stormMemory": storm, "distinctMemory": distinct,
		"stormActions": actions, "stormAlertRecords": alerts, "store": st.engine, "replicas": o.replicas})
}
