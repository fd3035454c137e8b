package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/duet-company/ops-skill/internal/llm"
)

func TestCleanRedactsFoldsAndBounds(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		secrets []string
		want    string
	}{
		{"every secret redacted, white space folded", "key sk-1 and\n pw, again sk-1", []string{"sk-1", "pw"}, "key [REDACTED] and [REDACTED], again [REDACTED]"},
		{"an empty secret redacts nothing", "status 500", []string{""}, "status 500"},
		{"bounded to 300 runes and an ellipsis", strings.Repeat("é", 1000), nil, strings.Repeat("é", 300) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := llm.Clean(tt.text, tt.secrets); got != tt.want {
				t.Errorf("Clean = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCallErrorMatchesWhatItMeans(t *testing.T) {
	final := errors.New("a rate limit no retry lifts")
	tests := []struct {
		name    string
		err     *llm.CallError
		matches []error
		not     []error
		text    string
	}{
		{"a provider failure after retries", &llm.CallError{Kind: llm.ErrProvider, Detail: "status 503", Attempts: 3},
			[]error{llm.ErrProvider}, []error{llm.ErrMisconfigured, llm.ErrInvalidResponse, final}, "model provider error: status 503 (3 attempts)"},
		{"a refused key", &llm.CallError{Kind: llm.ErrProvider, Detail: "status 401", Misconfigured: true, Attempts: 1},
			[]error{llm.ErrProvider, llm.ErrMisconfigured}, nil, "model provider error: status 401"},
		{"a final rate limit", &llm.CallError{Kind: llm.ErrProvider, Meaning: final, Misconfigured: true},
			[]error{llm.ErrProvider, llm.ErrMisconfigured, final}, nil, "model provider error: "},
		{"an abandoned call", llm.Abandoned(context.Canceled),
			[]error{llm.ErrProvider, context.Canceled}, []error{context.DeadlineExceeded}, "model provider error: call abandoned: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range tt.matches {
				if !errors.Is(tt.err, m) {
					t.Errorf("%v does not match %v", tt.err, m)
				}
			}
			for _, m := range tt.not {
				if errors.Is(tt.err, m) {
					t.Errorf("%v matches %v", tt.err, m)
				}
			}
			if got := tt.err.Error(); got != tt.text {
				t.Errorf("Error() = %q, want %q", got, tt.text)
			}
		})
	}
}
