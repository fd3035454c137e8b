package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// layer is one source of values (config file, overrides file, environment)
// as a nested map whose leaves are strings or []string, ready for viper.
type layer struct {
	origin string          // e.g. "config file /etc/ops-skill.yaml", "environment"
	kind   Source          // SourceFile, SourceOverride or SourceEnv
	tree   map[string]any  // section -> key -> value (or key -> value at top level)
	keys   map[string]bool // flattened keys present in tree
}

func newLayer(origin string, kind Source) *layer {
	return &layer{origin: origin, kind: kind, tree: map[string]any{}, keys: map[string]bool{}}
}

func (l *layer) set(key string, val any) {
	section, name, nested := strings.Cut(key, ".")
	l.keys[key] = true
	if !nested {
		l.tree[key] = val
		return
	}
	sub, ok := l.tree[section].(map[string]any)
	if !ok {
		sub = map[string]any{}
		l.tree[section] = sub
	}
	sub[name] = val
}

// clone returns a deep copy of the tree: viper keeps references to merged maps
// and would otherwise write later layers into earlier ones.
func (l *layer) clone() map[string]any {
	out := make(map[string]any, len(l.tree))
	for k, v := range l.tree {
		if sub, ok := v.(map[string]any); ok {
			c := make(map[string]any, len(sub))
			for sk, sv := range sub {
				c[sk] = sv
			}
			v = c
		}
		out[k] = v
	}
	return out
}

// yamlParser turns a YAML document in the operations: shape into a layer.
type yamlParser struct {
	layer   *layer
	env     EnvFunc          // nil: no ${VAR} expansion
	allowed func(field) bool // which keys this source may set
	errs    []error
}

// parseYAML parses data, expanding ${VAR} references inside scalar values only
// (so an expanded value can never add keys or break the YAML structure).
func parseYAML(data []byte, origin string, kind Source, env EnvFunc, allowed func(field) bool) (*layer, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, origin, err)
	}
	p := &yamlParser{layer: newLayer(origin, kind), env: env, allowed: allowed}
	if len(doc.Content) == 0 {
		return p.layer, nil
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		if isNull(root) {
			return p.layer, nil
		}
		return nil, fmt.Errorf("%w: %s: the document must be a mapping with the key operations:", ErrInvalid, origin)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		name, val := root.Content[i].Value, resolve(root.Content[i+1])
		if name != "operations" {
			p.fail(&ValidationError{Key: name, Problem: "is not a known top-level key",
				Fix: "put the settings under operations:"})
			continue
		}
		if !isNull(val) {
			p.section(val, "")
		}
	}
	return p.layer, errors.Join(p.errs...)
}

func (p *yamlParser) fail(e *ValidationError) {
	if f, ok := lookupField(e.Key); ok {
		e.EnvVar = f.env
	}
	e.Source = p.layer.origin
	p.errs = append(p.errs, e)
}

// section walks a mapping whose keys are relative to prefix ("" for operations:).
func (p *yamlParser) section(node *yaml.Node, prefix string) {
	if node.Kind != yaml.MappingNode {
		p.fail(&ValidationError{Key: displayKey(prefix), Problem: "must be a mapping of keys",
			Fix: "indent its settings under it, e.g. " + exampleKey(prefix)})
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key := joinKey(prefix, node.Content[i].Value)
		val := resolve(node.Content[i+1])
		if seen[key] {
			p.fail(&ValidationError{Key: key, Problem: "is set twice", Fix: "keep one of the entries"})
			continue
		}
		seen[key] = true
		if f, ok := lookupField(key); ok {
			p.leaf(f, val)
			continue
		}
		if isSection(key) {
			if !isNull(val) {
				p.section(val, key)
			}
			continue
		}
		p.fail(&ValidationError{Key: key, Problem: "is not a known key", Fix: unknownKeyFix(prefix, key)})
	}
}

// leaf stores one value, or records why it cannot be stored.
func (p *yamlParser) leaf(f field, node *yaml.Node) {
	if !p.allowed(f) {
		p.fail(&ValidationError{Key: f.key, EnvVar: f.env, Problem: "cannot be set in this file",
			Fix: "keys allowed here: " + strings.Join(overridableKeys(), ", ")})
		return
	}
	_, isList := f.ptr(&Config{}).(*[]string)
	switch {
	case isNull(node):
	case node.Kind == yaml.ScalarNode:
		if s := p.expand(f, node.Value); s != "" {
			p.layer.set(f.key, s)
		}
	case node.Kind == yaml.SequenceNode && isList:
		var items []string
		for _, it := range node.Content {
			if it = resolve(it); it.Kind != yaml.ScalarNode {
				p.fail(&ValidationError{Key: f.key, Problem: "must be a list of plain values", Fix: "e.g. " + f.hint})
				return
			}
			if s := p.expand(f, it.Value); s != "" {
				items = append(items, s)
			}
		}
		if len(items) > 0 {
			p.layer.set(f.key, items)
		}
	default:
		p.fail(&ValidationError{Key: f.key, EnvVar: f.env, Problem: "must be a single value", Fix: "e.g. " + f.hint})
	}
}

// expand applies ${VAR} expansion and trims the result; "" means not set.
func (p *yamlParser) expand(f field, s string) string {
	if p.env != nil {
		out, err := expand(s, p.env)
		if err != nil {
			p.fail(&ValidationError{Key: f.key, EnvVar: f.env, Value: displayString(f.show, s),
				Problem: "has a malformed ${…} reference",
				Fix:     "write ${NAME} or ${NAME:-default}; use $${ for a literal ${"})
			return ""
		}
		s = out
	}
	return strings.TrimSpace(s)
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func displayKey(prefix string) string {
	if prefix == "" {
		return "operations"
	}
	return prefix
}

func exampleKey(prefix string) string {
	if keys := keysUnder(prefix); len(keys) > 0 {
		return keys[0] + ": …"
	}
	return "key: value"
}

// isSection reports whether key is a section holding other keys.
func isSection(key string) bool {
	for _, f := range fields() {
		if strings.HasPrefix(f.key, key+".") {
			return true
		}
	}
	return false
}

// keysUnder lists the immediate child names of a section ("" for operations:).
func keysUnder(prefix string) []string {
	set := map[string]bool{}
	for _, f := range fields() {
		rest := f.key
		if prefix != "" {
			var ok bool
			if rest, ok = strings.CutPrefix(f.key, prefix+"."); !ok {
				continue
			}
		}
		name, _, _ := strings.Cut(rest, ".")
		set[name] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// unknownKeyFix suggests the closest valid key and lists the valid ones.
func unknownKeyFix(prefix, key string) string {
	valid := keysUnder(prefix)
	name := key[strings.LastIndex(key, ".")+1:]
	fix := "valid keys here: " + strings.Join(valid, ", ")
	best, bestDist := "", 4 // suggest only close matches
	for _, v := range valid {
		if d := editDistance(name, v); d < bestDist {
			best, bestDist = v, d
		}
	}
	if best != "" {
		fix = "did you mean " + best + "? " + fix
	}
	return fix
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
