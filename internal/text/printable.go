package text

import (
	"regexp"
	"strings"
	"unicode"
)

// terminalSequence is an ANSI control sequence: CSI (ESC [ … final byte),
// OSC (ESC ] … BEL or ESC \: window titles, hyperlinks) and the other
// two-byte escapes.
var terminalSequence = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]`)

// Printable removes terminal control sequences and every other control
// character but newline and tab from text a model or a tool wrote, so that
// what reaches a terminal cannot set its title, clear it or hide a link.
func Printable(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	s = terminalSequence.ReplaceAllString(s, "")
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return -1
		}
		return r
	}, s)
}

func isControl(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }
