package cli

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/eval"
	"github.com/duet-company/ops-skill/internal/platform"
	"github.com/duet-company/ops-skill/internal/store"
)

// forbidden is a Factory whose every dependency fails the test when used: a
// command that reaches one would load config, open history, build a platform
// (and with it the agent, incidents and the notifier) or serve.
func forbidden(t *testing.T, out, errOut *bytes.Buffer) *Factory {
	t.Helper()
	fail := func(what string) error {
		t.Helper()
		t.Errorf("%s was called", what)
		return errors.New(what + " must not be called")
	}
	return &Factory{
		IO:  Test(strings.NewReader(""), out, errOut),
		Env: func(string) (string, bool) { return "", false },
		Now: func() time.Time { return now },
		LoadConfig: func(string, *pflag.FlagSet) (config.Config, error) {
			return config.Config{}, fail("LoadConfig")
		},
		OpenStore: func(context.Context, config.Config) (*store.Store, error) { return nil, fail("OpenStore") },
		NewRuntime: func(context.Context, config.Config, RuntimeOptions) (*Runtime, error) {
			return nil, fail("NewRuntime (the agent, incidents and the notifier)")
		},
		HealthChecks: func(context.Context, config.Config, HealthOptions) (func(context.Context) []platform.HealthResult, error) {
			return nil, fail("HealthChecks")
		},
		Scenarios: func() ([]ScenarioInfo, error) { return nil, fail("Scenarios") },
		Eval: func(context.Context, config.Config, eval.Options) (eval.Report, error) {
			return eval.Report{}, fail("Eval")
		},
		Serve: func(context.Context, config.Config, ServeOptions) error { return fail("Serve") },
	}
}

// execute runs one command line against a forbidden factory.
func execute(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRoot(forbidden(t, &out, &errOut), BuildInfo{Version: "test"})
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(context.Background())
	return out.String(), err
}

func usageCode(err error) bool {
	var ee *ExitError
	return errors.As(err, &ee) && ee.Code == ExitUsage
}

// groups lists every command of the tree that holds others, root included,
// as a built tree sees them (help and completion are added by strict).
func groups(t *testing.T) []*cobra.Command {
	t.Helper()
	var out []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasAvailableSubCommands() {
			out = append(out, c)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRoot(forbidden(t, &bytes.Buffer{}, &bytes.Buffer{}), BuildInfo{Version: "test"}))
	return out
}

// typos returns mistypings of name within the suggestion distance: a letter
// dropped, two letters swapped, one replaced, one doubled.
func typos(name string) []string {
	var out []string
	add := func(s string) {
		if s != name && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for i := 1; i < len(name); i++ {
		add(name[:i] + name[i+1:])
		b := []byte(name)
		b[i-1], b[i] = b[i], b[i-1]
		add(string(b))
	}
	add(name[:len(name)-1] + "x")
	add(name[:1] + name[:])
	return out
}

// path is the arguments that reach c from the root.
func path(c *cobra.Command) []string {
	if !c.HasParent() {
		return nil
	}
	return append(path(c.Parent()), c.Name())
}

func TestNoTypoOfAnyCommandRunsAnything(t *testing.T) {
	for _, g := range groups(t) {
		names := map[string]bool{}
		for _, sub := range g.Commands() {
			names[sub.Name()] = true
			for _, a := range sub.Aliases {
				names[a] = true
			}
		}
		for _, sub := range g.Commands() {
			if !sub.IsAvailableCommand() {
				continue
			}
			for _, typo := range typos(sub.Name()) {
				if names[typo] {
					continue // another real command, e.g. incidents → incident
				}
				args := append(path(g), typo)
				t.Run(strings.Join(args, " "), func(t *testing.T) {
					_, err := execute(t, args...)
					var uc *UnknownCommandError
					if !usageCode(err) || !errors.As(err, &uc) {
						t.Fatalf("err = %v, want a usage error for an unknown command", err)
					}
					if !slices.Contains(uc.Suggestions, sub.Name()) {
						t.Errorf("suggestions %q do not include %q (%v)", uc.Suggestions, sub.Name(), err)
					}
				})
			}
		}
	}
}

func TestALoneWordIsACommandOrAUsageError(t *testing.T) {
	tests := []struct {
		args    []string
		suggest string // "" for none
	}{
		{[]string{"helth"}, "health"},
		{[]string{"incidnets"}, "incidents"},
		{[]string{"scenarois"}, "scenarios"},
		{[]string{"--simulate", "helth"}, "health"},
		{[]string{"helth", "--scenario", "healthy"}, "health"},
		{[]string{"OOMKilled"}, ""},
		{[]string{"verison"}, "version"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := execute(t, tt.args...)
			var uc *UnknownCommandError
			if !usageCode(err) || !errors.As(err, &uc) {
				t.Fatalf("err = %v, want a usage error for an unknown command", err)
			}
			if tt.suggest != "" && !slices.Contains(uc.Suggestions, tt.suggest) {
				t.Errorf("suggestions %q, want %q", uc.Suggestions, tt.suggest)
			}
			if !strings.Contains(err.Error(), "ops-skill -- ") {
				t.Errorf("%q does not say how to pass a one-word alert", err)
			}
		})
	}
}

func TestTheRootSuggestsEveryRegisteredCommand(t *testing.T) {
	root := NewRoot(forbidden(t, &bytes.Buffer{}, &bytes.Buffer{}), BuildInfo{Version: "test"})
	root.AddCommand(&cobra.Command{Use: "version", Run: func(*cobra.Command, []string) {}})
	root.SetArgs([]string{"verison"})
	root.SetOut(&bytes.Buffer{})
	err := root.ExecuteContext(context.Background())
	var uc *UnknownCommandError
	if !errors.As(err, &uc) || !slices.Contains(uc.Suggestions, "version") {
		t.Fatalf("err = %v, want a suggestion of the version command", err)
	}
}

// errReached marks a command line that got as far as loading the config.
var errReached = errors.New("reached LoadConfig")

func TestWhatStaysAnAlert(t *testing.T) {
	tests := [][]string{
		{"--", "helth"},                    // a one-word alert, explicitly
		{"Backend", "CPU", "high"},         // several words
		{"Backend CPU at 85%"},             // one argument with spaces
		{`{"version":"4","alerts":[]}`},    // a payload
		{"-"},                              // standard input
		{"--alert-file", "/nonexistent/x"}, // a file
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			f := forbidden(t, &bytes.Buffer{}, &bytes.Buffer{})
			f.LoadConfig = func(string, *pflag.FlagSet) (config.Config, error) { return config.Config{}, errReached }
			root := NewRoot(f, BuildInfo{Version: "test"})
			root.SetArgs(args)
			err := root.ExecuteContext(context.Background())
			var uc *UnknownCommandError
			if errors.As(err, &uc) {
				t.Errorf("an alert was refused as a command: %v", err)
			}
			if !errors.Is(err, errReached) && !strings.Contains(err.Error(), "--alert-file") {
				t.Errorf("err = %v, want the alert read and the config loaded", err)
			}
		})
	}
}

func TestEveryGroupPrintsItsHelpOnlyWhenCalledBare(t *testing.T) {
	for _, g := range groups(t) {
		if !g.HasParent() {
			continue // the bare root reads an alert or opens the chat
		}
		args := path(g)
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, err := execute(t, args...)
			if err != nil || !strings.Contains(out, "Usage:") {
				t.Fatalf("bare: err = %v, stdout:\n%s", err, out)
			}
			for _, sub := range g.Commands() {
				if sub.IsAvailableCommand() && !strings.Contains(out, sub.Name()) {
					t.Errorf("help does not list %q", sub.Name())
				}
			}
			_, err = execute(t, append(args, "zzzzzz")...)
			var uc *UnknownCommandError
			if !usageCode(err) || !errors.As(err, &uc) || len(uc.Commands) == 0 {
				t.Errorf("unknown word: err = %v, want a usage error listing the commands", err)
			}
		})
	}
}

func TestHelpRefusesAnUnknownTopic(t *testing.T) {
	for _, args := range [][]string{{"help", "helth"}, {"help", "tools", "lst"}} {
		_, err := execute(t, args...)
		var uc *UnknownCommandError
		if !usageCode(err) || !errors.As(err, &uc) || len(uc.Suggestions) == 0 {
			t.Errorf("%q: err = %v, want a usage error with suggestions", args, err)
		}
	}
	if out, err := execute(t, "help", "tools", "list"); err != nil || !strings.Contains(out, "Usage:") {
		t.Errorf("help tools list: err = %v, stdout:\n%s", err, out)
	}
}

func TestFlagTyposSuggestTheFlag(t *testing.T) {
	tests := []struct {
		args    []string
		suggest string // "" for none
	}{
		{[]string{"--simualte", "Backend CPU high"}, "--simulate"},
		{[]string{"--scenaro", "high-cpu", "Backend CPU high"}, "--scenario"},
		{[]string{"--update-treshold", "scale_up.cpu=85"}, "--update-threshold"},
		{[]string{"tools", "call", "scaleDeployment", "--agrs", "{}"}, "--args"},
		{[]string{"health", "--matrx", "m.yaml"}, "--matrix"},
		{[]string{"incidents", "--opne"}, "--open"},
		{[]string{"serve", "--listn", ":8080"}, "--listen"},
		{[]string{"config", "show", "--ouptut", "json"}, "--output"},
		{[]string{"--qqqqqqqq"}, ""},
		{[]string{"-Z"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := execute(t, tt.args...)
			if !usageCode(err) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			var uf *UnknownFlagError
			if tt.suggest == "" {
				if errors.As(err, &uf) && len(uf.Suggestions) > 0 {
					t.Errorf("suggestions %q for nothing close", uf.Suggestions)
				}
				return
			}
			if !errors.As(err, &uf) || !slices.Contains(uf.Suggestions, tt.suggest) {
				t.Errorf("err = %v, want a suggestion of %s", err, tt.suggest)
			}
			if !strings.Contains(err.Error(), "did you mean "+tt.suggest) {
				t.Errorf("message %q", err)
			}
		})
	}
}
