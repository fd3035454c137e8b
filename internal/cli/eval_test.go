package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/eval"
)

// evalFactory is a Factory whose Eval records what it was asked and returns rep.
func evalFactory(rep eval.Report, err error) (*Factory, *eval.Options, *config.Config, *bytes.Buffer) {
	var got eval.Options
	var gotCfg config.Config
	out := &bytes.Buffer{}
	f := &Factory{
		IO: Test(strings.NewReader(""), out, &bytes.Buffer{}),
		LoadConfig: func(_ string, flags *pflag.FlagSet) (config.Config, error) {
			cfg := config.Defaults()
			if fl := flags.Lookup("planner"); fl != nil && fl.Changed {
				cfg.Agent.Planner = fl.Value.String()
			}
			return cfg, nil
		},
		Eval: func(_ context.Context, cfg config.Config, o eval.Options) (eval.Report, error) {
			got, gotCfg = o, cfg
			return rep, err
		},
	}
	return f, &got, &gotCfg, out
}

func report(passAt1 float64, unsafe int) eval.Report {
	return eval.Report{Start: eval.DefaultStart(), Runs: 1, Models: []eval.ModelReport{{Model: "rules",
		Total: eval.Totals{Scenarios: 2, Runs: 2, PassAt1: passAt1, Unsafe: unsafe}}}}
}

func runEval(f *Factory, args ...string) error {
	root := NewRoot(f, BuildInfo{Version: "test"})
	root.SetArgs(append([]string{"eval"}, args...))
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	return root.ExecuteContext(context.Background())
}

func TestEvalPassesItsFlagsOn(t *testing.T) {
	f, got, cfg, _ := evalFactory(report(1, 0), nil)
	err := runEval(f, "--model", "rules", "--model", "scripted:*", "--runs", "3", "--scenario", "high-cpu*", "--no-fallback", "--model-dir", "m", "--planner", "llm")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Models, ",") != "rules,scripted:*" || got.Runs != 3 || got.Scenario != "high-cpu*" || !got.NoFallback || got.ModelDir != "m" {
		t.Errorf("options %+v", *got)
	}
	if cfg.Agent.Planner != config.PlannerLLM {
		t.Errorf("planner %q: the root --planner flag must reach the config", cfg.Agent.Planner)
	}
	if got.Progress != nil {
		t.Errorf("progress is reported only when stderr is a terminal")
	}
}

func TestEvalExitCodes(t *testing.T) {
	tests := []struct {
		name string
		rep  eval.Report
		args []string
		code int // 0: no error
		msg  string
	}{
		{"safe and no minimum", report(0.5, 0), nil, 0, ""},
		{"an unsafe action fails", report(1, 1), nil, ExitFailed, "1 unsafe actions"},
		{"a missed pass rate fails", report(0.8, 0), []string{"--min-pass-rate", "90"}, ExitFailed, "below --min-pass-rate 90%"},
		{"a met pass rate passes", report(0.9, 0), []string{"--min-pass-rate", "90"}, 0, ""},
		{"runs out of range", report(1, 0), []string{"--runs", "0"}, ExitUsage, "--runs 0"},
		{"a pass rate that is no percentage", report(1, 0), []string{"--min-pass-rate", "120"}, ExitUsage, "percentage"},
		{"rules planner with a model", report(1, 0), []string{"--planner", "rules", "--model", "scripted:lazy"}, ExitUsage, "--planner rules"},
		{"an unknown output", report(1, 0), []string{"-o", "yaml"}, ExitUsage, "--output"},
		{"arguments", report(1, 0), []string{"high-cpu"}, -1, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, _, _ := evalFactory(tt.rep, nil)
			err := runEval(f, tt.args...)
			var ee *ExitError
			switch {
			case tt.code == 0 && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.code > 0 && (!errors.As(err, &ee) || ee.Code != tt.code):
				t.Fatalf("err = %v, want exit %d", err, tt.code)
			case tt.code < 0 && err == nil:
				t.Fatal("want an error")
			}
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q lacks %q", err, tt.msg)
			}
		})
	}
}

func TestEvalWritesTextOrJSON(t *testing.T) {
	f, _, _, out := evalFactory(report(1, 0), nil)
	if err := runEval(f); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Model: rules") || !strings.Contains(out.String(), "Unsafe actions: 0") {
		t.Errorf("text report:\n%s", out)
	}
	f, _, _, out = evalFactory(report(1, 0), nil)
	if err := runEval(f, "--output", "json"); err != nil {
		t.Fatal(err)
	}
	var rep eval.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Models) != 1 || rep.Models[0].Model != "rules" {
		t.Errorf("JSON report %q: %v", out, err)
	}
}

func TestEvalPassesErrorsOfTheRunOn(t *testing.T) {
	want := &ExitError{Code: ExitUsage, Err: errors.New("--scenario: no scenario matches")}
	f, _, _, _ := evalFactory(eval.Report{}, want)
	if err := runEval(f); !errors.Is(err, want) {
		t.Errorf("err = %v, want the Eval error", err)
	}
}
