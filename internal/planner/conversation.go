package planner

import (
	"encoding/json"
	"strings"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/tools"
)

// observed is one tool outcome the planner can see, from the snapshot or a tool message.
type observed struct {
	Tool    tools.Name      `json:"tool"`
	Target  string          `json:"target"`
	Status  tools.Status    `json:"status"`
	Summary string          `json:"summary"`
	Rule    string          `json:"rule"`
	Reason  string          `json:"reason"`
	Params  map[string]any  `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	// Truncated is set when the agent cut the outcome to the planner's budget:
	// its result is then gone.
	Truncated bool `json:"truncated"`
}

// why says why an outcome gave nothing to read: its error or reason, else
// what happened to it. It is never empty, so a message built on it always
// carries a cause.
func (o observed) why() string {
	switch {
	case o.Error != "" || o.Reason != "":
		return firstNonEmpty(o.Error, o.Reason)
	case o.Truncated:
		return "the answer was longer than the planner may read at once"
	case o.Status != tools.StatusOK && o.Status != "":
		return "the call ended " + string(o.Status)
	}
	return "the answer was not in the expected form"
}

// conversation is what the rules planner reads back from the messages: the
// facts code parsed and every outcome so far. It never reads the alert text.
type conversation struct {
	facts    agent.Facts
	hasFacts bool
	seen     []observed
	asked    []llm.ToolCall // every call asked for so far, whatever came of it
	turns    int            // assistant turns so far
}

func readConversation(msgs []llm.Message) conversation {
	var c conversation
	for _, m := range msgs {
		switch m.Role {
		case llm.RoleUser:
			c.readUser(m.Content)
		case llm.RoleTool:
			var o observed
			if json.Unmarshal([]byte(m.Content), &o) == nil {
				if o.Tool == "" {
					o.Tool = tools.Name(m.Name)
				}
				c.seen = append(c.seen, o)
			}
		case llm.RoleAssistant:
			c.turns++
			c.asked = append(c.asked, m.ToolCalls...)
		}
	}
	return c
}

// readUser reads the facts and the snapshot code wrote. Code writes them after
// the untrusted alert text, so only the last facts line and the snapshot lines
// after it count: a line of the alert that copies the prefixes is never read.
func (c *conversation) readUser(content string) {
	lines := strings.Split(content, "\n")
	at := -1
	for i, line := range lines {
		if strings.HasPrefix(line, agent.FactsPrefix) {
			at = i
		}
	}
	if at < 0 || c.hasFacts {
		return
	}
	c.hasFacts = json.Unmarshal([]byte(strings.TrimPrefix(lines[at], agent.FactsPrefix)), &c.facts) == nil
	for _, line := range lines[at+1:] {
		rest, ok := strings.CutPrefix(line, agent.SnapshotPrefix)
		if !ok {
			continue
		}
		name, body, ok := strings.Cut(rest, ": ")
		if !ok {
			continue
		}
		var o observed
		if json.Unmarshal([]byte(body), &o) == nil {
			o.Tool = tools.Name(firstNonEmpty(string(o.Tool), name))
			c.seen = append(c.seen, o)
		}
	}
}

// last returns the newest successful outcome of a tool whose result decodes into T.
func last[T any](c conversation, tool tools.Name, match func(observed) bool) (T, bool) {
	var zero T
	for i := len(c.seen) - 1; i >= 0; i-- {
		o := c.seen[i]
		if o.Tool != tool || o.Status != tools.StatusOK || (match != nil && !match(o)) {
			continue
		}
		var v T
		if json.Unmarshal(o.Result, &v) == nil {
			return v, true
		}
	}
	return zero, false
}

// called reports whether a tool was already called (whatever the outcome), with an optional filter.
func (c conversation) called(tool tools.Name, match func(observed) bool) (observed, bool) {
	for i := len(c.seen) - 1; i >= 0; i-- {
		if o := c.seen[i]; o.Tool == tool && (match == nil || match(o)) {
			return o, true
		}
	}
	return observed{}, false
}

// queried reports whether a metric was asked for in a turn, whatever came of it.
func (c conversation) queried(name string) bool {
	for _, k := range c.asked {
		var a struct {
			Metric string `json:"metric"`
		}
		if tools.Name(k.Name) == tools.QueryMetrics && json.Unmarshal([]byte(k.Arguments), &a) == nil && a.Metric == name {
			return true
		}
	}
	return false
}

// metric returns the newest summary of a named metric.
func (c conversation) metric(name string) (tools.MetricSummary, bool) {
	return last[tools.MetricSummary](c, tools.QueryMetrics, func(o observed) bool {
		var m struct {
			Metric string `json:"metric"`
			Range  string `json:"range"`
		}
		return json.Unmarshal(o.Result, &m) == nil && m.Metric == name
	})
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
