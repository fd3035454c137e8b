package text

import (
	"regexp"
	"sync"
)

// Redacted replaces a secret that RedactSecrets removes.
const Redacted = "[REDACTED]"

// secretPattern finds one kind of secret; keep is the part of the match
// that stays (a key name, a scheme and user), as a regexp template.
type secretPattern struct {
	re   *regexp.Regexp
	keep string
}

// secretPatterns are the shapes of secrets an operator may type or paste:
// key=value pairs whose key names a credential, authorization headers,
// well-known token formats and URLs with a password. They lean towards
// matching: a line wrongly taken for a secret is only not remembered.
func secretPatterns() []secretPattern {
	const key = `(?:token|password|passwd|pwd|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|auth)`
	return []secretPattern{
		// token=…, DB_PASSWORD: …, "client_secret": "…", --api-key=…
		{regexp.MustCompile(`(?i)(\b[a-z0-9_.-]*` + key + `["']?\s*[=:]\s*["']?)[^\s"',;]+`), "${1}" + Redacted},
		// --token abc, --password abc
		{regexp.MustCompile(`(?i)(--[a-z0-9-]*` + key + `\s+)[^\s-]\S*`), "${1}" + Redacted},
		// Authorization: Bearer …, Authorization: Token …, Authorization: …
		{regexp.MustCompile(`(?i)(\bauthorization["']?\s*[=:]\s*(?:(?:bearer|basic|token|digest)\s+)?)[^\s"',;]+`), "${1}" + Redacted},
		// bearer …, Basic … elsewhere
		{regexp.MustCompile(`(?i)(\b(?:bearer|basic)\s+)[a-z0-9._~+/=-]{8,}`), "${1}" + Redacted},
		// scheme://user:password@host
		{regexp.MustCompile(`(?i)(\b[a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+(@)`), "${1}" + Redacted + "${2}"},
		// Model provider keys (sk-…, sk-proj-…, sk-ant-…), GitHub, GitLab, Slack and AWS tokens, JWTs.
		{regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{16,}`), Redacted},
		{regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,})`), Redacted},
		{regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`), Redacted},
		{regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`), Redacted},
		{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`), Redacted},
		// A Slack incoming webhook is a credential in its path.
		{regexp.MustCompile(`(?i)(hooks\.slack\.com/services/)\S+`), "${1}" + Redacted},
	}
}

// secrets compiles the patterns once, on first use: they never change, and
// compiling them for every line would cost more than matching.
var secrets = sync.OnceValue(secretPatterns)

// LooksSecret reports whether s seems to contain a credential: a token,
// password or key given as key=value, an Authorization header, a known token
// format (sk-…, ghp_…, xoxb-…, AKIA…, a JWT) or a URL with a password
// (scheme://user:pass@host).
func LooksSecret(s string) bool {
	for _, p := range secrets() {
		if p.re.MatchString(s) {
			return true
		}
	}
	return false
}

// RedactSecrets replaces each credential LooksSecret finds in s with
// [REDACTED], keeping the key or scheme around it so the text still reads.
func RedactSecrets(s string) string {
	out, _ := CountRedactions(s)
	return out
}

// CountRedactions is RedactSecrets that also says how many credentials it
// replaced.
func CountRedactions(s string) (string, int) {
	n := 0
	for _, p := range secrets() {
		s = p.re.ReplaceAllStringFunc(s, func(m string) string {
			n++
			return p.re.ReplaceAllString(m, p.keep)
		})
	}
	return s, n
}
