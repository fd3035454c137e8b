package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/recall"
	"github.com/duet-company/ops-skill/internal/store"
	"github.com/duet-company/ops-skill/internal/text"
)

const (
	// chatHistoryFile is the input history's file in the state directory.
	chatHistoryFile = "chat-history"
	// chatHistoryLimit is how many requests the input history keeps.
	chatHistoryLimit = 500
	// saveTimeout bounds saving a turn, which runs even after Ctrl-C so that
	// --resume sees the cancelled turn too.
	saveTimeout = 5 * time.Second
)

// chatMemory is what a conversation keeps beyond its process: the requests
// typed (the input history file, recalled with ↑) and the conversation
// itself (in the history store, for --resume).
type chatMemory struct {
	hist   *recall.File // nil: requests are not kept (read from a pipe, or the file is unreadable)
	st     *store.Store // nil: the conversation is not saved
	env    string
	id     int64 // the saved conversation this session continues; 0 until its first save
	warned map[string]bool
}

// openChatMemory opens the input history of stateDir when the requests are
// typed on a terminal. A history that cannot be read is a warning, not a
// failure: the conversation goes on without it.
func openChatMemory(rt *Runtime, stateDir string, typed bool) (*chatMemory, error) {
	m := &chatMemory{st: rt.Store, env: rt.Env, warned: map[string]bool{}}
	if !typed {
		return m, nil
	}
	h, err := recall.Open(filepath.Join(stateDir, chatHistoryFile), chatHistoryLimit)
	if err != nil {
		return m, fmt.Errorf("requests typed are not kept: %w", err)
	}
	m.hist = h
	return m, nil
}

// entries are the requests of earlier sessions, oldest first.
func (m *chatMemory) entries() []string {
	if m.hist == nil {
		return nil
	}
	return m.hist.Entries()
}

// prior is the conversation to continue: with resume, the last one saved on
// this platform (where names it). nil starts a new one; notice says what was
// resumed, or why nothing was. An error means the history could not be read.
func (m *chatMemory) prior(ctx context.Context, resume bool, where string) (t *agent.Transcript, notice string, err error) {
	if !resume {
		return nil, "", nil
	}
	if m.st == nil {
		return nil, "ops-skill: no history to resume from: starting a new conversation", nil
	}
	rec, err := m.st.LastConversation(ctx, m.env)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Sprintf("ops-skill: no earlier conversation on %s to resume: starting a new one", where), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("resume the last conversation: %w", err)
	}
	tr, err := agent.ParseTranscript(rec.Transcript)
	if err != nil {
		return nil, fmt.Sprintf("ops-skill: the last conversation on %s cannot be resumed (%v): starting a new one", where, err), nil
	}
	m.id = rec.ID
	return &tr, resumedNotice(rec.UpdatedAt, tr), nil
}

// conversation starts the session's conversation on ag: a new one, or the
// continuation of t.
func conversation(ag *agent.Agent, t *agent.Transcript) (*agent.Conversation, error) {
	if t == nil {
		return ag.NewConversation(), nil
	}
	conv, err := ag.ResumeConversation(*t)
	if err != nil {
		return nil, fmt.Errorf("resume the last conversation: %w", err)
	}
	return conv, nil
}

// resumedNotice is the first line of a resumed conversation: when it was
// last saved, how many turns it has and what it is about.
func resumedNotice(at time.Time, t agent.Transcript) string {
	turns := "turns"
	if len(t.Turns) == 1 {
		turns = "turn"
	}
	s := fmt.Sprintf("Resumed conversation from %s (%d %s)", at.UTC().Format(time.RFC3339), len(t.Turns), turns)
	if n := len(t.Turns); n > 0 && t.Turns[n-1].Subject.Name != "" {
		s += " · about " + t.Turns[n-1].Subject.String()
	}
	return s
}

// remember adds a request typed to the input history. Only its first
// failure is reported.
func (m *chatMemory) remember(line string) error {
	if m.hist == nil {
		return nil
	}
	if _, err := m.hist.Add(line); err != nil {
		return m.once("history", fmt.Errorf("requests typed are not kept: %w", err))
	}
	return nil
}

// save writes the conversation after a turn, secrets redacted, even when ctx
// was cancelled during the turn. Only its first failure is reported.
func (m *chatMemory) save(ctx context.Context, conv *agent.Conversation) error {
	if m.st == nil || conv.Turns() == 0 {
		return nil
	}
	raw, err := json.Marshal(conv.Save().MapText(text.RedactSecrets))
	if err != nil {
		return m.once("save", fmt.Errorf("the conversation is not saved (chat --resume will not see it): %w", err))
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	rec := store.ConversationRecord{ID: m.id, Env: m.env, Turns: conv.Turns(), Transcript: raw}
	id, err := m.st.SaveConversation(ctx, rec)
	if errors.Is(err, store.ErrNotFound) && rec.ID != 0 { // forgotten meanwhile, by newer conversations: save it anew
		rec.ID = 0
		id, err = m.st.SaveConversation(ctx, rec)
	}
	if err != nil {
		return m.once("save", fmt.Errorf("the conversation is not saved (chat --resume will not see it): %w", err))
	}
	m.id = id
	return nil
}

// once returns err the first time for its kind, nil after.
func (m *chatMemory) once(kind string, err error) error {
	if m.warned[kind] {
		return nil
	}
	m.warned[kind] = true
	return err
}
