package serve

import (
	"net/http"
	"time"
)

// mcp serves the MCP endpoint (Deps.MCP) behind the webhook's
// authentication. Its streams outlive the server's read and write timeouts
// (an elicitation waits for a person), so an authenticated request has none.
func (s *Server) mcp(w http.ResponseWriter, r *http.Request) {
	if ok, why := s.auth.check(r); !ok {
		s.log.Warn("mcp refused: not authenticated", "remote", r.RemoteAddr, "why", why)
		w.Header().Set("WWW-Authenticate", s.auth.challenge())
		reply(w, http.StatusUnauthorized, Answer{Error: "authentication required: " + why})
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})  // not every ResponseWriter has deadlines (tests' recorders); the
	_ = rc.SetWriteDeadline(time.Time{}) // server's timeouts then simply stay
	s.d.MCP.ServeHTTP(w, r)
}
