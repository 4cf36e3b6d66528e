package policy

import "strings"

// headerBytes returns the length of the lines joined by commas as one header
// value, and whether it is within MaxRequestHeadersBytes. It stops summing as
// soon as it is not, so a million lines cost no more than a few thousand.
func headerBytes(lines []string) (int, bool) {
	total := len(lines) - 1
	for _, line := range lines {
		if total += len(line); total > MaxRequestHeadersBytes {
			return total, false
		}
	}
	return total, true
}

// fewestBytesForTooManyNames is the shortest header value that can hold more
// than MaxRequestHeaderNames names: one byte each, and commas between them.
// Not counting shorter ones saves 8 ns of 31 on
// BenchmarkPreflight/10-rules/refused-origin.
const fewestBytesForTooManyNames = 2*MaxRequestHeaderNames + 1

// tooManyNames reports whether the lines hold more than
// MaxRequestHeaderNames names, counting no further than that.
func tooManyNames(lines []string) bool {
	names := 0
	elems := elements{lines: lines}
	for raw, ok := elems.next(); ok; raw, ok = elems.next() {
		if trimOWS(raw) != "" {
			if names++; names > MaxRequestHeaderNames {
				return true
			}
		}
	}
	return false
}

// headerScan is what a pass over Access-Control-Request-Headers learns.
type headerScan struct {
	rules   ruleSet // the candidates that allow every name
	refused string  // the name that removed the last candidate
	names   int     // non-empty names
	length  int     // their bytes, trimmed
	tooMany bool    // more than MaxRequestHeaderNames names
	// bySpace is true while the request is one line of lower-case names
	// joined by ", ", the answer as it is: such a line needs no rendering.
	bySpace bool
}

// scan filters cands by the requested names in one pass that also counts
// the names (stopping past the bound) and sees whether the line is already
// in the form of the answer. It fills s in place: the struct is large enough
// for copies to show.
func (x *headerIndex) scan(s *headerScan, cands ruleSet, lines []string) {
	*s = headerScan{rules: cands, bySpace: len(lines) == 1}
	for _, line := range lines {
		for start := 0; start <= len(line); {
			// One element, up to the next comma, classifying its bytes on the way.
			all, some, end := uint8(0xff), uint8(0), start
			for end < len(line) && line[end] != ',' {
				c := charClass[line[end]]
				all &= c
				some |= c
				end++
			}
			if s.add(x, line[start:end], all, some); s.tooMany {
				return
			}
			start = end + 1
		}
	}
}

// add takes one element, whose bytes have all and some of the classes. A
// name that is not an HTTP token is allowed by no rule, not even "*".
func (s *headerScan) add(x *headerIndex, elem string, all, some uint8) {
	name := elem
	if some&classOWS != 0 {
		name = trimOWS(elem)
		all, some = classes(name)
	}
	upper := some&classUpper != 0
	s.noteJoin(elem, name, upper)
	if name == "" {
		return
	}
	if s.names++; s.names > MaxRequestHeaderNames {
		s.tooMany = true
		return
	}
	s.length += len(name)
	switch {
	case s.rules.empty():
		// refused already; counting on for the bound
	case all&classToken == 0:
		s.rules, s.refused = ruleSet{}, name
	default:
		if s.rules = x.allowing(s.rules, name, upper); s.rules.empty() {
			s.refused = name
		}
	}
}

// noteJoin follows how the names are joined: elem is an element as written,
// name the same trimmed.
func (s *headerScan) noteJoin(elem, name string, upper bool) {
	switch {
	case name == "" || upper:
		s.bySpace = false
	case s.names == 0:
		s.bySpace = s.bySpace && elem == name
	default:
		s.bySpace = s.bySpace && len(elem) == len(name)+1 && elem[0] == ' '
	}
}

// classes returns the classes that every byte of s has, and those that some
// byte has.
func classes(s string) (all, some uint8) {
	all = 0xff
	for i := 0; i < len(s); i++ {
		c := charClass[s[i]]
		all &= c
		some |= c
	}
	return all, some
}

// allowHeaders renders the names for Access-Control-Allow-Headers: lower
// case, joined by ", " as S3 joins them. A line in that form is returned as
// it is; any other form costs one allocation (and is remembered by the
// policy, Policy.learn).
func (s *headerScan) allowHeaders(lines []string) string {
	switch {
	case s.names == 0:
		return ""
	case s.bySpace:
		return lines[0]
	}
	var b strings.Builder
	b.Grow(s.length + len(", ")*(s.names-1))
	elems := elements{lines: lines}
	for raw, ok := elems.next(); ok; raw, ok = elems.next() {
		name := trimOWS(raw)
		if name == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		for i := 0; i < len(name); i++ {
			b.WriteByte(lower(name[i]))
		}
	}
	return b.String()
}

// elements yields the comma-separated elements of header lines, untrimmed
// and empty ones included.
type elements struct {
	lines []string
	line  string
	more  bool // line has elements still to yield
}

func (e *elements) next() (string, bool) {
	for !e.more {
		if len(e.lines) == 0 {
			return "", false
		}
		e.line, e.lines, e.more = e.lines[0], e.lines[1:], true
	}
	if i := strings.IndexByte(e.line, ','); i >= 0 {
		elem := e.line[:i]
		e.line = e.line[i+1:]
		return elem, true
	}
	e.more = false
	return e.line, true
}

// trimOWS trims the spaces and tabs that HTTP allows around list elements.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// headerIndex finds the rules that allow a request header name, whatever its
// case.
type headerIndex struct {
	patternIndex // lower-case names
}

// allowing returns the rules among cands that allow name, a token; upper
// says whether it has upper-case letters. It stops once every candidate
// allows the name: most names of a preflight are allowed by a pattern
// ("x-amz-*"), and need no look-up among the exact names.
func (x *headerIndex) allowing(cands ruleSet, name string, upper bool) ruleSet {
	set := x.any
	for k := 0; k < len(x.patterns) && !cands.within(set); k++ {
		if x.patterns[k].matchesFold(name) {
			set = set.or(x.patterns[k].rules)
		}
	}
	if !cands.within(set) {
		set = set.or(x.exactly(name, upper))
	}
	return cands.and(set)
}

// exactly looks name up among the exact names. A name with upper case is
// lowered on the stack first (a map look-up by string(bytes) copies nothing),
// so it costs no allocation up to 128 bytes; a longer one, which no browser
// sends, costs one.
func (x *headerIndex) exactly(name string, upper bool) ruleSet {
	if !upper {
		return x.exact[name]
	}
	var buf [128]byte
	if len(name) > len(buf) {
		return x.exact[lowerASCII(name)]
	}
	for i := 0; i < len(name); i++ {
		buf[i] = lower(name[i])
	}
	return x.exact[string(buf[:len(name)])]
}
