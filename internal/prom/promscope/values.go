package promscope

import (
	"regexp/syntax"
	"slices"
)

// maxValues bounds the strings Values enumerates: a regular expression over
// more names than that is treated as open-ended.
const maxValues = 64

// Values lists every string the label-matcher regular expression re matches
// (anchored at both ends, as Prometheus matches it), when they are finitely
// many and at most maxValues; finite is false otherwise (re matches an open
// set, such as "prod.*", or does not compile). Case-insensitive parts count as
// open-ended: the set is judged as written, never guessed at.
func Values(re string) (values []string, finite bool) {
	r, err := syntax.Parse(re, syntax.Perl|syntax.DotNL)
	if err != nil {
		return nil, false
	}
	values, finite = enumerate(r.Simplify())
	if !finite {
		return nil, false
	}
	slices.Sort(values)
	return slices.Compact(values), true
}

func enumerate(r *syntax.Regexp) ([]string, bool) {
	switch r.Op {
	case syntax.OpNoMatch:
		return nil, true
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		// The match is anchored already; an anchor inside it at most makes
		// fewer strings match, so counting it as empty over-approximates.
		return []string{""}, true
	case syntax.OpLiteral:
		if r.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(r.Rune)}, true
	case syntax.OpCharClass:
		return charClass(r.Rune)
	case syntax.OpCapture:
		return enumerate(r.Sub[0])
	case syntax.OpQuest:
		sub, ok := enumerate(r.Sub[0])
		return append(sub, ""), ok && len(sub) < maxValues
	case syntax.OpConcat:
		return concat(r.Sub)
	case syntax.OpAlternate:
		return alternate(r.Sub)
	}
	// Star, plus, unbounded repeats, any character, word boundaries.
	return nil, false
}

func charClass(ranges []rune) ([]string, bool) {
	var out []string
	for i := 0; i+1 < len(ranges); i += 2 {
		if int(ranges[i+1]-ranges[i]) >= maxValues-len(out) {
			return nil, false
		}
		for c := ranges[i]; c <= ranges[i+1]; c++ {
			out = append(out, string(c))
		}
	}
	return out, true
}

func concat(subs []*syntax.Regexp) ([]string, bool) {
	out := []string{""}
	for _, s := range subs {
		tails, ok := enumerate(s)
		if !ok || len(out)*len(tails) > maxValues {
			return nil, false
		}
		next := make([]string, 0, len(out)*len(tails))
		for _, head := range out {
			for _, tail := range tails {
				next = append(next, head+tail)
			}
		}
		out = next
	}
	return out, true
}

func alternate(subs []*syntax.Regexp) ([]string, bool) {
	var out []string
	for _, s := range subs {
		vs, ok := enumerate(s)
		if !ok || len(out)+len(vs) > maxValues {
			return nil, false
		}
		out = append(out, vs...)
	}
	return out, true
}
