package policy

import (
	"maps"
	"strings"
	"sync/atomic"
)

// Bounds on the Access-Control-Request-Headers lines a policy remembers: a
// bucket's browsers send few distinct lines (one per SDK version and
// operation), and a flood of others must not grow the policy.
const (
	rememberedLines   = 16
	rememberedLineLen = 256
)

// lineAnswer is what a policy learns from one Access-Control-Request-Headers
// line: the rules that allow every name in it, and its rendering for
// Access-Control-Allow-Headers.
type lineAnswer struct {
	rules  ruleSet
	answer string
}

// knownLines remembers the lines a policy has answered, so that a line asked
// again costs one look-up instead of a scan of its names and no allocation:
// BenchmarkPreflight/sdk/allowed-10-names. The map is replaced, never
// changed, so readers take no lock; it keeps the first lines seen and scans
// any other each time.
type knownLines struct {
	m atomic.Pointer[map[string]lineAnswer]
}

// lookup returns what was learnt of line, if it was.
func (k *knownLines) lookup(line string) (lineAnswer, bool) {
	seen := k.m.Load()
	if seen == nil {
		return lineAnswer{}, false
	}
	a, ok := (*seen)[line]
	return a, ok
}

// full reports whether no line can be added.
func (k *knownLines) full() bool {
	seen := k.m.Load()
	return seen != nil && len(*seen) >= rememberedLines
}

// remember adds what was learnt of line, while there is room.
func (k *knownLines) remember(line string, a lineAnswer) {
	seen := k.m.Load()
	if seen != nil && len(*seen) >= rememberedLines {
		return
	}
	next := make(map[string]lineAnswer, rememberedLines)
	if seen != nil {
		maps.Copy(next, *seen)
	}
	// Copies, so that the policy holds no request's memory.
	next[strings.Clone(line)] = lineAnswer{rules: a.rules, answer: strings.Clone(a.answer)}
	// A lost race loses one entry, which the next request adds.
	k.m.CompareAndSwap(seen, &next)
}
