package policy

import "strings"

// wildcard is a pattern with one "*", split around it. The "*" stands for one
// or more characters, so "https://*.example.com" matches neither
// "https://example.com" nor "https://.example.com".
type wildcard struct {
	prefix, suffix string
	fixed          int // len(prefix)+len(suffix): a match is longer
}

// compileWildcard splits a pattern that holds exactly one "*".
func compileWildcard(pattern string) wildcard {
	prefix, suffix, _ := strings.Cut(pattern, "*")
	return wildcard{prefix: prefix, suffix: suffix, fixed: len(prefix) + len(suffix)}
}

// matches compares s with the pattern byte for byte, the suffix first: the
// patterns of a policy tend to share their prefix ("https://").
func (w *wildcard) matches(s string) bool {
	return len(s) > w.fixed && strings.HasSuffix(s, w.suffix) && strings.HasPrefix(s, w.prefix)
}

// matchesFold compares s with a lower-case pattern without regard to the case
// of s.
func (w *wildcard) matchesFold(s string) bool {
	return len(s) > w.fixed &&
		equalLower(s[:len(w.prefix)], w.prefix) && equalLower(s[len(s)-len(w.suffix):], w.suffix)
}

// equalLower reports whether s, once its ASCII letters are lowered, equals
// the lower-case l of the same length.
func equalLower(s, l string) bool {
	for i := 0; i < len(l); i++ {
		if lower(s[i]) != l[i] {
			return false
		}
	}
	return true
}

// wildcardRules is a pattern and the rules that hold it.
type wildcardRules struct {
	wildcard
	rules ruleSet
}

// addWildcard adds rule i to the entry of pattern, creating it if need be, so
// that a pattern held by many rules is tested once.
func addWildcard(list []wildcardRules, pattern string, i int) []wildcardRules {
	w := compileWildcard(pattern)
	for k := range list {
		if list[k].wildcard == w {
			list[k].rules.add(i)
			return list
		}
	}
	list = append(list, wildcardRules{wildcard: w})
	list[len(list)-1].rules.add(i)
	return list
}

// patternIndex sorts the values of one field of every rule (origins or
// header names) by kind: "*", exact values, and one-"*" patterns.
type patternIndex struct {
	any      ruleSet            // rules that allow "*"
	exact    map[string]ruleSet // lower-case values without "*"
	patterns []wildcardRules    // lower-case values with one "*"
}

// add records that rule i allows value.
func (x *patternIndex) add(value string, i int) {
	value = lowerASCII(value)
	switch {
	case value == "*":
		x.any.add(i)
	case strings.Contains(value, "*"):
		x.patterns = addWildcard(x.patterns, value, i)
	default:
		set := x.exact[value]
		set.add(i)
		x.exact[value] = set
	}
}

// lowerASCII lowers the ASCII letters of s and nothing else: strings.ToLower
// would turn the Kelvin sign "\u212a" into "k", and let an entry that no
// request can equal (a warning) match one.
func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
