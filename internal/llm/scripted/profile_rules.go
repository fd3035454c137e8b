package scripted

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// --- OpenAI reasoning models ---------------------------------------------
//
// OpenAI's reasoning models "only work with the max_completion_tokens
// parameter" and take reasoning_effort (API reference, Chat Completions;
// Azure OpenAI's reasoning page says the same). The GPT-6 pages: "GPT-6 Astra
// and GPT-6.1 Sol require Responses for tool calling; GPT-6 Sol and GPT-6
// Luna support function calling in Chat Completions only with
// reasoning_effort: "none""; "When reasoning effort is not none, remove
// temperature, top_p, and top_logprobs; also remove logprobs" (deployment
// checklist); GPT-6 Luna's effort "defaults to medium"; GPT-6.1 Terra:
// "calling tools requires the Responses API" (model pages). GPT-5.4 and
// later answer tools with an effort with the 400 quoted below (OpenAI
// community forum, gpt-5.6).

// checkReasoning applies those rules to the requested model.
func checkReasoning(req ChatRequest) *rejection {
	if req.MaxTokens > 0 {
		return &rejection{status: http.StatusBadRequest, code: "unsupported_parameter", param: "max_tokens",
			msg: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."}
	}
	effort := req.ReasoningEffort
	if effort != "" && !slices.Contains([]string{"none", "minimal", "low", "medium", "high", "xhigh"}, effort) {
		return &rejection{status: http.StatusBadRequest, code: "invalid_value", param: "reasoning_effort",
			msg: fmt.Sprintf("Invalid value: '%s'. Supported values are: 'none', 'minimal', 'low', 'medium', 'high', and 'xhigh'.", effort)}
	}
	if effort == "" {
		effort = "medium" // the GPT-6 pages' default
	}
	if effort != "none" {
		for name, set := range map[string]bool{"temperature": req.Temperature != nil && *req.Temperature != 1, "top_p": req.TopP != nil && *req.TopP != 1, "logprobs": req.LogProbs} {
			if set {
				return &rejection{status: http.StatusBadRequest, code: "unsupported_parameter", param: name,
					msg: fmt.Sprintf("Unsupported parameter: '%s' is not supported with this model.", name)}
			}
		}
	}
	if len(req.Tools) == 0 {
		return nil
	}
	switch m := req.Model; {
	case modelIs(m, "gpt-6-astra", "gpt-6.1-sol", "gpt-6.1-terra"):
		// The pages say Responses is required; this wording is the profile's.
		return &rejection{status: http.StatusBadRequest, code: "unsupported_parameter", param: "tools",
			msg: fmt.Sprintf("Function tools are not supported for %s in /v1/chat/completions. To use function tools, use /v1/responses.", m)}
	case effort != "none" && modelIs(m, "gpt-6-sol", "gpt-6-luna", "gpt-5.4", "gpt-5.5", "gpt-5.6"):
		return &rejection{status: http.StatusBadRequest, param: "reasoning_effort",
			msg: fmt.Sprintf("Function tools with reasoning_effort are not supported for %s in /v1/chat/completions. To use function tools, use /v1/responses or set reasoning_effort to 'none'.", m)}
	}
	return nil
}

// modelIs reports whether model is one of ids or a snapshot or variant of
// one (id-…).
func modelIs(model string, ids ...string) bool {
	for _, id := range ids {
		if model == id || strings.HasPrefix(model, id+"-") {
			return true
		}
	}
	return false
}

// --- Z.ai ------------------------------------------------------------------
//
// Z.ai API reference, Chat Completion (docs.z.ai/api-reference/llm/
// chat-completion): the request fields are model, messages, stream,
// thinking {type: enabled|disabled}, do_sample, temperature, top_p,
// max_tokens, tool_stream, tools, tool_choice, stop, response_format,
// request_id and user_id; tool_choice accepts "auto"; finish_reason is
// stop, tool_calls, length, sensitive or network_error. Error codes
// (docs.z.ai/api-reference/api-code): errors are {"error": {"code": "1214",
// "message": …}}; 1113 "Your account is in arrears, please recharge and try
// again" comes with HTTP 429, as do the rate limits 1302 and 1303.

// zaiFields are the request fields the reference documents.
func zaiFields() []string {
	return []string{"model", "messages", "stream", "thinking", "do_sample", "temperature", "top_p", "max_tokens",
		"tool_stream", "tools", "tool_choice", "stop", "response_format", "request_id", "user_id"}
}

// decodeZAI refuses a field the reference does not document (an OpenAI
// field such as max_completion_tokens or reasoning_effort would be lost on
// the real server, leaving a reply uncapped: the profile makes the mistake
// show as Z.ai's 1210).
func decodeZAI(body []byte) (ChatRequest, map[string]json.RawMessage, *rejection) {
	openai, extra, err := splitFields(body)
	if err != nil {
		return ChatRequest{}, nil, reject(http.StatusBadRequest, "1210", err.Error())
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(body, &fields)
	for k := range fields {
		if !slices.Contains(zaiFields(), k) {
			return ChatRequest{}, nil, reject(http.StatusBadRequest, "1210",
				"Incorrect API call parameters, please check the documentation: "+k)
		}
	}
	req, err := decodeChatRequest(openai)
	if err != nil {
		return ChatRequest{}, nil, reject(http.StatusBadRequest, "1210", err.Error())
	}
	return req, extra, nil
}

// checkZAI applies Z.ai's value rules.
func checkZAI(req ChatRequest, extra map[string]json.RawMessage) *rejection {
	if len(req.ToolChoice) > 0 {
		var s string
		if json.Unmarshal(req.ToolChoice, &s) != nil || s != "auto" {
			return reject(http.StatusBadRequest, "1214", "Invalid tool_choice parameter. Please check the documentation")
		}
	}
	if raw, ok := extra["thinking"]; ok {
		var t struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &t) != nil || (t.Type != "enabled" && t.Type != "disabled") {
			return reject(http.StatusBadRequest, "1214", "Invalid thinking parameter. Please check the documentation")
		}
	}
	return nil
}

func zaiError(status int, code, msg string) any {
	if code == "" {
		switch {
		case status == http.StatusUnauthorized:
			code = "1002"
		case status == http.StatusTooManyRequests:
			code = "1302"
		case status >= 500:
			code = "500"
		default:
			code = "1210"
		}
	}
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	return struct {
		Error detail `json:"error"`
	}{detail{code, msg}}
}

// --- Ollama ----------------------------------------------------------------
//
// Ollama, OpenAI compatibility (docs.ollama.com/api/openai-compatibility):
// the supported request fields include max_tokens, tools and
// reasoning_effort, not max_completion_tokens; its Go request type has no
// tool_choice, so the field is ignored. The arguments of the assistant's
// earlier tool calls are decoded into an object; a request whose arguments
// are not one is refused with "invalid tool call arguments", and a
// reasoning_effort other than high, medium, low or none is refused (Ollama's
// openai.FromChatRequest).

func checkOllama(req ChatRequest) *rejection {
	if e := req.ReasoningEffort; e != "" && !slices.Contains([]string{"high", "medium", "low", "none"}, e) {
		return reject(http.StatusBadRequest, "", fmt.Sprintf(`invalid reasoning value: '%s' (must be "high", "medium", "low", or "none")`, e))
	}
	for _, m := range req.Messages {
		for _, tc := range m.ToolCalls {
			var obj map[string]json.RawMessage
			if json.Unmarshal([]byte(tc.Function.Arguments), &obj) != nil {
				return reject(http.StatusBadRequest, "", "invalid tool call arguments")
			}
		}
	}
	return nil
}

func ollamaError(status int, msg string) any {
	typ := "api_error"
	switch status {
	case http.StatusBadRequest:
		typ = "invalid_request_error"
	case http.StatusNotFound:
		typ = "not_found_error"
	}
	return errorBody{Error: errorDetail{Message: msg, Type: typ}}
}

// --- vLLM ------------------------------------------------------------------
//
// vLLM, Tool Calling (docs.vllm.ai/en/latest/features/tool_calling): auto
// tool choice needs the server started with --enable-auto-tool-choice and
// --tool-call-parser; without them a request with tool_choice "auto" (what
// a request with tools and no tool_choice means) is refused: "\"auto\" tool
// choice requires --enable-auto-tool-choice and --tool-call-parser to be
// set". Errors are OpenAI's shape with type "BadRequestError" and the status
// as code (since vLLM's pull request 22099 of August 2025; before, the same
// fields stood at the top level).

func checkVLLMNoAuto(req ChatRequest) *rejection {
	if len(req.Tools) == 0 {
		return nil
	}
	var s string
	if len(req.ToolChoice) == 0 || (json.Unmarshal(req.ToolChoice, &s) == nil && s == "auto") {
		return reject(http.StatusBadRequest, "", `"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set`)
	}
	return nil
}

func vllmError(status int, msg string) any {
	typ := "BadRequestError"
	switch {
	case status == http.StatusNotFound:
		typ = "NotFoundError"
	case status >= 500:
		typ = "InternalServerError"
	}
	type detail struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    int     `json:"code"`
	}
	return struct {
		Error detail `json:"error"`
	}{detail{msg, typ, nil, status}}
}

// --- OpenAI ----------------------------------------------------------------

func openAIError(r rejection) any {
	typ, code := errorKind(r.status)
	if r.code != "" {
		code = &r.code
	}
	var param *string
	if r.param != "" {
		param = &r.param
	}
	return errorBody{Error: errorDetail{Message: r.msg, Type: typ, Param: param, Code: code}}
}
