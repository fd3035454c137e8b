package tui

// Recall is a conversation's input history: ↑ and ↓ in the input go
// through it as in a shell.
type Recall struct {
	// Entries are the requests of earlier sessions, oldest first.
	Entries []string
	// Keep says whether a request sent joins the history (a line that looks
	// like a secret does not); nil keeps every request.
	Keep func(request string) bool
}

// history walks the recall list: back from the draft being typed to the
// oldest entry, and forward again to the draft.
type history struct {
	entries []string
	keep    func(string) bool
	pos     int    // the entry shown; len(entries) while the draft is
	draft   string // what was typed before going back
}

func newHistory(r Recall) *history {
	h := &history{entries: append([]string(nil), r.Entries...), keep: r.Keep}
	h.pos = len(h.entries)
	return h
}

// add appends a request sent (unless Keep refuses it or it repeats the
// newest entry) and returns to the draft.
func (h *history) add(request string) {
	if (h.keep == nil || h.keep(request)) && (len(h.entries) == 0 || h.entries[len(h.entries)-1] != request) {
		h.entries = append(h.entries, request)
	}
	h.pos, h.draft = len(h.entries), ""
}

// back returns the entry before the one shown; current is the input's text,
// kept as the draft when leaving it. false at the oldest entry.
func (h *history) back(current string) (string, bool) {
	if h.pos == 0 {
		return "", false
	}
	if h.pos == len(h.entries) {
		h.draft = current
	}
	h.pos--
	return h.entries[h.pos], true
}

// forward returns the entry after the one shown, or the draft after the
// newest; false when the draft is shown already.
func (h *history) forward() (string, bool) {
	if h.pos >= len(h.entries) {
		return "", false
	}
	h.pos++
	if h.pos == len(h.entries) {
		return h.draft, true
	}
	return h.entries[h.pos], true
}

// recall shows the entry before (d < 0) or after the one in the input.
func (m *Model) recall(d int) {
	var text string
	var ok bool
	if d < 0 {
		text, ok = m.hist.back(m.input.Value())
	} else {
		text, ok = m.hist.forward()
	}
	if ok {
		m.input.SetValue(text)
		m.input.CursorEnd()
	}
}
