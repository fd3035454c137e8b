package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/store"
)

// chat runs `ops-skill chat ARGS` with the lines on standard input.
func (h *harness) chat(lines string, args ...string) int {
	h.t.Helper()
	h.stdin = lines
	return h.run(append([]string{"chat"}, args...)...)
}

// lastConversation reads the conversation the chat saved last on the simulated platform.
func (h *harness) lastConversation() (store.ConversationRecord, agent.Transcript) {
	h.t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(h.env["OPS_SKILL_STATE_DIR"], "history.db"), h.clock)
	if err != nil {
		h.t.Fatal(err)
	}
	defer st.Close()
	rec, err := st.LastConversation(context.Background(), store.EnvSimulated)
	if err != nil {
		h.t.Fatalf("no conversation saved: %v", err)
	}
	tr, err := agent.ParseTranscript(rec.Transcript)
	if err != nil {
		h.t.Fatal(err)
	}
	return rec, tr
}

// A second `chat --resume` continues the first session's conversation: its
// "why?" is about the workload the first session asked about, and it is the
// conversation's second turn. Without --resume the same "why?" starts over.
func TestChatResumeContinuesTheLastConversation(t *testing.T) {
	h := newHarness(t)
	if code := h.chat("status of backend\n", "--simulate"); code != cli.ExitOK {
		t.Fatalf("first session: exit %d\n%s", code, h.errOut.String())
	}
	if strings.Contains(h.errOut.String(), "Resumed") {
		t.Errorf("a session without --resume says it resumed:\n%s", h.errOut.String())
	}
	h.clock.Step(time.Hour)

	if code := h.chat("why?\n", "--simulate", "--resume"); code != cli.ExitOK {
		t.Fatalf("resumed session: exit %d\n%s", code, h.errOut.String())
	}
	first, _, _ := strings.Cut(h.errOut.String(), "\n")
	if want := "Resumed conversation from 2026-02-16T10:00:00Z (1 turn) · about ai-data-labs/backend"; first != want {
		t.Errorf("first line on stderr = %q, want %q", first, want)
	}
	rec, tr := h.lastConversation()
	if rec.Turns != 2 || len(tr.Turns) != 2 || tr.Turns[0].Request != "status of backend" || tr.Turns[1].Request != "why?" {
		t.Fatalf("the resumed session did not continue the conversation: %d turns %+v", rec.Turns, tr.Turns)
	}
	if s := tr.Turns[1].Subject; s.Name != "backend" {
		t.Errorf("\"why?\" after --resume is about %q, want backend (the first session's subject)", s)
	}

	if code := h.chat("why?\n", "--simulate"); code != cli.ExitOK {
		t.Fatalf("new session: exit %d\n%s", code, h.errOut.String())
	}
	if rec, tr := h.lastConversation(); rec.Turns != 1 || tr.Turns[0].Subject.Name != "" {
		t.Errorf("a session without --resume continued the last one: %d turns, subject %q", rec.Turns, tr.Turns[0].Subject)
	}
}

func TestChatResumeWithoutAnEarlierConversationStartsANewOne(t *testing.T) {
	h := newHarness(t)
	if code := h.chat("", "--simulate", "--resume"); code != cli.ExitOK {
		t.Fatalf("exit %d, want 0\n%s", code, h.errOut.String())
	}
	if want := "no earlier conversation on the simulated platform to resume: starting a new one"; !strings.Contains(h.errOut.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, h.errOut.String())
	}
	if code := h.chat("status of frontend\n", "--simulate", "--resume"); code != cli.ExitOK {
		t.Fatalf("exit %d\n%s", code, h.errOut.String())
	}
	if rec, _ := h.lastConversation(); rec.Turns != 1 {
		t.Errorf("the new conversation has %d turns, want 1", rec.Turns)
	}
}

// typed runs chat with standard input as a terminal (and standard error
// not, so the plain mode reads the lines).
func (h *harness) typed(lines string, args ...string) int {
	h.t.Helper()
	h.out.Reset()
	h.errOut.Reset()
	io := cli.Test(strings.NewReader(lines), &h.out, &h.errOut)
	io.InTTY = true
	d := deps{io: io, env: h.lookup, clock: h.clock, newLLM: h.noLLM}
	return Run(context.Background(), d, append([]string{"chat"}, args...))
}

// Requests typed are kept in the state directory's chat-history, privately,
// without the lines that hold a secret; the saved conversation has the
// secret redacted; lines read from a pipe are not kept.
func TestChatKeepsTypedRequestsWithoutSecrets(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(h.env["OPS_SKILL_STATE_DIR"], "chat-history")
	if code := h.chat("status of frontend\n", "--simulate"); code != cli.ExitOK {
		t.Fatalf("exit %d\n%s", code, h.errOut.String())
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("piped requests were kept: %v", err)
	}

	if code := h.typed("status of backend\nstatus of backend token=abc123def\nexit\n", "--simulate"); code != cli.ExitOK {
		t.Fatalf("exit %d\n%s", code, h.errOut.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "status of backend\n" {
		t.Errorf("chat-history = %q, want only the request without a secret", b)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("chat-history mode = %v, %v; want 0600", fi.Mode(), err)
	}
	rec, tr := h.lastConversation()
	if bytes.Contains(rec.Transcript, []byte("abc123def")) || len(tr.Turns) != 2 || tr.Turns[1].Request != "status of backend token=[REDACTED]" {
		t.Errorf("the saved conversation holds the secret, or lacks the turn: %s", rec.Transcript)
	}
}

// A conversation saved by a newer ops-skill is not resumed: the chat says
// why and starts a new one.
func TestChatResumeOfAnUnreadableConversationStartsANewOne(t *testing.T) {
	h := newHarness(t)
	st, err := store.Open(context.Background(), filepath.Join(h.env["OPS_SKILL_STATE_DIR"], "history.db"), h.clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveConversation(context.Background(), store.ConversationRecord{Env: store.EnvSimulated, Turns: 1,
		Transcript: []byte(`{"version":99,"turns":[{"request":"from the future"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if code := h.chat("status of backend\n", "--simulate", "--resume"); code != cli.ExitOK {
		t.Fatalf("exit %d\n%s", code, h.errOut.String())
	}
	if want := "the last conversation on the simulated platform cannot be resumed"; !strings.Contains(h.errOut.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, h.errOut.String())
	}
	if rec, tr := h.lastConversation(); rec.Turns != 1 || tr.Turns[0].Request != "status of backend" {
		t.Errorf("the new conversation: %d turns %+v", rec.Turns, tr.Turns)
	}
}
