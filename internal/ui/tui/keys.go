package tui

import (
	tea "github.com/charmbracelet/bubbletea"
)

// key handles a key press. An approval shown takes every key; in a
// conversation, letters go to the text input, and ↑/↓ recall earlier
// requests when it has an input history (shift+↑/↓ then select a call).
func (m *Model) key(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if m.pending != nil {
		return m.answer(k)
	}
	switch k.String() {
	case "ctrl+c":
		return m.interrupt()
	case "up", "down":
		d := map[string]int{"up": -1, "down": 1}[k.String()]
		if m.chat && m.hist != nil {
			m.recall(d)
		} else {
			m.move(d)
		}
		return m, nil
	case "shift+up":
		m.move(-1)
		return m, nil
	case "shift+down":
		m.move(1)
		return m, nil
	case "pgup":
		m.move(-5)
		return m, nil
	case "pgdown":
		m.move(5)
		return m, nil
	}
	if m.chat {
		return m.chatKey(k)
	}
	switch k.String() {
	case "q", "esc":
		return m.interrupt()
	case "k":
		m.move(-1)
	case "j":
		m.move(1)
	case "home", "g":
		m.move(-len(m.calls()))
	case "end", "G":
		m.move(len(m.calls()))
	case "enter", " ":
		m.toggle()
	}
	return m, nil
}

func (m *Model) chatKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.String() {
	case "enter":
		return m.submit()
	case "esc":
		if m.busy {
			return m.interrupt()
		}
		return m, nil
	case "ctrl+d":
		switch {
		case m.input.Value() != "":
		case m.busy: // end of input while a request runs: quit once it has answered
			m.stopping = true
			return m, nil
		default:
			m.quitting = true
			return m, tea.Quit
		}
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(k)
	return m, cmd
}

// answer takes y for yes; n, enter and esc for no (the default); q and
// ctrl-c decline and cancel the run.
func (m *Model) answer(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.String() {
	case "y", "Y":
		m.answerPending(true)
	case "n", "N", "enter", "esc":
		m.answerPending(false)
	case "q", "ctrl+c":
		m.answerPending(false)
		return m.interrupt()
	}
	return m, nil
}

// move moves the cursor over the calls; at the newest one it follows.
func (m *Model) move(d int) {
	n := len(m.calls())
	if n == 0 {
		return
	}
	m.cursor = min(max(m.cursor+d, 0), n-1)
	m.follow = m.cursor == n-1
}

// toggle expands or folds the call under the cursor.
func (m *Model) toggle() {
	cs := m.calls()
	if m.cursor >= 0 && m.cursor < len(cs) {
		cs[m.cursor].expanded = !cs[m.cursor].expanded
	}
}
