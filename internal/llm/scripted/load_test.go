package scripted_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duet-company/ops-skill/internal/llm/scripted"
)

func TestLoadScriptReadsEveryKindOfStep(t *testing.T) {
	f, err := scripted.LoadScript(filepath.Join("testdata", "scripted.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &scripted.ScriptFile{
		Name:        "sample",
		Description: "one of each kind of step the format allows",
		Then:        scripted.ThenRepeat,
		Steps: []scripted.Reply{
			{ToolCalls: []scripted.ToolCall{
				{Name: "getServiceStatus", Arguments: `{"namespace":"ai-data-labs","name":"backend","events":true,"limit":5,"tags":["a","b"]}`},
				{Name: "scaleDeployment", Arguments: `{"replicas": 1000`},
			}},
			{Content: "Scaled backend from 3 to 4 replicas.", Usage: &scripted.Usage{PromptTokens: 100, CompletionTokens: 7}},
			{Status: 429, Content: "slow down", Header: map[string]string{"Retry-After": "2"}},
			{RawBody: `{"choices": [`},
			{Delay: 90 * time.Second, Content: "late", FinishReason: "length"},
		},
	}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("got  %+v\nwant %+v", f, want)
	}
}

func TestLoadScriptReadsJSON(t *testing.T) {
	f, err := scripted.LoadScript(filepath.Join("testdata", "scripted.json"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "json-sample" || len(f.Steps) != 2 ||
		f.Steps[0].ToolCalls[0].Arguments != `{"namespace":"ai-data-labs","name":"clickhouse","tail":50}` ||
		f.Steps[1].Content != "ok" {
		t.Fatalf("got %+v", f)
	}
}

func TestParseScriptRejectsMistakes(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{name: "empty", text: "", want: "empty script"},
		{name: "typo in a key", text: "steps:\n  - contnet: hi\n", want: "contnet"},
		{name: "no steps", text: "name: x\n", want: "at least one step"},
		{name: "unknown then", text: "then: forever\nsteps:\n  - content: hi\n", want: "then"},
		{name: "bad status", text: "steps:\n  - status: 42\n", want: "status"},
		{name: "bad delay", text: "steps:\n  - delay: soon\n", want: "soon"},
		{name: "negative delay", text: "steps:\n  - delay: -1s\n", want: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scripted.ParseScript([]byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want containing %q", err, tt.want)
			}
		})
	}
}

func TestScriptArgumentsDefaultToEmptyObject(t *testing.T) {
	f, err := scripted.ParseScript([]byte("steps:\n  - tool_calls:\n      - name: a\n      - name: b\n        arguments: ''\n      - name: c\n        arguments: 7\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tc := range f.Steps[0].ToolCalls {
		got = append(got, tc.Arguments)
	}
	if !reflect.DeepEqual(got, []string{"{}", "", "7"}) {
		t.Fatalf("arguments %q", got)
	}
}

func TestLoadScriptNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("steps: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := scripted.LoadScript(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err %v", err)
	}
	if _, err := scripted.LoadScript(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err %v", err)
	}
}
