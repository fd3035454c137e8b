package guard

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestRulesCataloguesEveryRuleConstantOnce(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "rules.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var consts []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, n := range v.Names {
				if !strings.HasPrefix(n.Name, "Rule") {
					continue
				}
				val, err := strconv.Unquote(v.Values[i].(*ast.BasicLit).Value)
				if err != nil {
					t.Fatal(err)
				}
				consts = append(consts, val)
			}
		}
	}
	rules := Rules()
	if len(rules) != len(consts) {
		t.Errorf("Rules() has %d rules, rules.go declares %d", len(rules), len(consts))
	}
	for _, c := range consts {
		if !slices.Contains(rules, c) {
			t.Errorf("rule %q is declared but missing from Rules()", c)
		}
	}
	sorted := slices.Clone(rules)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(rules) {
		t.Errorf("Rules() names a rule twice: %v", rules)
	}
}
