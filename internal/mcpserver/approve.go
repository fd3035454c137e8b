package mcpserver

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/duet-company/ops-skill/tools"
)

// approvalKey names the elicitation of a write in the input requests of a
// tool result (the multi round-trip pattern of the MCP SDK).
const approvalKey = "approve"

// session is the gate's state of one client session: one run, so that its
// write budget (agent.max_writes) and the refusal of the same write twice
// span the session, and the approver of that session.
type session struct {
	run      *tools.Run
	approver *elicitApprover
}

// of returns the session of ss, made on its first call and forgotten when
// it ends.
func (s *Server) session(ss *sdk.ServerSession) *session {
	s.sessions.mu.Lock()
	defer s.sessions.mu.Unlock()
	if se, ok := s.sessions.m[ss]; ok {
		return se
	}
	ap := &elicitApprover{canAsk: canElicit(ss), grants: map[string]bool{}}
	se := &session{run: tools.NewRun(0, s.o.Mode, ap, s.o.MaxWrites), approver: ap}
	s.sessions.m[ss] = se
	go func() {
		_ = ss.Wait() // its end is all that matters here
		s.sessions.mu.Lock()
		delete(s.sessions.m, ss)
		s.sessions.mu.Unlock()
	}()
	return se
}

// canElicit reports whether the client of ss said it can be asked (form
// elicitation).
func canElicit(ss *sdk.ServerSession) bool {
	p := ss.InitializeParams()
	if p == nil || p.Capabilities == nil || p.Capabilities.Elicitation == nil {
		return false
	}
	e := p.Capabilities.Elicitation
	return e.Form != nil || e.URL == nil
}

// elicitApprover is the gate's approver of one session. The person answers
// before the gate runs (the client's elicitation); the gate then asks the
// approver about the plan it made, and the answer holds only for the change
// the person was shown: a plan that changed meanwhile was approved by nobody.
type elicitApprover struct {
	canAsk bool
	mu     sync.Mutex
	grants map[string]bool // summary of the change shown → the answer
}

// errNotAsked is the approval failure of a change nobody was shown.
var errNotAsked = errors.New("nobody was asked about this change (the plan differs from the one shown, or the client was not asked): call the tool again to be asked")

func (a *elicitApprover) Interactive() bool { return a.canAsk }

func (a *elicitApprover) Approve(_ context.Context, p tools.Plan) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ok, asked := a.grants[p.Summary]
	if !asked {
		return false, errNotAsked
	}
	delete(a.grants, p.Summary)
	return ok, nil
}

// grant holds the person's answer about summary until the gate asks, or
// until the returned release is called.
func (a *elicitApprover) grant(summary string, ok bool) (release func()) {
	a.mu.Lock()
	a.grants[summary] = ok
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		delete(a.grants, summary)
		a.mu.Unlock()
	}
}

// askResult is the input-required result that asks the person about p.
func (s *Server) askResult(p tools.Preview, call tools.Call) (*sdk.CallToolResult, error) {
	state, err := s.state.sign(approvalState{Tool: string(call.Tool), Args: string(call.Args), Summary: p.Summary})
	if err != nil {
		return nil, err
	}
	return &sdk.CallToolResult{
		InputRequests: sdk.InputRequestMap{approvalKey: &sdk.ElicitParams{
			Mode:            "form",
			Message:         s.approvalMessage(p),
			RequestedSchema: json.RawMessage(`{"type":"object","properties":{}}`),
		}},
		RequestState: state,
	}, nil
}

// approvalMessage says what would change, where, and why the guard allows it.
func (s *Server) approvalMessage(p tools.Preview) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ops-skill wants to %s\non: %s\nguard: %s (%s): %s", p.Summary, s.d.Where, p.Decision.Verdict, p.Decision.Rule, p.Decision.Reason)
	if len(p.Partitions) > 0 {
		fmt.Fprintf(&b, "\npartitions dropped (%d): %s", len(p.Partitions), strings.Join(p.Partitions, ", "))
	}
	b.WriteString("\nAccept to approve this change; decline or cancel refuses it.")
	return b.String()
}

// answer reads the person's answer to the approval of call from a retried
// request: the change they were shown and whether they accepted it. ok is
// false when the request carries no answer of ours for this call.
func (s *Server) answer(req *sdk.CallToolRequest, call tools.Call) (summary string, accepted, ok bool) {
	r, found := req.Params.InputResponses[approvalKey].(*sdk.ElicitResult)
	if !found {
		return "", false, false
	}
	st, err := s.state.verify(req.Params.RequestState)
	if err != nil || st.Tool != string(call.Tool) || st.Args != string(call.Args) {
		return "", false, false
	}
	return st.Summary, r.Action == "accept", true
}

// approvalState is what the server needs back from the client with its
// answer: the change the person was shown, for this call exactly.
type approvalState struct {
	Tool    string `json:"tool"`
	Args    string `json:"args"`
	Summary string `json:"summary"`
}

// stateSigner signs the request state the client echoes back, so that a
// client cannot make up the change it claims to have had approved. The key
// lives as long as the process.
type stateSigner struct{ key []byte }

func newStateSigner() (stateSigner, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return stateSigner{}, fmt.Errorf("mcpserver: request-state key: %w", err)
	}
	return stateSigner{key: k}, nil
}

// errState marks a request state this server did not sign.
var errState = errors.New("request state not signed by this server")

func (s stateSigner) sign(st approvalState) (string, error) {
	body, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("mcpserver: request state: %w", err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(body) + "." + enc.EncodeToString(s.mac(body)), nil
}

func (s stateSigner) verify(v string) (approvalState, error) {
	enc := base64.RawURLEncoding
	b64, m64, ok := strings.Cut(v, ".")
	body, err1 := enc.DecodeString(b64)
	mac, err2 := enc.DecodeString(m64)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac(body)) {
		return approvalState{}, errState
	}
	var st approvalState
	if err := json.Unmarshal(body, &st); err != nil {
		return approvalState{}, fmt.Errorf("%w: %w", errState, err)
	}
	return st, nil
}

func (s stateSigner) mac(body []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write(body)
	return h.Sum(nil)
}
