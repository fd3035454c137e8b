package config

import (
	"errors"
	"strings"
)

// EnvFunc looks up an environment variable; os.LookupEnv has this signature.
type EnvFunc func(name string) (string, bool)

// errExpand is returned for a malformed ${…} reference.
var errExpand = errors.New("malformed ${…} reference")

// expand replaces ${VAR} and ${VAR:-default} in s using env. An unset ${VAR}
// expands to "" (the key then counts as not set); ${VAR:-default} uses default
// when VAR is unset or empty. "$${" yields a literal "${". Any other "$" is kept.
func expand(s string, env EnvFunc) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' { // "$${" escapes a literal "${"
			b.WriteString(s[:i-1] + "${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", errExpand
		}
		val, err := resolveRef(s[i+2:i+end], env)
		if err != nil {
			return "", err
		}
		b.WriteString(val)
		s = s[i+end+1:]
	}
}

// resolveRef resolves the inside of one ${…}: NAME or NAME:-default.
func resolveRef(ref string, env EnvFunc) (string, error) {
	name, def, hasDefault := strings.Cut(ref, ":-")
	if !validEnvName(name) {
		return "", errExpand
	}
	val, ok := env(name)
	if hasDefault && (!ok || val == "") {
		return def, nil
	}
	return val, nil
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		letter := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}
