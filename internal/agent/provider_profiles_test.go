package agent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/agent"
	"github.com/duet-company/ops-skill/internal/llm"
	"github.com/duet-company/ops-skill/internal/llm/llmtest"
	"github.com/duet-company/ops-skill/internal/llm/openai"
	"github.com/duet-company/ops-skill/internal/sim"
)

// providerProfile is a provider as configured, the test server profile
// that answers like its server, and a model it serves.
type providerProfile struct {
	name     string
	provider string
	server   llmtest.Profile
	model    string
	key      bool // the provider needs an API key
}

func providerProfiles() []providerProfile {
	return []providerProfile{
		{"openai-reasoning", openai.ProviderOpenAI, llmtest.ProfileOpenAIReasoning, "gpt-6-luna", true},
		{"zai", openai.ProviderZAI, llmtest.ProfileZAI, "glm-5", true},
		{"ollama", openai.ProviderOllama, llmtest.ProfileOllama, "qwen3:8b", false},
		{"vllm", openai.ProviderVLLM, llmtest.ProfileVLLM, "Qwen/Qwen3-8B", false},
	}
}

func profileNamed(t testing.TB, name string) providerProfile {
	t.Helper()
	for _, p := range providerProfiles() {
		if p.name == name {
			return p
		}
	}
	if name == "vllm-no-auto-tool-choice" {
		return providerProfile{name, openai.ProviderVLLM, llmtest.ProfileVLLMNoAutoToolChoice, "Qwen/Qwen3-8B", false}
	}
	t.Fatalf("no profile %s", name)
	return providerProfile{}
}

// profileModel starts a server of the profile answering from script and
// returns it with the real adapter configured for the provider, as the app
// configures it, pointed at the server. Retries wait zero.
func profileModel(t testing.TB, p providerProfile, script llmtest.Script, opts ...llmtest.Option) (*llmtest.Server, llm.Client) {
	t.Helper()
	opts = append([]llmtest.Option{llmtest.WithProfile(p.server)}, opts...)
	cfg := openai.Config{Provider: p.provider, Model: p.model}
	if p.key {
		opts = append(opts, llmtest.WithAPIKey(testAPIKey))
		cfg.APIKey = testAPIKey
	}
	srv := llmtest.NewServer(t, script, opts...)
	cfg.BaseURL = srv.URL()
	c, err := openai.New(cfg, openai.WithBackoff(func(int) time.Duration { return 0 }))
	if err != nil {
		t.Fatalf("openai adapter for %s: %v", p.name, err)
	}
	return srv, c
}

// Each provider's profile plays the spec's three incidents end to end
// through the real adapter and a server that checks requests as the
// provider's does: the model's fix, verified, in at most three calls, with
// every request in the shape the provider takes.
func TestEachProviderProfilePlaysTheSpecIncidents(t *testing.T) {
	incidents := []struct {
		scenario string
		model    string
		want     agent.Resolution
		actions  []wantAction
		end      func(*testing.T, sim.State)
	}{
		{"high-cpu", "ideal-high-cpu.yaml", agent.Resolved,
			[]wantAction{{"scaleDeployment", "ai-data-labs/backend", map[string]string{"from": "3", "to": "4"}}}, backendScaledTo4},
		{"clickhouse-oom", "ideal-clickhouse-oom.yaml", agent.Escalated, []wantAction{
			{"updateResources", "ai-data-labs/clickhouse", map[string]string{"from": "4Gi", "to": "8Gi"}},
		}, clickhouseHealed},
		{"disk-space", "ideal-disk-space.yaml", agent.Resolved,
			[]wantAction{{"dropPartitions", "analytics.events", map[string]string{"partitions": "5", "bytes": "200 GB"}}}, diskCleaned},
	}
	for _, p := range providerProfiles() {
		for _, inc := range incidents {
			t.Run(p.name+"/"+inc.scenario, func(t *testing.T) {
				srv, model := profileModel(t, p, modelFile(t, inc.model))
				h := newHarness(t, setup{scenario: inc.scenario, planner: model})
				sum := h.run()
				if sum.Resolution != inc.want || sum.Planner != model.Name() || sum.Verification == nil || sum.Verification.Result != "resolved" {
					t.Fatalf("resolution %s by %s (%s; note %q), want %s by the model with a verified fix", sum.Resolution, sum.Planner, sum.Headline, sum.PlannerNote, inc.want)
				}
				checkActions(t, sum.Actions, inc.actions)
				if len(of[agent.PlannerSwitched](h.events)) != 0 || len(sum.Refusals) != 0 {
					t.Errorf("fallbacks %+v, refusals %+v; want none", of[agent.PlannerSwitched](h.events), sum.Refusals)
				}
				if sum.LLMCalls > 3 || sum.LLMCalls != srv.Calls() {
					t.Errorf("%d LLM calls counted, %d received; want the same, at most 3", sum.LLMCalls, srv.Calls())
				}
				for _, fact := range h.p.Scenario().Expect.Facts {
					if !strings.Contains(strings.ToLower(sum.Explanation), strings.ToLower(fact)) {
						t.Errorf("final answer lacks %q: %s", fact, sum.Explanation)
					}
				}
				checkEventOrder(t, h.events, sum)
				checkHistory(t, h, sum)
				inc.end(t, h.after())
				checkWireShape(t, p, srv.Requests())
				t.Logf("%s %s: %d LLM calls, %d tokens in, %d out", p.name, inc.scenario, sum.LLMCalls, sum.TokensIn, sum.TokensOut)
			})
		}
	}
}

// checkWireShape checks what the profile's server accepted is what the
// provider is meant to get: the token limit field, tool_choice and effort.
func checkWireShape(t *testing.T, p providerProfile, reqs []llmtest.RecordedRequest) {
	t.Helper()
	for i, r := range reqs {
		c := r.Chat
		var ok bool
		switch p.name {
		case "openai-reasoning":
			ok = c.MaxCompletionTokens > 0 && c.MaxTokens == 0 && c.ReasoningEffort == "none" && r.ToolChoice() == "auto"
		case "zai", "vllm":
			ok = c.MaxTokens > 0 && c.MaxCompletionTokens == 0 && c.ReasoningEffort == "" && r.ToolChoice() == "auto"
		case "ollama":
			ok = c.MaxTokens > 0 && c.MaxCompletionTokens == 0 && r.ToolChoice() == ""
		}
		if !ok || len(r.ToolNames()) == 0 {
			t.Errorf("%s request %d: max_tokens %d, max_completion_tokens %d, reasoning_effort %q, tool_choice %q, %d tools",
				p.name, i, c.MaxTokens, c.MaxCompletionTokens, c.ReasoningEffort, r.ToolChoice(), len(r.ToolNames()))
		}
	}
}

// The forced last turn goes without tools where tool_choice "none" is not
// taken (Z.ai, Ollama), with the earlier calls and results, and the server
// accepts it; the model stays the planner.
func TestTheLastTurnGoesWithoutToolsWhereNoneIsNotTaken(t *testing.T) {
	for _, name := range []string{"zai", "ollama", "vllm", "openai-reasoning"} {
		t.Run(name, func(t *testing.T) {
			p := profileNamed(t, name)
			srv, model := profileModel(t, p, modelFile(t, "loop-forever.yaml"))
			h := newHarness(t, setup{scenario: "high-cpu", planner: model, agentCfg: func(c *agent.Config) { c.MaxIterations = 3 }})
			sum := h.run()
			reqs := srv.Requests()
			if len(reqs) != 3 || sum.Planner != model.Name() {
				t.Fatalf("%d requests, planner %s (%q); want 3 by the model", len(reqs), sum.Planner, sum.PlannerNote)
			}
			last := reqs[2]
			wantTools, wantChoice := len(reqs[0].ToolNames()), "none"
			if name == "zai" || name == "ollama" {
				wantTools, wantChoice = 0, ""
			}
			if len(last.ToolNames()) != wantTools || last.ToolChoice() != wantChoice || len(last.ToolResults()) != 2 {
				t.Errorf("last request: %d tools, tool_choice %q, %d tool results; want %d, %q, 2",
					len(last.ToolNames()), last.ToolChoice(), len(last.ToolResults()), wantTools, wantChoice)
			}
		})
	}
}

// spend makes a reply use up a run's token budget of 1000.
func spend(r llmtest.Reply) llmtest.Reply {
	r.Usage = &llmtest.Usage{PromptTokens: 1500, CompletionTokens: 50}
	return r
}

// Every way a provider's reply fails to be a turn ends in the rules
// planner, and the fallback event and the summary say why, with what to
// change.
func TestEachProviderFailureFallsBackToTheRulesWithItsReason(t *testing.T) {
	scaleText := `<tool_call>{"name": "getServiceStatus", "arguments": {"namespace": "ai-data-labs", "name": "backend"}}</tool_call>`
	tests := []struct {
		name    string
		profile string
		script  llmtest.Script
		final   bool // the second turn is the last one (the first spent the token budget)
		invalid bool // the server refuses the request (it is what is tested)
		note    string
	}{
		{"finish_reason length", "openai-reasoning", llmtest.Steps(llmtest.Reply{FinishReason: "length"}), false, false, "raise llm.max_tokens (LLM_MAX_TOKENS)"},
		{"Z.ai sensitive", "zai", llmtest.Steps(llmtest.Reply{FinishReason: "sensitive"}), false, false, "withheld the reply (finish_reason sensitive)"},
		{"Z.ai network_error", "zai", llmtest.Steps(llmtest.Reply{Content: "Scaling", FinishReason: "network_error"}), false, false, "lost the reply mid-way"},
		{"empty reply", "ollama", llmtest.Steps(llmtest.Reply{Content: " \n"}), false, false, "the reply was empty"},
		{"last turn only calls", "zai", llmtest.Steps(spend(calls("", "getServiceStatus", wl("backend"))), calls("", "getServiceStatus", wl("backend"))), true, false,
			"the last turn asked for tools instead of answering"},
		{"last turn only calls, as text", "ollama", llmtest.Steps(spend(calls("", "getServiceStatus", wl("backend"))), final(scaleText)), true, false,
			"the last turn asked for tools instead of answering"},
		{"Z.ai 1113", "zai", llmtest.Steps(llmtest.Reply{Status: 429, ErrorCode: "1113", Content: "Your account is in arrears, please recharge and try again"}), false, false,
			"the Z.ai account has no balance: top it up"},
		{"vLLM without auto tool choice", "vllm-no-auto-tool-choice", llmtest.Steps(), false, true, "restart it with --enable-auto-tool-choice --tool-call-parser"},
		{"ambiguous <tool_call> text", "vllm", llmtest.Steps(
			final(`<tool_call>{"name": "scale", "arguments": {"replicas": 4}}</tool_call>`),
			final(`<tool_call>{"name": "scaleDeployment", "arguments": {"replicas": 4</tool_call>`)), false, false, "made only invalid calls 2 turns in a row"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []llmtest.Option
			if tt.invalid {
				opts = append(opts, llmtest.AllowInvalidRequests())
			}
			srv, model := profileModel(t, profileNamed(t, tt.profile), tt.script, opts...)
			s := setup{scenario: "high-cpu", planner: model}
			if tt.final {
				s.agentCfg = func(c *agent.Config) { c.TokenBudget = 1000 }
			}
			h := newHarness(t, s)
			sum := h.run()
			sw := of[agent.PlannerSwitched](h.events)
			if len(sw) != 1 || sw[0].From != model.Name() || !strings.Contains(sw[0].Reason, tt.note) || !strings.Contains(sum.PlannerNote, tt.note) {
				t.Fatalf("switches %+v, note %q; want one fallback saying %q", sw, sum.PlannerNote, tt.note)
			}
			if sum.Planner != "rules" || len(sum.Actions) != 1 || sum.Actions[0].Tool != "scaleDeployment" {
				t.Errorf("planner %s, actions %+v; want the rules planner's scale", sum.Planner, sum.Actions)
			}
			if reqs := srv.Requests(); tt.final && (len(reqs) != 2 || len(reqs[1].ToolNames()) != 0) {
				t.Errorf("%d requests; want the second, the last turn, without tools", len(reqs))
			}
			if strings.Contains(tt.name, "1113") && srv.Calls() != 1 {
				t.Errorf("%d requests; a final 429 is not retried", srv.Calls())
			}
			t.Logf("%s: %s", tt.name, sum.PlannerNote)
		})
	}
}
