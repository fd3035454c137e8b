package planner

import (
	"strings"

	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/text"
	"github.com/duet-company/ops-skill/internal/units"
	"github.com/duet-company/ops-skill/tools"
)

func first(m tools.MetricSummary) (tools.SeriesSummary, bool) {
	if len(m.Series) == 0 {
		return tools.SeriesSummary{}, false
	}
	return m.Series[0], true
}

func lastOf(m tools.MetricSummary) float64 {
	s, _ := first(m)
	return s.Last
}

func memoryLimit(st tools.ServiceStatus) int64 {
	for _, c := range st.Containers {
		if b, err := units.ParseBytes(c.MemoryLimit); err == nil && b > 0 {
			return b
		}
	}
	return 0
}

// logLine picks the most telling log line: the last one that mentions an error.
func logLine(c conversation) string {
	logs, ok := last[tools.LogTail](c, tools.GetLogs, nil)
	if !ok || len(logs.Lines) == 0 {
		return ""
	}
	for i := len(logs.Lines) - 1; i >= 0; i-- {
		l := strings.ToLower(logs.Lines[i])
		if strings.Contains(l, "error") || strings.Contains(l, "exception") || strings.Contains(l, "fatal") || strings.Contains(l, "exhausted") || strings.Contains(l, "memory") {
			return text.Clip(logs.Lines[i], 200)
		}
	}
	return text.Clip(logs.Lines[len(logs.Lines)-1], 200)
}

func logsMention(c conversation, words ...string) bool {
	logs, ok := last[tools.LogTail](c, tools.GetLogs, nil)
	if !ok {
		return false
	}
	for _, l := range logs.Lines {
		low := strings.ToLower(l)
		for _, w := range words {
			if strings.Contains(low, w) {
				return true
			}
		}
	}
	return false
}

func healthFailing(c conversation) bool {
	hs, ok := last[[]platform.HealthResult](c, tools.CheckHealth, nil)
	if !ok {
		return false
	}
	for _, h := range hs {
		if !h.OK {
			return true
		}
	}
	return false
}

// healthDetail is the detail of the first failing check, e.g. "HTTP 503 from /health".
func healthDetail(c conversation) string {
	hs, ok := last[[]platform.HealthResult](c, tools.CheckHealth, nil)
	if !ok {
		return ""
	}
	for _, h := range hs {
		if !h.OK {
			return text.Clip(h.Detail, 160)
		}
	}
	return ""
}

// failingDependency names another service whose health check fails, if any.
func failingDependency(c conversation) (string, string) {
	hs, ok := last[[]platform.HealthResult](c, tools.CheckHealth, nil)
	if !ok {
		return "", ""
	}
	for _, h := range hs {
		if !h.OK && h.Service != c.facts.Service {
			return h.Service, text.Clip(h.Detail, 120)
		}
	}
	return "", ""
}
