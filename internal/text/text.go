// Package text holds the small string helpers several packages share:
// shortening untrusted or long text for messages, logs and API fields
// without ever cutting a UTF-8 sequence.
package text

import (
	"strings"
	"unicode/utf8"
)

// Ellipsis marks where Clip and ClipRunes cut.
const Ellipsis = "…"

// Prefix returns at most the first n bytes of s, cut back to the start of a
// rune so that a UTF-8 sequence is never split (for byte-limited fields).
func Prefix(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Clip shortens s to at most n bytes, as Prefix, and marks the cut with an
// ellipsis (which comes on top of the n bytes); s fits and is returned as is.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Prefix(s, n) + Ellipsis
}

// ClipRunes shortens s to at most n runes, the ellipsis that marks the cut
// included (for limits counted in characters, as chat services count them),
// and always returns valid UTF-8: invalid bytes become U+FFFD.
func ClipRunes(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	if n <= 1 {
		return string(r[:max(n, 0)])
	}
	return string(r[:n-1]) + Ellipsis
}
