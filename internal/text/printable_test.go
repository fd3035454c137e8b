package text_test

import (
	"testing"

	"github.com/duet-company/ops-skill/internal/text"
)

func TestPrintableStripsTerminalControl(t *testing.T) {
	for in, want := range map[string]string{
		"plain\nline\twith tab":                                 "plain\nline\twith tab",
		"\x1b]0;pwned\x07Scaled backend":                        "Scaled backend",
		"\x1b[2J\x1b[HCleared":                                  "Cleared",
		"\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\": "click",
		"bell\x07 and nul\x00":                                  "bell and nul",
		"\x1b[31mred\x1b[0m":                                    "red",
		"résumé → ok":                                           "résumé → ok",
	} {
		if got := text.Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
