package tools_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/tools"
)

func TestEveryToolHasANameConstant(t *testing.T) {
	var consts []string
	for _, n := range tools.AllNames() {
		consts = append(consts, string(n))
	}
	slices.Sort(consts)
	if got := tools.NewRegistry(tools.Deps{}).Names(); !slices.Equal(got, consts) {
		t.Errorf("registry tools %v, name constants %v", got, consts)
	}
}

// toolNameLiteralsAllowed are string literals outside tools/ that spell a tool
// name but do not name a tool.
var toolNameLiteralsAllowed = map[string]string{
	"internal/preflight/preflight.go:notify": "the notify check group",
	"internal/cli/root.go:notify":            "the --notify flag",
	"internal/kube/access.go:getLogs":        "why the adapter needs pods/log (the adapter may not import tools)",
}

func TestNoToolNameLiteralsOutsideTools(t *testing.T) {
	names := map[string]bool{}
	for _, n := range tools.AllNames() {
		names[string(n)] = true
	}
	for _, hit := range stringLiterals(t, "..", func(s string) bool { return names[s] }) {
		if _, ok := toolNameLiteralsAllowed[hit.file+":"+hit.value]; ok {
			continue
		}
		t.Errorf("%s:%d: tool name %q as a string literal; use tools.%s", hit.file, hit.line, hit.value, exported(hit.value))
	}
}

func exported(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

type literal struct {
	file  string
	line  int
	value string
}

// stringLiterals finds the string literals matching want in the non-test Go
// files of the module under root (cmd, internal and the root package),
// outside tools/.
func stringLiterals(t *testing.T, root string, want func(string) bool) []literal {
	t.Helper()
	var out []literal
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || rel == "tools" || rel == "testdata" ||
				(!strings.HasPrefix(rel, "cmd") && !strings.HasPrefix(rel, "internal"))) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if v, err := strconv.Unquote(lit.Value); err == nil && want(v) {
				out = append(out, literal{file: rel, line: fset.Position(lit.Pos()).Line, value: v})
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
