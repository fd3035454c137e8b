package kube

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/duet-company/ops-skill/internal/platform"
)

// Bounds of a log read.
const (
	DefaultTailLines = 100
	MaxTailLines     = 2000
	DefaultLogBytes  = 64 << 10
	MaxLogBytes      = 1 << 20
	maxLogPods       = 10
)

// Logs tails the main container's log of the workload's pods (or of the one
// named pod, which must belong to the workload; at most 10 pods): at most
// q.TailLines lines per pod with the server's timestamps, keeping the lines
// that contain q.Filter (case-insensitive), oldest first, and of those the
// newest that fit in q.MaxBytes. q.Previous reads the
// previous, crashed container; pods that have none are skipped, and none at
// all is platform.ErrNotFound.
func (c *Client) Logs(ctx context.Context, ref platform.WorkloadRef, q platform.LogQuery) ([]platform.LogLine, error) {
	ref = c.ns(ref)
	o, err := c.get(ctx, ref)
	if err != nil {
		return nil, err
	}
	pods, err := c.pods(ctx, ref.Namespace, o.selector())
	if err != nil {
		return nil, err
	}
	if q.Pod != "" {
		if !pods.has(q.Pod) {
			return nil, fmt.Errorf("pod %s is not a pod of %s %s: %w", q.Pod, o.kind(), ref, platform.ErrNotFound)
		}
		pods = filterPods(pods, q.Pod)
	}
	tail, limit := bounds(q)
	var lines []platform.LogLine
	read := 0
	for i := range pods {
		if i == maxLogPods {
			break
		}
		got, err := c.podLog(ctx, &pods[i], q.Previous, tail)
		if q.Previous && errors.Is(err, platform.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		read++
		lines = append(lines, filterLines(got, q.Filter)...)
	}
	if q.Previous && read == 0 {
		return nil, fmt.Errorf("no pod of %s has a previous terminated container: %w", ref, platform.ErrNotFound)
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
	return capBytes(lines, limit), nil
}

func bounds(q platform.LogQuery) (tail int64, limit int) {
	tail, limit = int64(q.TailLines), q.MaxBytes
	if tail <= 0 {
		tail = DefaultTailLines
	}
	if limit <= 0 {
		limit = DefaultLogBytes
	}
	return min(tail, MaxTailLines), min(limit, MaxLogBytes)
}

// podLog reads the tail of one pod's main container. The server's byte
// limit only guards memory: it cuts the oldest end of the tail, so the cap
// the caller asked for is applied to the newest lines afterwards.
func (c *Client) podLog(ctx context.Context, p *corev1.Pod, previous bool, tail int64) ([]platform.LogLine, error) {
	opts := &corev1.PodLogOptions{TailLines: &tail, LimitBytes: ptr(int64(MaxLogBytes)), Previous: previous, Timestamps: true}
	if len(p.Spec.Containers) > 0 {
		opts.Container = p.Spec.Containers[0].Name
	}
	raw, err := c.kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, opts).DoRaw(ctx)
	if err != nil {
		err = c.wrap(ctx, op{"get", "pods/log", p.Namespace, p.Name}, err)
		if previous && errors.Is(err, ErrInvalid) { // "previous terminated container not found"
			return nil, fmt.Errorf("%w: %w", platform.ErrNotFound, err)
		}
		return nil, err
	}
	lines := parseLog(p.Name, raw)
	if len(raw) >= MaxLogBytes && len(lines) > 0 { // the last line was cut by the server
		lines = lines[:len(lines)-1]
	}
	return lines, nil
}

// parseLog splits a log with RFC 3339 timestamps into lines.
func parseLog(pod string, raw []byte) []platform.LogLine {
	var out []platform.LogLine
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), MaxLogBytes)
	for sc.Scan() {
		text := sc.Text()
		l := platform.LogLine{Pod: pod, Text: text}
		if ts, rest, ok := strings.Cut(text, " "); ok {
			if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
				l.Time, l.Text = t, rest
			}
		}
		out = append(out, l)
	}
	return out
}

func filterLines(lines []platform.LogLine, filter string) []platform.LogLine {
	if filter == "" {
		return lines
	}
	out := lines[:0]
	for _, l := range lines {
		if containsFold(l.Text, filter) {
			out = append(out, l)
		}
	}
	return out
}

func filterPods(pods podList, name string) podList {
	for i := range pods {
		if pods[i].Name == name {
			return pods[i : i+1]
		}
	}
	return nil
}

// capBytes keeps the newest lines whose text fits in limit bytes.
func capBytes(lines []platform.LogLine, limit int) []platform.LogLine {
	n := 0
	for i := len(lines) - 1; i >= 0; i-- {
		n += len(lines[i].Text) + 1
		if n > limit {
			return lines[i+1:]
		}
	}
	return lines
}

func ptr[T any](v T) *T { return &v }
