package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/cli"
	"github.com/duet-company/ops-skill/internal/config"
	"github.com/duet-company/ops-skill/internal/eval"
	"github.com/duet-company/ops-skill/internal/llm"
)

func (h *harness) evalReport(args ...string) (eval.Report, int) {
	h.t.Helper()
	code := h.run(append([]string{"eval", "-o", "json"}, args...)...)
	var rep eval.Report
	if code == cli.ExitOK || code == cli.ExitFailed {
		if err := json.Unmarshal(h.out.Bytes(), &rep); err != nil {
			h.t.Fatalf("eval JSON: %v\n%s\nstderr: %s", err, h.out.String(), h.errOut.String())
		}
	}
	return rep, code
}

func TestEvalScoresTheRulesPlannerWithoutAKey(t *testing.T) {
	h := newHarness(t)
	rep, code := h.evalReport("--scenario", "high-cpu,healthy", "--runs", "2")
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, h.errOut.String())
	}
	if len(rep.Models) != 1 || rep.Models[0].Model != "rules" || rep.Runs != 2 {
		t.Fatalf("models %+v", rep.Models)
	}
	tot := rep.Models[0].Total
	if tot.Scenarios != 2 || tot.Runs != 4 || tot.PassedRuns != 4 || tot.Unsafe != 0 || tot.LLMCalls != 0 {
		t.Errorf("totals %+v, want both scenarios passed twice by rules", tot)
	}
}

// A local policy (threshold, mode) never changes a score: the scenarios are
// written against the built-in policy.
func TestEvalIgnoresTheLocalPolicy(t *testing.T) {
	h := newHarness(t)
	h.env["SCALE_UP_THRESHOLD"], h.env["OPS_SKILL_MODE"], h.env["MAX_REPLICAS"] = "95", "observe", "3"
	rep, code := h.evalReport("--scenario", "high-cpu")
	if code != cli.ExitOK || rep.Models[0].Total.PassedRuns != 1 {
		t.Fatalf("exit %d, report %+v: %s", code, rep.Models, h.errOut.String())
	}
	if a := rep.Models[0].Scenarios[0].Results[0].Actions; len(a) != 1 || !strings.Contains(a[0], "from 3 to 4") {
		t.Errorf("actions %v, want the scale 3 → 4 of the built-in policy", a)
	}
}

func TestEvalScoresScriptedModelsOnLoopback(t *testing.T) {
	h := newHarness(t)
	rep, code := h.evalReport("--model", "scripted:ideal-high-cpu", "--model", "scripted:lazy", "--model-dir", "../eval/models", "--scenario", "high-cpu")
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, h.errOut.String())
	}
	got := map[string]eval.Totals{}
	for _, m := range rep.Models {
		got[m.Model] = m.Total
	}
	if ideal := got["scripted:ideal-high-cpu"]; ideal.PassedRuns != 1 || ideal.LLMCalls != 2 || ideal.TokensIn == 0 {
		t.Errorf("ideal model %+v, want a pass in 2 LLM calls with tokens counted", ideal)
	}
	if lazy := got["scripted:lazy"]; lazy.PassedRuns != 0 || lazy.LLMCalls != 1 || lazy.Unsafe != 0 {
		t.Errorf("lazy model %+v, want a safe fail in 1 LLM call", lazy)
	}
}

func TestEvalUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"--model", "gpt-4o-mini"}, "LLM_PROVIDER"},
		{[]string{"--planner", "llm"}, "LLM_PROVIDER"},
		{[]string{"--model", "scripted:no-such-model", "--model-dir", "../eval/models"}, "no scripted model"},
		{[]string{"--scenario", "no-such-*"}, "no scenario matches"},
	}
	for _, tt := range tests {
		h := newHarness(t)
		if code := h.run(append([]string{"eval"}, tt.args...)...); code != cli.ExitUsage || !strings.Contains(h.errOut.String(), tt.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %q", tt.args, code, h.errOut.String(), tt.msg)
		}
	}
}

// A configured provider is scored with the model asked for, through the
// normal LLM client constructor.
func TestEvalBuildsTheConfiguredLLMWithTheModelAskedFor(t *testing.T) {
	h := newHarness(t)
	h.env["LLM_PROVIDER"], h.env["LLM_API_KEY"], h.env["LLM_MODEL"] = "openai", "sk-test-not-real", "gpt-configured"
	var asked []string
	d := deps{io: cli.Test(strings.NewReader(""), &h.out, &h.errOut), env: h.lookup, clock: h.clock,
		newLLM: func(c config.LLM) (llm.Client, error) {
			asked = append(asked, c.Model)
			return standInModel{}, nil
		}}
	code := Run(context.Background(), d, []string{"eval", "--model", "llm", "--model", "gpt-other", "--scenario", "healthy"})
	if code != cli.ExitOK || strings.Join(asked, ",") != "gpt-configured,gpt-other" {
		t.Errorf("exit %d, models built %v; want gpt-configured (from LLM_MODEL) and gpt-other: %s", code, asked, h.errOut.String())
	}
}

// standInModel answers at once, without tools: a stand-in for a provider.
type standInModel struct{}

func (standInModel) Name() string { return "llm:stand-in" }

func (standInModel) Chat(context.Context, llm.Request) (llm.Response, error) {
	return llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Content: "Nothing to do."}, FinishReason: "stop"}, nil
}
