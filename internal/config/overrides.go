package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Change is one value changed by ApplyUpdates, for the history record and the
// transcript. Key is the full YAML path (e.g. "auto_scaling.scale_up_threshold");
// Old and New are the values as they are written in YAML ("80", "15m").
type Change struct {
	Key string
	Old string
	New string
}

// Shadow reports that an environment variable outranks a persisted override:
// the override is saved, but the environment value wins on the next Load.
type Shadow struct {
	Key    string // full YAML path
	EnvVar string // the variable that is set
}

// updateSource names --update-threshold as the source of a bad value.
const updateSource = "--update-threshold"

// OverridesFile returns the path of the overrides file in stateDir.
func OverridesFile(stateDir string) string { return filepath.Join(stateDir, OverridesFileName) }

// OverridableKeys lists every key --update-threshold accepts: each short name
// (scale_up.cpu, …) followed by the full YAML path it stands for.
func OverridableKeys() []string {
	var out []string
	for _, f := range fields() {
		if !f.override {
			continue
		}
		if f.alias != "" && f.alias != f.key {
			out = append(out, f.alias)
		}
		out = append(out, f.key)
	}
	return out
}

// overridableKeys lists the full YAML paths that may be overridden.
func overridableKeys() []string {
	var out []string
	for _, f := range fields() {
		if f.override {
			out = append(out, f.key)
		}
	}
	return out
}

// ParseAssignment splits "key=value", resolves key (a short name such as
// "scale_up.cpu" or a full YAML path, optionally prefixed "operations.") and
// returns the full YAML path and the trimmed value. The value is not parsed
// here; ApplyUpdates does that.
func ParseAssignment(s string) (key, value string, err error) {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "operations.")
	value = strings.TrimSpace(value)
	if !ok || name == "" || value == "" {
		return "", "", &ValidationError{Key: quoteIfNeeded(s), Problem: "is not a key=value assignment",
			Fix: "write it as key=value, e.g. scale_up.cpu=85", Source: updateSource}
	}
	for _, f := range fields() {
		if f.override && (name == f.key || name == f.alias) {
			return f.key, value, nil
		}
	}
	return "", "", &ValidationError{Key: name, Problem: "is not a threshold that can be updated",
		Fix: "use one of: " + strings.Join(OverridableKeys(), ", "), Source: updateSource}
}

// ApplyUpdates applies "key=value" assignments to a copy of cfg and validates
// the whole resulting configuration. On any error (malformed assignment,
// unknown key, bad value, a key given twice, or a policy violation such as
// scale_down >= scale_up or min > max) it returns cfg unchanged, no changes and
// an error matching ErrInvalid. Changes are returned in assignment order and
// include assignments that leave the value as it was (Old == New).
func ApplyUpdates(cfg Config, assignments []string) (Config, []Change, error) {
	next := cfg
	next.Kubernetes.AllowedNamespaces = slices.Clone(cfg.Kubernetes.AllowedNamespaces)
	var (
		changes []Change
		errs    []error
		seen    = map[string]string{}
	)
	for _, a := range assignments {
		key, value, err := ParseAssignment(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[key]; dup {
			e := invalid(key, "", fmt.Sprintf("is given twice (%s and %s)", prev, a), "give each threshold once")
			e.Source = updateSource
			errs = append(errs, e)
			continue
		}
		seen[key] = a
		f, _ := lookupField(key)
		old := f.format(&next)
		if err := f.setString(&next, value); err != nil {
			errs = append(errs, withSource(f, value, err, updateSource))
			continue
		}
		changes = append(changes, Change{Key: key, Old: old, New: f.format(&next)})
	}
	if len(errs) == 0 {
		err := next.Validate()
		fromUpdate(err, changes)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, nil, err
	}
	for _, c := range changes {
		next.setSource(c.Key, SourceOverride)
	}
	return next, changes, nil
}

// fromUpdate names --update-threshold as the source of the validation errors
// about the keys it changed.
func fromUpdate(err error, changes []Change) {
	switch e := err.(type) {
	case *ValidationError:
		for _, c := range changes {
			if c.Key == e.Key && e.Source == "" {
				e.Source = updateSource
			}
		}
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			fromUpdate(x, changes)
		}
	}
}

// withSource turns a parse failure of field f into a *ValidationError.
func withSource(f field, value string, err error, source string) error {
	var pe *parseError
	if !errors.As(err, &pe) {
		return err
	}
	e := invalid(f.key, value, pe.problem, pe.fix)
	e.Source = source
	return e
}

// EnvShadows reports which of changes are masked by a set, non-empty
// environment variable: Load gives environment variables precedence over the
// overrides file, so the CLI should warn that the saved value will not take
// effect while the variable is set. None of the overridable keys has a flag.
func EnvShadows(env EnvFunc, changes []Change) []Shadow {
	var out []Shadow
	for _, c := range changes {
		f, ok := lookupField(c.Key)
		if !ok || f.env == "" {
			continue
		}
		if v, set := env(f.env); set && strings.TrimSpace(v) != "" {
			out = append(out, Shadow{Key: c.Key, EnvVar: f.env})
		}
	}
	return out
}

// SaveOverrides merges changes into <stateDir>/thresholds.yaml, creating the
// directory (0700) when needed. The file is replaced atomically (temporary file
// + rename, mode 0600) under an exclusive lock, so concurrent invocations
// neither corrupt it nor lose each other's updates. Only overridable keys with
// values that parse are accepted.
func SaveOverrides(stateDir string, changes []Change) error {
	if stateDir == "" {
		var c Config
		return invalid(keyAt(&c, &c.StateDir), "", "is empty", "set OPS_SKILL_STATE_DIR or --state-dir")
	}
	for _, c := range changes {
		f, ok := lookupField(c.Key)
		if !ok || !f.override {
			return &ValidationError{Key: c.Key, Problem: "is not a threshold that can be updated",
				Fix: "use one of: " + strings.Join(overridableKeys(), ", ")}
		}
		if err := f.setString(&Config{}, c.New); err != nil {
			return withSource(f, c.New, err, "")
		}
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	path := OverridesFile(stateDir)
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	defer unlock()
	values, err := readOverrideValues(stateDir)
	if err != nil {
		return err
	}
	for _, c := range changes {
		values[c.Key] = c.New
	}
	data, err := encodeOverrides(values)
	if err != nil {
		return err
	}
	return writeAtomic(path, data, 0o600)
}

// readOverrides reads <stateDir>/thresholds.yaml; a missing file yields nil.
// Values are not ${VAR}-expanded: the file is written by SaveOverrides.
func readOverrides(stateDir string) (*layer, error) {
	if stateDir == "" {
		return nil, nil
	}
	path := OverridesFile(stateDir)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: overrides file: %w", ErrInvalid, err)
	}
	return parseYAML(data, "overrides file "+path, SourceOverride, nil, func(f field) bool { return f.override })
}

// readOverrideValues returns the current overrides as key -> value.
func readOverrideValues(stateDir string) (map[string]string, error) {
	l, err := readOverrides(stateDir)
	if err != nil {
		return nil, err
	}
	values := map[string]string{}
	if l == nil {
		return values, nil
	}
	for key := range l.keys {
		section, name, _ := strings.Cut(key, ".")
		if sub, ok := l.tree[section].(map[string]any); ok {
			values[key], _ = toScalar(sub[name])
		}
	}
	return values, nil
}

// encodeOverrides renders values in the operations: shape, in field order.
func encodeOverrides(values map[string]string) ([]byte, error) {
	var c Config
	b := newTreeBuilder()
	for _, f := range fields() {
		v, ok := values[f.key]
		if !ok {
			continue
		}
		if err := f.setString(&c, v); err != nil {
			return nil, withSource(f, v, err, "")
		}
		b.add(f.key, scalarNode(f, f.format(&c)), "")
	}
	doc := b.document()
	doc.HeadComment = "Written by ops-skill --update-threshold. These values override the config file;\n" +
		"environment variables and flags still take precedence."
	var buf bytes.Buffer
	if err := encodeYAML(&buf, doc); err != nil {
		return nil, fmt.Errorf("encode overrides: %w", err)
	}
	return buf.Bytes(), nil
}

// writeAtomic writes data to a temporary file in the same directory and
// renames it over path.
func writeAtomic(path string, data []byte, perm os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err == nil {
		if _, err = tmp.Write(data); err == nil {
			err = tmp.Sync()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
