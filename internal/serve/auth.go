package serve

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
)

// Auth says who may post alerts: a bearer token, HTTP basic credentials, or
// both (either is accepted). Anonymous requests are refused unless
// AllowAnonymous is set; wrong credentials are refused even then. Values are
// compared in constant time and never logged.
type Auth struct {
	Token          string
	Username       string
	Password       string
	AllowAnonymous bool
}

// String never shows the secrets.
func (a Auth) String() string {
	var parts []string
	if a.Token != "" {
		parts = append(parts, "bearer token")
	}
	if a.Username != "" {
		parts = append(parts, "basic auth")
	}
	if a.AllowAnonymous {
		parts = append(parts, "anonymous allowed")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Validate refuses a server anybody could drive without saying so.
func (a Auth) Validate() error {
	switch {
	case (a.Username == "") != (a.Password == ""):
		return fmt.Errorf("%w: basic auth needs both a username and a password", ErrConfig)
	case strings.ContainsRune(a.Username, ':'):
		return fmt.Errorf("%w: a basic-auth username cannot contain ':'", ErrConfig)
	case a.Token == "" && a.Username == "" && !a.AllowAnonymous:
		return fmt.Errorf("%w: no credentials configured: give a bearer token or basic-auth credentials (from a file), or allow anonymous requests explicitly", ErrConfig)
	}
	return nil
}

// authenticator checks requests against digests of the configured secrets,
// so that comparisons take the same time whatever the length of the guess.
type authenticator struct {
	token      [32]byte
	hasToken   bool
	user, pass [32]byte
	hasBasic   bool
	anonymous  bool
}

func newAuthenticator(a Auth) authenticator {
	return authenticator{
		token: sha256.Sum256([]byte(a.Token)), hasToken: a.Token != "",
		user: sha256.Sum256([]byte(a.Username)), pass: sha256.Sum256([]byte(a.Password)), hasBasic: a.Username != "",
		anonymous: a.AllowAnonymous,
	}
}

// check reports whether r may post, and why not.
func (au authenticator) check(r *http.Request) (bool, string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if au.anonymous {
			return true, ""
		}
		return false, "missing credentials"
	}
	scheme, value, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer") && au.hasToken:
		got := sha256.Sum256([]byte(strings.TrimSpace(value)))
		if subtle.ConstantTimeCompare(got[:], au.token[:]) == 1 {
			return true, ""
		}
		return false, "wrong bearer token"
	case strings.EqualFold(scheme, "Basic") && au.hasBasic:
		user, pass, ok := r.BasicAuth()
		if !ok {
			return false, "malformed basic credentials"
		}
		u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
		if subtle.ConstantTimeCompare(u[:], au.user[:])&subtle.ConstantTimeCompare(p[:], au.pass[:]) == 1 {
			return true, ""
		}
		return false, "wrong basic credentials"
	}
	return false, "unsupported authorization scheme"
}

// challenge is the WWW-Authenticate header of a 401 answer.
func (au authenticator) challenge() string {
	var c []string
	if au.hasToken {
		c = append(c, `Bearer realm="ops-skill"`)
	}
	if au.hasBasic {
		c = append(c, `Basic realm="ops-skill"`)
	}
	if len(c) == 0 {
		return `Bearer realm="ops-skill"`
	}
	return strings.Join(c, ", ")
}
