package policy

import (
	"maps"
	"strings"
	"sync/atomic"
)

// Bounds on the Access-Control-Allow-Headers values a policy remembers: a
// bucket's browsers send few distinct lines (one per SDK version and
// operation), and a flood of others must not grow the policy.
const (
	rememberedLines   = 16
	rememberedLineLen = 256
)

// renderedLines remembers the answers rendered for request lines in the
// browsers' form ("a,b" answered "a, b"), so that a line asked again costs no
// allocation: BenchmarkPreflight/sdk/allowed-10-names. The map is replaced,
// never changed, so readers take no lock; it keeps the first lines seen and
// renders any other each time.
type renderedLines struct {
	m atomic.Pointer[map[string]string]
}

// spaced returns line with ", " between its names.
func (r *renderedLines) spaced(line string) string {
	seen := r.m.Load()
	if seen != nil {
		if answer, ok := (*seen)[line]; ok {
			return answer
		}
	}
	answer := strings.ReplaceAll(line, ",", ", ")
	if len(line) <= rememberedLineLen && (seen == nil || len(*seen) < rememberedLines) {
		next := make(map[string]string, rememberedLines)
		if seen != nil {
			maps.Copy(next, *seen)
		}
		next[strings.Clone(line)] = answer
		// A lost race loses one entry, which the next request adds.
		r.m.CompareAndSwap(seen, &next)
	}
	return answer
}
