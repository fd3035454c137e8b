package tui

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	testclock "k8s.io/utils/clock/testing"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/alert"
)

// newRecallChat is a conversation whose input recalls entries, and whose
// requests answer at once.
func newRecallChat(t *testing.T, r Recall) *Model {
	t.Helper()
	o := testOptions(testclock.NewFakeClock(at))
	o.Recall = &r
	m := NewChat(context.Background(), o, func(context.Context, string) error { return nil })
	m.Update(tea.WindowSizeMsg{Width: 80})
	return m
}

func typeText(m *Model, s string) { m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}) }

func send(t *testing.T, m *Model, s string) {
	t.Helper()
	typeText(m, s)
	_, cmd := m.Update(key("enter"))
	runCmd(cmd)
	m.Update(workDoneMsg{})
}

func TestUpAndDownRecallEarlierRequestsLikeAShell(t *testing.T) {
	m := newRecallChat(t, Recall{Entries: []string{"check system health", "why did you scale backend?"}})
	typeText(m, "and for fr")
	steps := []struct{ key, want string }{
		{"up", "why did you scale backend?"},
		{"up", "check system health"},
		{"up", "check system health"}, // the oldest: nothing before it
		{"down", "why did you scale backend?"},
		{"down", "and for fr"}, // back to what was being typed
		{"down", "and for fr"},
	}
	for i, s := range steps {
		m.Update(key(s.key))
		if got := m.input.Value(); got != s.want {
			t.Fatalf("step %d (%s): input %q, want %q", i+1, s.key, got, s.want)
		}
	}
}

func TestRequestsSentJoinTheRecallButNotSecrets(t *testing.T) {
	m := newRecallChat(t, Recall{Entries: []string{"check system health"},
		Keep: func(s string) bool { return !strings.Contains(s, "token=") }})
	send(t, m, "status of frontend")
	send(t, m, "use token=abc123")
	send(t, m, "status of frontend")
	var got []string
	for range 3 {
		m.Update(key("up"))
		got = append(got, m.input.Value())
	}
	want := []string{"status of frontend", "check system health", "check system health"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("recalled %q, want %q (no secret, no repeat)", got, want)
	}
}

func TestWithRecallShiftArrowsSelectACall(t *testing.T) {
	m := newRecallChat(t, Recall{Entries: []string{"check system health"}})
	typeText(m, "check system health")
	_, cmd := m.Update(key("enter"))
	runCmd(cmd)
	feed(m, agent.RunStarted{At: sec(0), Alert: alert.Alert{Source: "chat", Text: "check system health"}, Planner: "rules", Mode: "auto"},
		checkEvents[0], checkEvents[1], scaleCall, scaleDone)
	m.Update(workDoneMsg{})
	last := len(m.calls()) - 1
	if last < 1 {
		t.Fatalf("want at least two calls, have %d", last+1)
	}
	m.Update(key("up"))
	if m.cursor != last || m.input.Value() != "check system health" {
		t.Fatalf("up: cursor %d input %q; want the cursor to stay at %d and the request recalled", m.cursor, m.input.Value(), last)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyShiftUp})
	if m.cursor != last-1 {
		t.Errorf("shift+up: cursor %d, want %d", m.cursor, last-1)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyShiftDown})
	if m.cursor != last {
		t.Errorf("shift+down: cursor %d, want %d", m.cursor, last)
	}
	if v := m.View(); !strings.Contains(v, "↑/↓ history · shift+↑/↓ select a call") {
		t.Errorf("the keys line does not name the history:\n%s", v)
	}
}

func TestTheNoticeIsShownUnderTheHeader(t *testing.T) {
	o := testOptions(testclock.NewFakeClock(at))
	o.Notice = "Resumed conversation from 2026-02-16T10:30:00Z (2 turns)"
	m := NewChat(context.Background(), o, func(context.Context, string) error { return nil })
	for name, v := range map[string]string{"view": m.View(), "record": m.Record()} {
		head, _, _ := strings.Cut(v, "\n\n") // the header ends with a blank line
		if !strings.HasSuffix(head, "\n"+o.Notice) {
			t.Errorf("%s: the header does not end with the notice:\n%s", name, v)
		}
	}
}
