package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// values is c without its provenance, to compare values alone.
func values(c Config) Config {
	c.prov = provenance{}
	return c
}

// envOf turns a map into an injected environment.
func envOf(m map[string]string) EnvFunc {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// homeEnv returns an environment whose HOME is a fresh temporary directory,
// plus extra variables.
func homeEnv(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{"HOME": t.TempDir()}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// mustLoad loads with env and an optional config file body, failing the test
// on error.
func mustLoad(t *testing.T, env map[string]string, yamlBody string) Config {
	t.Helper()
	cfg, err := loadWith(t, env, yamlBody)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

func loadWith(t *testing.T, env map[string]string, yamlBody string) (Config, error) {
	t.Helper()
	opts := LoadOptions{Env: envOf(env)}
	if yamlBody != "" {
		opts.ConfigFile = writeFile(t, t.TempDir(), "config.yaml", yamlBody)
	}
	return Load(opts)
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// validConfig is Defaults with a state dir, which Validate accepts.
func validConfig(t *testing.T) Config {
	t.Helper()
	c := Defaults()
	c.StateDir = t.TempDir()
	c.Kubernetes.AllowedNamespaces = []string{c.Kubernetes.Namespace}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	return c
}

// validationErrors flattens a (possibly joined) error into its
// *ValidationError leaves.
func validationErrors(err error) []*ValidationError {
	var out []*ValidationError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ve, ok := e.(*ValidationError); ok {
			out = append(out, ve)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		walk(errors.Unwrap(e))
	}
	walk(err)
	return out
}

// requireKeyError asserts err matches ErrInvalid and has a *ValidationError for
// key whose message names key, envVar (when set) and a fix.
func requireKeyError(t *testing.T, err error, key, envVar string) *ValidationError {
	t.Helper()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v does not match ErrInvalid", err)
	}
	for _, ve := range validationErrors(err) {
		if ve.Key != key {
			continue
		}
		msg := ve.Error()
		if !strings.Contains(msg, key) || (envVar != "" && !strings.Contains(msg, "("+envVar+")")) {
			t.Errorf("message %q does not name %s (%s)", msg, key, envVar)
		}
		if ve.EnvVar != envVar {
			t.Errorf("EnvVar = %q, want %q", ve.EnvVar, envVar)
		}
		if ve.Fix == "" {
			t.Errorf("error for %s has no fix: %q", key, msg)
		}
		return ve
	}
	t.Fatalf("no validation error for key %s in: %v", key, err)
	return nil
}
