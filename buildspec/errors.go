package buildspec

import (
	"fmt"
	"sort"
	"strings"
)

// ConfigError is a mistake in a build spec. It names the place in the file
// and the field, so that a user can go straight to it:
//
//	packager/buildspec.yaml:12:7: acme.packages.el8_64.binary: no compile target "64bit_linx" in flavour acme
//
// Line and Col are 1-based; 0 means unknown (a YAML syntax error knows its
// line only, and a request for an unknown flavour has no place in the file).
type ConfigError struct {
	File  string
	Line  int
	Col   int
	Field string // dotted path, e.g. acme.compile_targets.64bit_linux.os
	Msg   string
}

// Error formats the error as file:line:col: field: message, leaving out
// the parts that are unknown.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if b.Len() == 0 {
			b.WriteString("line ")
			fmt.Fprintf(&b, "%d", e.Line)
		} else {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// DidYouMean returns ` (did you mean "x"?)` for the candidate closest to
// s, or "" when none is close enough to be a likely typo: for checks of a
// spec made outside this package, such as its packages' properties.
func DidYouMean(s string, candidates []string) string { return didYouMean(s, candidates) }

// didYouMean returns ` (did you mean "x"?)` for the candidate closest to
// s, or "" when none is close enough to be a likely typo.
func didYouMean(s string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if bestDist < 0 || d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	// A third of the word, at least one and at most three edits: beyond
	// that the suggestion is more confusing than helpful.
	limit := min(max(len(s)/3, 1), 3)
	if bestDist < 0 || bestDist > limit || best == s {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance of a and b in bytes, which is
// enough for the ASCII keys of a spec.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// quotedList is names sorted, quoted and joined with commas.
func quotedList(names []string) string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	for i, n := range s {
		s[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(s, ", ")
}
