package cache

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
)

// Load results, as counted in LoadCount.Result.
const (
	ResultFound    = "found"
	ResultNotFound = "not_found"
	ResultError    = "error"
)

// Stats is a snapshot of a Cache's counters, all counted since New.
type Stats struct {
	// Hits counts Gets answered from a fresh entry.
	Hits uint64
	// Misses counts Gets that had no fresh entry and waited for a load.
	Misses uint64
	// StaleServes counts Gets answered with a cached entry because the
	// load they waited for failed.
	StaleServes uint64
	// Evictions counts entries pushed out to keep the cache within Size;
	// invalidations and replacements are not evictions.
	Evictions uint64
	// Loads counts calls of the LoadFunc by source and result, sorted by
	// source, then result.
	Loads []LoadCount
}

// LoadCount is the number of loads that ended with one source and result.
type LoadCount struct {
	// Source is the source the LoadFunc named.
	Source string
	// Result is ResultFound, ResultNotFound or ResultError.
	Result string
	// Count is the number of such loads.
	Count uint64
}

// loadKey identifies one series of LoadCount.
type loadKey struct{ source, result string }

// counters are a Cache's live counters. Those touched by every Get are
// atomics, so a hit costs no lock of its own and no allocation; load counts
// take a lock, since each load costs far more than the lock does.
type counters struct {
	hits        atomic.Uint64
	misses      atomic.Uint64
	staleServes atomic.Uint64
	evictions   atomic.Uint64

	loadsMu sync.Mutex
	loads   map[loadKey]uint64
}

// countLoad counts one call of the LoadFunc.
func (s *counters) countLoad(source string, found bool, err error) {
	k := loadKey{source: source, result: loadResultName(found, err)}
	s.loadsMu.Lock()
	defer s.loadsMu.Unlock()
	if s.loads == nil {
		s.loads = make(map[loadKey]uint64)
	}
	s.loads[k]++
}

// loadResultName names the outcome of one load.
func loadResultName(found bool, err error) string {
	switch {
	case err != nil:
		return ResultError
	case found:
		return ResultFound
	default:
		return ResultNotFound
	}
}

// snapshot copies the counters into a Stats.
func (s *counters) snapshot() Stats {
	st := Stats{
		Hits:        s.hits.Load(),
		Misses:      s.misses.Load(),
		StaleServes: s.staleServes.Load(),
		Evictions:   s.evictions.Load(),
	}
	s.loadsMu.Lock()
	for k, n := range s.loads {
		st.Loads = append(st.Loads, LoadCount{Source: k.source, Result: k.result, Count: n})
	}
	s.loadsMu.Unlock()
	slices.SortFunc(st.Loads, func(a, b LoadCount) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Result, b.Result))
	})
	return st
}

// Stats returns a snapshot of the cache's counters.
func (c *Cache[V]) Stats() Stats {
	return c.stats.snapshot()
}
