package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// LoadOptions says where Load finds its inputs.
type LoadOptions struct {
	// ConfigFile is the explicit --config path; it must exist. When empty,
	// $XDG_CONFIG_HOME/ops-skill/config.yaml (or ~/.config/ops-skill/config.yaml)
	// is read if it exists.
	ConfigFile string
	// Env looks up environment variables; the application passes os.LookupEnv,
	// tests a map. Nil means an empty environment.
	Env EnvFunc
	// Flags, when not nil, supplies the flags that were set on the command line:
	// namespace, kubeconfig, context, mode, planner and state-dir. Flags that
	// were not Changed are ignored, so their defaults never mask other sources.
	Flags *pflag.FlagSet
}

// OverridesFileName is the file, in the state directory, where
// --update-threshold persists its values.
const OverridesFileName = "thresholds.yaml"

// Load builds the effective configuration. Precedence, highest first: flags,
// environment, the overrides file (<state dir>/thresholds.yaml), the config
// file, defaults. Empty values (an unset ${VAR}, an empty env var) count as not
// set. Parse errors, unknown keys and a missing explicit --config return an
// error matching ErrInvalid and a zero Config. When values parse but the
// policy is inconsistent, Load returns the decoded Config together with the
// Validate error, so that `config show` can still display it.
func Load(opts LoadOptions) (Config, error) {
	l := &loader{env: opts.Env}
	if l.env == nil {
		l.env = func(string) (string, bool) { return "", false }
	}
	if err := l.read(opts); err != nil {
		return Config{}, err
	}
	defaults := Defaults()
	defaults.StateDir = DefaultStateDir(l.env)

	// The state dir, which locates the overrides file, cannot itself be
	// overridden, so a first pass without overrides resolves it.
	first, err := l.decode(l.viper(defaults, nil), defaults, nil)
	if err != nil {
		return Config{}, err
	}
	overrides, err := readOverrides(first.StateDir)
	if err != nil {
		return Config{}, err
	}
	cfg, err := l.decode(l.viper(defaults, overrides), defaults, overrides)
	if err != nil {
		return Config{}, err
	}
	cfg.prov = l.provenance(cfg, overrides, first.StateDir)
	err = cfg.Validate()
	l.annotate(err, overrides)
	return cfg, err
}

// loader holds the sources of one Load.
type loader struct {
	env        EnvFunc
	file       *layer
	envs       *layer
	flags      map[string]*pflag.Flag // key -> changed flag
	configFile File                   // the config file looked for
}

func (l *loader) read(opts LoadOptions) error {
	file, err := l.readConfigFile(opts.ConfigFile)
	if err != nil {
		return err
	}
	l.file = file
	l.envs = newLayer("environment", SourceEnv)
	l.flags = map[string]*pflag.Flag{}
	for _, f := range fields() {
		if f.env != "" {
			if v, ok := l.env(f.env); ok && strings.TrimSpace(v) != "" {
				l.envs.set(f.key, v)
			}
		}
		if opts.Flags == nil || f.flag == "" {
			continue
		}
		if fl := opts.Flags.Lookup(f.flag); fl != nil && fl.Changed {
			l.flags[f.key] = fl
		}
	}
	return nil
}

// readConfigFile reads the explicit or the default config file; a missing
// default file is not an error.
func (l *loader) readConfigFile(explicit string) (*layer, error) {
	path := expandHome(explicit, l.env)
	if path == "" {
		path = DefaultConfigFile(l.env)
	}
	l.configFile = File{Role: FileConfig, Path: path}
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if explicit == "" && errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: config file: %w", ErrInvalid, err)
	}
	l.configFile = File{Role: FileConfig, Path: path, Read: true}
	return parseYAML(data, "config file "+path, SourceFile, l.env, func(field) bool { return true })
}

// viper builds a fresh viper with every source in precedence order.
func (l *loader) viper(defaults Config, overrides *layer) *viper.Viper {
	v := viper.New()
	for _, f := range fields() {
		if s := f.format(&defaults); s != "" {
			v.SetDefault(f.key, s)
		}
	}
	for _, src := range []*layer{l.file, overrides, l.envs} {
		if src != nil {
			_ = v.MergeConfigMap(src.clone()) // never fails
		}
	}
	for key, fl := range l.flags {
		_ = v.BindPFlag(key, fl) // fails only for a nil flag
	}
	return v
}

// decode parses every key from v into a Config, naming the key and the source
// of each bad value.
func (l *loader) decode(v *viper.Viper, defaults Config, overrides *layer) (Config, error) {
	cfg := defaults
	var errs []error
	for _, f := range fields() {
		raw := v.Get(f.key)
		if raw == nil {
			continue
		}
		if err := f.set(&cfg, raw); err != nil {
			errs = append(errs, l.parseFailure(f, raw, err, overrides))
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	cfg.Kubernetes.Kubeconfig = expandKubeconfig(cfg.Kubernetes.Kubeconfig, l.env)
	cfg.StateDir = expandHome(cfg.StateDir, l.env)
	if cfg.LLM.Provider == "none" {
		cfg.LLM.Provider = ""
	}
	if len(cfg.Kubernetes.AllowedNamespaces) == 0 && cfg.Kubernetes.Namespace != "" {
		cfg.Kubernetes.AllowedNamespaces = []string{cfg.Kubernetes.Namespace}
	}
	return cfg, nil
}

func (l *loader) parseFailure(f field, raw any, err error, overrides *layer) error {
	var pe *parseError
	if !errors.As(err, &pe) {
		return err
	}
	s, _ := toScalar(raw)
	e := invalid(f.key, s, pe.problem, pe.fix)
	e.Source = l.sourceOf(f.key, overrides)
	return e
}

// annotate fills in the Source of validation errors from the layers.
func (l *loader) annotate(err error, overrides *layer) {
	switch e := err.(type) {
	case *ValidationError:
		if src := l.sourceOf(e.Key, overrides); e.Source == "" && src != "default" {
			e.Source = src
		}
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			l.annotate(x, overrides)
		}
	}
}

// sourceOf names the highest-precedence source that sets key.
func (l *loader) sourceOf(key string, overrides *layer) string {
	if fl, ok := l.flags[key]; ok {
		return "flag --" + fl.Name
	}
	if src := l.layerOf(key, overrides); src != nil {
		return src.origin
	}
	return "default"
}

// layerOf returns the highest-precedence layer that sets key, or nil.
func (l *loader) layerOf(key string, overrides *layer) *layer {
	for _, src := range []*layer{l.envs, overrides, l.file} {
		if src != nil && src.keys[key] {
			return src
		}
	}
	return nil
}

// kindOf is the Source of key's value.
func (l *loader) kindOf(key string, overrides *layer) Source {
	if _, ok := l.flags[key]; ok {
		return SourceFlag
	}
	if src := l.layerOf(key, overrides); src != nil {
		return src.kind
	}
	return SourceDefault
}

// provenance records the source of every key and the files looked for. An
// allowlist derived from the namespace has the namespace's source.
func (l *loader) provenance(cfg Config, overrides *layer, stateDir string) provenance {
	p := provenance{sources: map[string]Source{}}
	for _, f := range fields() {
		if src := l.kindOf(f.key, overrides); src != SourceDefault {
			p.sources[f.key] = src
		}
	}
	allowed, ns := keyAt(&cfg, &cfg.Kubernetes.AllowedNamespaces), keyAt(&cfg, &cfg.Kubernetes.Namespace)
	if _, set := p.sources[allowed]; !set && cfg.Kubernetes.Namespace != "" {
		p.allowedFollows = true
		if src, ok := p.sources[ns]; ok {
			p.sources[allowed] = src
		}
	}
	over := File{Role: FileOverrides, Read: overrides != nil}
	if stateDir != "" {
		over.Path = OverridesFile(stateDir)
	}
	p.files = []File{l.configFile, over}
	return p
}

// DefaultConfigFile returns $XDG_CONFIG_HOME/ops-skill/config.yaml, falling
// back to $HOME/.config/ops-skill/config.yaml, or "" when neither is known.
func DefaultConfigFile(env EnvFunc) string {
	return xdgPath(env, "XDG_CONFIG_HOME", ".config", "config.yaml")
}

// DefaultStateDir returns $XDG_STATE_HOME/ops-skill, falling back to
// $HOME/.local/state/ops-skill, or "" when neither is known.
func DefaultStateDir(env EnvFunc) string {
	return xdgPath(env, "XDG_STATE_HOME", filepath.Join(".local", "state"), "")
}

func xdgPath(env EnvFunc, xdgVar, homeRel, file string) string {
	base, ok := env(xdgVar)
	if !ok || !filepath.IsAbs(base) { // the XDG spec says relative values are ignored
		home, ok := env("HOME")
		if !ok || home == "" {
			return ""
		}
		base = filepath.Join(home, homeRel)
	}
	return filepath.Join(base, "ops-skill", file)
}

// expandHome replaces a leading "~" with $HOME.
func expandHome(path string, env EnvFunc) string {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path
	}
	home, ok := env("HOME")
	if !ok || home == "" {
		return path
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~"))
}

// expandKubeconfig expands "~" in each element of a KUBECONFIG path list.
func expandKubeconfig(list string, env EnvFunc) string {
	parts := filepath.SplitList(list)
	for i, p := range parts {
		parts[i] = expandHome(p, env)
	}
	return strings.Join(parts, string(filepath.ListSeparator))
}
