package policy

import "strings"

// maxOriginLength bounds the Origin a request may carry: far above any real
// one, and it keeps a hostile megabyte from being scanned and hashed.
const maxOriginLength = 4096

// wellFormedOrigin reports whether o is an origin as a browser serialises it:
// a lower-case scheme, "://", a lower-case host name (underscores included)
// or bracketed IPv6 literal, and an optional port. Anything else (a path, a
// query, user info, upper case, spaces, control bytes, "null") matches only
// "*". It reads each byte once and does not allocate.
func wellFormedOrigin(o string) bool {
	if len(o) == 0 || len(o) > maxOriginLength || o[0] < 'a' || o[0] > 'z' {
		return false
	}
	i := 1
	for i < len(o) && charClass[o[i]]&classScheme != 0 {
		i++
	}
	if !strings.HasPrefix(o[i:], "://") {
		return false
	}
	i += len("://")
	if i < len(o) && o[i] == '[' {
		i = skipClass(o, i+1, classIPv6)
		if i >= len(o) || o[i] != ']' || o[i-1] == '[' {
			return false
		}
		i++
	} else {
		start := i
		if i = skipClass(o, i, classHost); i == start {
			return false
		}
	}
	if i == len(o) {
		return true
	}
	return o[i] == ':' && i+1 < len(o) && skipClass(o, i+1, classDigit) == len(o)
}

// skipClass returns the position of the first byte from i on that is not of
// class.
func skipClass(s string, i int, class uint8) int {
	for i < len(s) && charClass[s[i]]&class != 0 {
		i++
	}
	return i
}

// originIndex finds every rule that allows an origin, with one map look-up
// and a test per distinct pattern.
type originIndex struct {
	patternIndex // lower-case origins; exact holds well-formed ones only
}

// add records that rule i allows origin. An exact origin that is not well
// formed ("https://a.example/", a warning) is left out: it matches nothing,
// and leaving it out lets match trust a hit.
func (x *originIndex) add(origin string, i int) {
	if o := lowerASCII(origin); o == "*" || strings.Contains(o, "*") || wellFormedOrigin(o) {
		x.patternIndex.add(o, i)
	}
}

// match returns the rules that allow origin, a value that is not empty: "*"
// allows any, exact origins and patterns only one that is well formed, and
// as written: "https://a.example/" (a warning) matches nothing. The exact
// origins are all well formed, so one equal to origin vouches for it, and a
// policy without patterns never scans it:
// BenchmarkAgainstRSCors/preflight-refused/1-origins.
func (x *originIndex) match(origin string) ruleSet {
	set := x.any.or(x.exact[origin])
	if len(x.patterns) == 0 || !wellFormedOrigin(origin) {
		return set
	}
	for k := range x.patterns {
		if x.patterns[k].matches(origin) {
			set = set.or(x.patterns[k].rules)
		}
	}
	return set
}
