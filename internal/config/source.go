package config

import (
	"errors"
	"maps"
	"slices"
)

// Source says where the value of a configuration key came from.
type Source int

// The sources, lowest precedence first as Load applies them, except
// SourceKubeconfig: the composition root sets it (SetFrom,
// UseKubeconfigNamespace) after it resolves the kubeconfig context, and it
// fills only what nothing else set.
const (
	SourceDefault    Source = iota // built in
	SourceFile                     // the config file (--config or the default path)
	SourceOverride                 // <state dir>/thresholds.yaml, written by --update-threshold
	SourceEnv                      // an environment variable
	SourceFlag                     // a command-line flag
	SourceKubeconfig               // the kubeconfig context (its namespace)
)

// String names the source as config show prints it.
func (s Source) String() string {
	switch s {
	case SourceDefault:
		return "default"
	case SourceFile:
		return "file"
	case SourceOverride:
		return "override"
	case SourceEnv:
		return "env"
	case SourceFlag:
		return "flag"
	case SourceKubeconfig:
		return "kubeconfig"
	}
	return "unknown"
}

// MarshalText encodes the name, so JSON maps of sources read "env", not 3.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// FileRole says what a configuration file is for.
type FileRole string

// The files Load looks for.
const (
	FileConfig    FileRole = "config"    // the config file
	FileOverrides FileRole = "overrides" // thresholds.yaml in the state directory
)

// File is one configuration file Load looked for.
type File struct {
	Role FileRole `json:"role"`
	Path string   `json:"path"` // "" when there was none to look for
	Read bool     `json:"read"` // it existed and was read
}

// provenance records where a Config's values came from. A Config built
// without Load (Defaults, a test literal) has none: every value is a default.
// Copies of a Config share the map, so it is replaced, never written, after
// Load (see setSource).
type provenance struct {
	sources map[string]Source
	files   []File
	// allowedFollows is set while kubernetes.allowed_namespaces was derived
	// from kubernetes.namespace rather than set: it follows a new namespace.
	allowedFollows bool
}

// Source returns where the value of key (a YAML path such as
// "kubernetes.namespace") came from; unknown keys and values never set are
// SourceDefault.
func (c Config) Source(key string) Source { return c.prov.sources[key] }

// Files lists the configuration files Load looked for, config file first.
func (c Config) Files() []File { return slices.Clone(c.prov.files) }

// setSource records src for key on a copy of the map, leaving other Configs
// that share it untouched.
func (c *Config) setSource(key string, src Source) {
	m := maps.Clone(c.prov.sources)
	if m == nil {
		m = map[string]Source{}
	}
	m[key] = src
	c.prov.sources = m
}

// SetFrom sets key (a YAML path) to value as if src had set it, and records
// src as its source. The value is parsed and checked by the rules Load
// applies to that key; on error, which matches ErrInvalid, c is unchanged.
// Setting kubernetes.namespace also moves allowed_namespaces when that was
// derived from the namespace rather than set.
//
// SetFrom sets the value whatever its current source; use
// UseKubeconfigNamespace for the kubeconfig context's namespace, which must
// not override an explicit setting.
func (c *Config) SetFrom(key, value string, src Source) error {
	f, ok := lookupField(key)
	if !ok {
		return &ValidationError{Key: key, Problem: "is not a known key", Source: src.String()}
	}
	next := *c
	if err := f.setString(&next, value); err != nil {
		return withSource(f, value, err, src.String())
	}
	next.setSource(key, src)
	allowed := &next.Kubernetes.AllowedNamespaces
	if f.at(&next, allowed) {
		next.prov.allowedFollows = false
	}
	keys := []string{key}
	if f.at(&next, &next.Kubernetes.Namespace) && (next.prov.allowedFollows || len(*allowed) == 0) {
		next.prov.allowedFollows = true
		*allowed = []string{next.Kubernetes.Namespace}
		allowedKey := keyAt(&next, allowed)
		next.setSource(allowedKey, src)
		keys = append(keys, allowedKey)
	}
	if err := errorsAbout(next.Validate(), keys, src); err != nil {
		return err
	}
	*c = next
	return nil
}

// UseKubeconfigNamespace makes ns, the namespace of the kubeconfig context,
// the namespace of the run when no flag, environment variable, config file or
// override set one, as kubectl does. It reports whether ns was applied; an
// empty ns is never applied.
func (c *Config) UseKubeconfigNamespace(ns string) (bool, error) {
	key := keyAt(c, &c.Kubernetes.Namespace)
	if ns == "" || c.Source(key) != SourceDefault {
		return false, nil
	}
	if err := c.SetFrom(key, ns, SourceKubeconfig); err != nil {
		return false, err
	}
	return true, nil
}

// errorsAbout keeps the validation errors about keys, naming src.
func errorsAbout(err error, keys []string, src Source) error {
	var out []error
	for _, e := range flatten(err) {
		var ve *ValidationError
		if errors.As(e, &ve) && slices.Contains(keys, ve.Key) {
			ve.Source = src.String()
			out = append(out, ve)
		}
	}
	return errors.Join(out...)
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// origin is how config show labels the source of key: the source, with the
// variable or flag that set it.
func (c Config) origin(f field) string {
	if f.unused {
		return c.sourceWord(f) + "; no tool uses it yet"
	}
	return c.sourceWord(f)
}

func (c Config) sourceWord(f field) string {
	if c.prov.allowedFollows && f.at(&c, &c.Kubernetes.AllowedNamespaces) {
		return "= namespace (" + c.origin(fieldAt(fields(), &c, &c.Kubernetes.Namespace)) + ")"
	}
	switch src := c.Source(f.key); {
	case src == SourceEnv && f.env != "":
		return "env " + f.env
	case src == SourceFlag && f.flag != "":
		return "flag --" + f.flag
	default:
		return src.String()
	}
}
