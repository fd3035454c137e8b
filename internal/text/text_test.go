package text_test

import (
	"testing"
	"unicode/utf8"

	"github.com/duet-company/ops-skill/internal/text"
)

func TestPrefixNeverSplitsARune(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"abc", 0, ""},
		{"abc", -1, ""},
		{"héllo", 2, "h"},  // é is 2 bytes: cut before it
		{"héllo", 3, "hé"}, // just after it
		{"日本語", 4, "日"},    // 3-byte runes
		{"日本語", 2, ""},     // not even one rune fits
		{"a😀b", 4, "a"},    // a 4-byte rune
		{"a😀b", 5, "a😀"},
	}
	for _, tt := range tests {
		got := text.Prefix(tt.s, tt.n)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("Prefix(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestClipMarksTheCutAfterAtMostNBytes(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"too long", 3, "too…"},
		{"héllo", 2, "h…"},
		{"日本語", 7, "日本…"},
		{"abc", 0, "…"},
	}
	for _, tt := range tests {
		got := text.Clip(tt.s, tt.n)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestClipRunesCountsCharactersWithTheEllipsis(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"日本語", 3, "日本語"},
		{"日本語です", 3, "日本…"},
		{"abcdef", 1, "a"},
		{"abcdef", 0, ""},
		{"ab\xffcd", 10, "ab\uFFFDcd"}, // invalid bytes are replaced
		{"ab\xffcdef", 4, "ab\uFFFD…"},
	}
	for _, tt := range tests {
		got := text.ClipRunes(tt.s, tt.n)
		if got != tt.want || !utf8.ValidString(got) || utf8.RuneCountInString(got) > max(tt.n, 0) && tt.n < utf8.RuneCountInString(tt.s) {
			t.Errorf("ClipRunes(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
