// Package promscope confines a raw PromQL expression to a set of namespaces,
// so that a query reads no more than the namespace allowlist lets every
// other tool read.
//
// The expression is parsed with Prometheus' own parser and every vector
// and matrix selector in it (inside aggregations, functions, subqueries,
// binary operations and their joins alike) is judged:
//
//   - a selector without a namespace matcher gets one: namespace="a" for one
//     namespace, namespace=~"a|b" for several (Prometheus anchors regular
//     expressions), the way prom-label-proxy enforces a label;
//   - a selector whose namespace matchers can only match namespaces of the
//     set (=, or =~ over a finite set of names such as "a|b") is kept as it
//     is;
//   - a selector whose namespace matcher names a namespace outside the set,
//     or can match one (=~ "prod.*", != and !~, which match everything else,
//     and an empty value, which selects series without the label) is refused
//     with an *OutsideError. A query is never silently widened or narrowed
//     from what its own matchers say.
//
// Cluster-level series are the exception: node-exporter's node_*, cAdvisor's
// machine_* and kube-state-metrics' kube_node_* describe nodes, not a
// namespace, and carry no namespace label of their own, so confining them
// would only make them come back empty. A selector naming one of those
// metrics exactly (no regular expression over __name__, no recording rule:
// a name with a colon, such as node_namespace_pod_container:…, is
// namespaced) is left unconfined; a namespace matcher written on it is
// still judged like any other.
package promscope

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Label is the label that carries a series' namespace.
const Label = "namespace"

// ClusterPrefixes are the metric families that describe the cluster's nodes
// rather than a namespace: node-exporter, cAdvisor's machine metrics and
// kube-state-metrics' node objects.
var ClusterPrefixes = []string{"node_", "machine_", "kube_node_"}

// ErrParse marks an expression that is not valid PromQL.
var ErrParse = errors.New("not valid PromQL")

// OutsideError says why a selector reaches outside the namespaces a query
// is confined to.
type OutsideError struct {
	Selector   string   // the selector as parsed, e.g. up{namespace="b"}
	Matcher    string   // the namespace matcher that reaches outside; empty: the set is empty
	Namespaces []string // the namespaces the query is confined to
	Why        string   // e.g. "names a namespace outside them"
}

func (e *OutsideError) Error() string {
	allowed := "no namespace"
	if len(e.Namespaces) > 0 {
		allowed = strings.Join(e.Namespaces, ", ")
	}
	if e.Matcher == "" {
		return fmt.Sprintf("selector %s reads namespaced series, and the query may read %s", e.Selector, allowed)
	}
	return fmt.Sprintf("selector %s: %s %s (allowed: %s); leave the namespace matcher out and the query is confined to the allowed namespaces",
		e.Selector, e.Matcher, e.Why, allowed)
}

// parse parses expr with the parser's default options (no experimental
// functions, as a Prometheus server runs without feature flags).
func parse(expr string) (parser.Expr, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParse, err)
	}
	return e, nil
}

// Check reports whether expr is valid PromQL (an error wrapping ErrParse if not).
func Check(expr string) error {
	_, err := parse(expr)
	return err
}

// Confine returns expr with every selector confined to namespaces, or an
// *OutsideError naming the first selector that reaches outside them, or an
// error wrapping ErrParse. An expression that needs no change comes back
// exactly as written; one that does is printed by the parser.
func Confine(expr string, namespaces []string) (string, error) {
	e, err := parse(expr)
	if err != nil {
		return "", err
	}
	changed := false
	var refusal error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok || refusal != nil {
			return nil
		}
		added, err := confineSelector(vs, namespaces)
		if err != nil {
			refusal = err
		}
		changed = changed || added
		return nil
	})
	switch {
	case refusal != nil:
		return "", refusal
	case !changed:
		return expr, nil
	}
	return e.String(), nil
}

// confineSelector judges one selector and adds the namespace matcher it
// lacks; it reports whether it added one.
func confineSelector(vs *parser.VectorSelector, namespaces []string) (bool, error) {
	written := vs.String()
	own := false
	for _, m := range vs.LabelMatchers {
		if m.Name != Label {
			continue
		}
		own = true
		if why := outside(m, namespaces); why != "" {
			return false, &OutsideError{Selector: written, Matcher: m.String(), Namespaces: namespaces, Why: why}
		}
	}
	if own || clusterLevel(vs) {
		return false, nil
	}
	m, err := matcherFor(namespaces)
	if err != nil {
		return false, &OutsideError{Selector: written, Namespaces: namespaces}
	}
	vs.LabelMatchers = append(vs.LabelMatchers, m)
	return true, nil
}

// outside says how a namespace matcher reaches outside namespaces, or ""
// when every value it can match is one of them.
func outside(m *labels.Matcher, namespaces []string) string {
	switch m.Type {
	case labels.MatchNotEqual, labels.MatchNotRegexp:
		return "matches every other namespace"
	case labels.MatchEqual:
		return within([]string{m.Value}, namespaces)
	}
	values, finite := Values(m.Value)
	if !finite {
		return "can match namespaces outside them"
	}
	return within(values, namespaces)
}

func within(values, namespaces []string) string {
	for _, v := range values {
		switch {
		case v == "":
			return "selects series without a namespace"
		case !slices.Contains(namespaces, v):
			return fmt.Sprintf("names namespace %q, outside them", v)
		}
	}
	return ""
}

// matcherFor is the matcher that confines a selector to namespaces.
func matcherFor(namespaces []string) (*labels.Matcher, error) {
	switch len(namespaces) {
	case 0:
		return nil, errors.New("no namespace to confine to")
	case 1:
		return labels.NewMatcher(labels.MatchEqual, Label, namespaces[0])
	}
	quoted := make([]string, len(namespaces))
	for i, ns := range namespaces {
		quoted[i] = regexp.QuoteMeta(ns)
	}
	return labels.NewMatcher(labels.MatchRegexp, Label, strings.Join(quoted, "|"))
}

// clusterLevel reports a selector of one exactly named metric of a
// cluster-level family (ClusterPrefixes); a recording rule (a name with a
// colon) never is.
func clusterLevel(vs *parser.VectorSelector) bool {
	name := vs.Name
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			name = m.Value
		}
	}
	if name == "" || strings.Contains(name, ":") {
		return false
	}
	for _, p := range ClusterPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
