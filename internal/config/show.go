package config

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Show writes the effective configuration to w in the operations: shape, as
// "yaml" (the default when format is "") or "json", with where each value came
// from and which files were read: in YAML a comment after each value and a
// header, in JSON a "sources" map (key → default, file, override, env, flag or
// kubeconfig) and a "files" list. Secrets print as "***", and URL passwords,
// credential-like query parameters (password=, token=, api_key=, …) and the
// ClickHouse DSN password are masked.
func (c Config) Show(w io.Writer, format string) error {
	var err error
	switch format {
	case "", "yaml":
		doc := c.buildDocument(c.origin)
		doc.HeadComment = c.filesComment()
		err = encodeYAML(w, doc)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		err = enc.Encode(c.shown())
	default:
		return fmt.Errorf("unknown config format %q: use yaml or json", format)
	}
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// encodeYAML writes v with two-space indentation.
func encodeYAML(w io.Writer, v any) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return enc.Close()
}

// Redacted returns the effective configuration as nested maps in the
// operations: shape ({"operations": {"auto_scaling": {"min_replicas": 2, …}}}),
// with secrets and URL credentials masked. Durations and byte sizes are
// strings as written in YAML ("5m", "16Gi").
func (c Config) Redacted() map[string]any {
	ops := map[string]any{}
	for _, f := range fields() {
		val := c.displayValue(f)
		section, name, nested := strings.Cut(f.key, ".")
		if !nested {
			ops[f.key] = val
			continue
		}
		sub, ok := ops[section].(map[string]any)
		if !ok {
			sub = map[string]any{}
			ops[section] = sub
		}
		sub[name] = val
	}
	return map[string]any{"operations": ops}
}

// MarshalJSON encodes Redacted(), so a Config never leaks a secret as JSON.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.Redacted()) }

// MarshalYAML encodes the redacted operations: document.
func (c Config) MarshalYAML() (any, error) { return c.document().Content[0], nil }

// Format implements fmt.Formatter: every verb prints the redacted JSON form.
func (c Config) Format(f fmt.State, _ rune) {
	data, _ := json.Marshal(c.Redacted())
	_, _ = f.Write(data)
}

// Format prints the redacted section, hiding URL credentials.
func (m Monitoring) Format(f fmt.State, _ rune) { writeSection(f, "monitoring", Config{Monitoring: m}) }

// MarshalJSON encodes the redacted section.
func (m Monitoring) MarshalJSON() ([]byte, error) {
	return sectionJSON("monitoring", Config{Monitoring: m})
}

// MarshalYAML encodes the redacted section.
func (m Monitoring) MarshalYAML() (any, error) {
	return sectionYAML("monitoring", Config{Monitoring: m}), nil
}

// Format prints the redacted section, hiding the DSN password.
func (s Storage) Format(f fmt.State, _ rune) { writeSection(f, "storage", Config{Storage: s}) }

// MarshalJSON encodes the redacted section.
func (s Storage) MarshalJSON() ([]byte, error) { return sectionJSON("storage", Config{Storage: s}) }

// MarshalYAML encodes the redacted section.
func (s Storage) MarshalYAML() (any, error) { return sectionYAML("storage", Config{Storage: s}), nil }

// Format prints the redacted section, hiding the API key and URL credentials.
func (l LLM) Format(f fmt.State, _ rune) { writeSection(f, "llm", Config{LLM: l}) }

// MarshalJSON encodes the redacted section.
func (l LLM) MarshalJSON() ([]byte, error) { return sectionJSON("llm", Config{LLM: l}) }

// MarshalYAML encodes the redacted section.
func (l LLM) MarshalYAML() (any, error) { return sectionYAML("llm", Config{LLM: l}), nil }

func writeSection(f fmt.State, name string, c Config) {
	data, _ := sectionJSON(name, c)
	_, _ = f.Write(data)
}

func sectionJSON(name string, c Config) ([]byte, error) {
	ops, _ := c.Redacted()["operations"].(map[string]any)
	return json.Marshal(ops[name])
}

func sectionYAML(name string, c Config) *yaml.Node {
	ops := c.document().Content[0].Content[1]
	for i := 0; i+1 < len(ops.Content); i += 2 {
		if ops.Content[i].Value == name {
			return ops.Content[i+1]
		}
	}
	return &yaml.Node{Kind: yaml.MappingNode}
}

// displayValue is the typed, redacted value of f for Redacted.
func (c Config) displayValue(f field) any {
	switch p := f.ptr(&c).(type) {
	case *bool:
		return *p
	case *int:
		return *p
	case *int32:
		return *p
	case *float64:
		return *p
	case *[]string:
		out := []string{}
		for _, it := range *p {
			out = append(out, displayString(f.show, it))
		}
		return out
	default:
		return displayString(f.show, f.format(&c))
	}
}

// shownConfig is config show's JSON: the redacted values, the source of
// each key and the files looked for.
type shownConfig struct {
	Operations any               `json:"operations"`
	Sources    map[string]Source `json:"sources"`
	Files      []File            `json:"files"`
}

func (c Config) shown() shownConfig {
	s := shownConfig{Operations: c.Redacted()["operations"], Sources: map[string]Source{}, Files: c.Files()}
	for _, f := range fields() {
		s.Sources[f.key] = c.Source(f.key)
	}
	if s.Files == nil {
		s.Files = []File{}
	}
	return s
}

// filesComment is the header of config show: the files read and the legend.
func (c Config) filesComment() string {
	lines := []string{"config file: none", "overrides: none"}
	for _, f := range c.prov.files {
		i, label := 0, "config file"
		if f.Role == FileOverrides {
			i, label = 1, "overrides"
		}
		switch {
		case f.Read:
			lines[i] = label + ": " + f.Path
		case f.Path != "":
			lines[i] = label + ": none (" + f.Path + " does not exist)"
		}
	}
	return strings.Join(append(lines, "after each value, where it came from: default, file, override, env VAR, flag --name or kubeconfig"), "\n")
}

// document builds the redacted YAML document in field order.
func (c Config) document() *yaml.Node { return c.buildDocument(nil) }

// buildDocument builds the redacted YAML document in field order, with
// comment(f), when given, after each value.
func (c Config) buildDocument(comment func(field) string) *yaml.Node {
	b := newTreeBuilder()
	for _, f := range fields() {
		note := ""
		if comment != nil {
			note = comment(f)
		}
		if list, ok := f.ptr(&c).(*[]string); ok {
			seq := &yaml.Node{Kind: yaml.SequenceNode}
			for _, it := range *list {
				seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: displayString(f.show, it)})
			}
			b.add(f.key, seq, note)
			continue
		}
		b.add(f.key, scalarNode(f, displayString(f.show, f.format(&c))), note)
	}
	return b.document()
}

// scalarNode renders a value; numbers and booleans stay plain, everything
// else is a string (quoted by the encoder when it would read as another type).
func scalarNode(f field, s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: s}
	switch f.ptr(&Config{}).(type) {
	case *bool, *int, *int32, *float64:
	default:
		n.Tag = "!!str"
	}
	return n
}

// treeBuilder assembles an ordered operations: mapping.
type treeBuilder struct {
	ops      *yaml.Node
	sections map[string]*yaml.Node
}

func newTreeBuilder() *treeBuilder {
	return &treeBuilder{ops: &yaml.Node{Kind: yaml.MappingNode}, sections: map[string]*yaml.Node{}}
}

// add appends key: val, with comment (if any) after the value, or after the
// key when the value is a block sequence.
func (b *treeBuilder) add(key string, val *yaml.Node, comment string) {
	target := b.ops
	if section, name, nested := strings.Cut(key, "."); nested {
		m := b.sections[section]
		if m == nil {
			m = &yaml.Node{Kind: yaml.MappingNode}
			b.ops.Content = append(b.ops.Content, keyNode(section), m)
			b.sections[section] = m
		}
		target, key = m, name
	}
	k := keyNode(key)
	if val.Kind == yaml.SequenceNode && len(val.Content) > 0 {
		k.LineComment = comment
	} else {
		val.LineComment = comment
	}
	target.Content = append(target.Content, k, val)
}

func (b *treeBuilder) document() *yaml.Node {
	root := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{keyNode("operations"), b.ops}}
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
}

func keyNode(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// displayString masks a raw value according to how its field is shown.
func displayString(show display, s string) string {
	switch show {
	case showSecret:
		return Secret(s).String()
	case showURL:
		return RedactURL(s)
	case showHeaders:
		return maskHeaders(s)
	default:
		return s
	}
}

// RedactURL masks the credentials in a URL or DSN: the password of the
// userinfo (or the whole userinfo when it has no password, as it may be a
// token) and the value of every query parameter whose name suggests a
// credential (password, token, key, secret, auth, signature, session). A value
// that does not parse as scheme://host… is masked entirely.
func RedactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" || u.Host == "" {
		return masked
	}
	userinfo := ""
	if u.User != nil {
		userinfo = masked + "@"
		if _, hasPassword := u.User.Password(); hasPassword {
			userinfo = u.User.Username() + ":" + masked + "@"
		}
		u.User = nil
	}
	u.RawQuery = redactQuery(u.RawQuery)
	u.Fragment, u.RawFragment = "", ""
	rest := strings.TrimPrefix(u.String(), u.Scheme+"://")
	return u.Scheme + "://" + userinfo + rest
}

func redactQuery(q string) string {
	if q == "" {
		return ""
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		name, _, _ := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if sensitiveParam(name) {
			parts[i] = strings.SplitN(p, "=", 2)[0] + "=" + masked
		}
	}
	return strings.Join(parts, "&")
}

func sensitiveParam(name string) bool {
	name = strings.ToLower(name)
	for _, word := range []string{"pass", "pwd", "secret", "token", "key", "auth", "sig", "credential", "session"} {
		if strings.Contains(name, word) {
			return true
		}
	}
	return false
}

// maskHeaders shows "Name: value" items (one, or a comma-separated list as
// format gives it) as "Name: ***": a header value may be a credential.
func maskHeaders(s string) string {
	if s == "" {
		return s
	}
	items := strings.Split(s, ",")
	for i, it := range items {
		name, _, _ := strings.Cut(it, ":")
		items[i] = strings.TrimSpace(name) + ": ***"
	}
	return strings.Join(items, ", ")
}
