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

// Stats is a snapshot of a Cache's counters, all counted since New, but for
// the gauge LoadsInFlight.
type Stats struct {
	// Hits counts Gets answered at once from a good entry whose last load
	// succeeded, whether or not it was past its TTL.
	Hits uint64
	// Misses counts Gets that found no entry they could be answered from,
	// and so waited for a load (see LoadWaits), or failed with
	// ErrTooManyLoads or their ctx's error.
	Misses uint64
	// StaleServes counts Gets answered at once with an entry kept in use
	// after a failed load (Entry.Stale).
	StaleServes uint64
	// ErrorServes counts Gets answered at once with the error of an error
	// entry, without a load.
	ErrorServes uint64
	// Evictions counts entries pushed out to keep the cache within Size or
	// NegativeSize; invalidations and replacements are not evictions.
	Evictions uint64
	// LoadWaits counts Gets that waited for a load, started or joined.
	LoadWaits uint64
	// LoadsInFlight is the number of loads running now (a gauge).
	LoadsInFlight int
	// LoadsRejected counts loads not started because MaxLoads loads were
	// in flight: each Get answered ErrTooManyLoads, and each Get, Refresh
	// or RefreshAll that left a background refresh for later.
	LoadsRejected uint64
	// Refreshes counts the loads of keys that had an entry to serve
	// meanwhile, by result. They are counted in Loads too.
	Refreshes RefreshCounts
	// Loads counts calls of the LoadFunc by source and result, sorted by
	// source, then result.
	Loads []LoadCount
}

// RefreshCounts counts background refreshes by result.
type RefreshCounts struct {
	// OK counts refreshes whose sources answered, with a value or none.
	OK uint64
	// Error counts refreshes whose sources failed.
	Error uint64
	// Rejected counts refreshes whose sources answered with something they
	// could not accept (see Rejected).
	Rejected uint64
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

// counters are a Cache's counters but for those of hits (hitCounters). They are atomics, read without a lock; load counts take a lock,
// since each load costs far more than the lock does.
type counters struct {
	misses            atomic.Uint64
	evictions         atomic.Uint64
	loadWaits         atomic.Uint64
	loadsRejected     atomic.Uint64
	refreshesOK       atomic.Uint64
	refreshesError    atomic.Uint64
	refreshesRejected atomic.Uint64

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

// countRefresh counts one background refresh that ended with err.
func (s *counters) countRefresh(err error) {
	switch {
	case err == nil:
		s.refreshesOK.Add(1)
	case IsRejected(err):
		s.refreshesRejected.Add(1)
	default:
		s.refreshesError.Add(1)
	}
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

// Add returns the sum of s and o, as the metrics of several caches are
// summed: every counter and the gauge LoadsInFlight added, and the Loads of
// each source and result added together, sorted as Stats sorts them. Neither
// s nor o is changed.
func (s Stats) Add(o Stats) Stats {
	sum := s
	sum.Hits += o.Hits
	sum.Misses += o.Misses
	sum.StaleServes += o.StaleServes
	sum.ErrorServes += o.ErrorServes
	sum.Evictions += o.Evictions
	sum.LoadWaits += o.LoadWaits
	sum.LoadsInFlight += o.LoadsInFlight
	sum.LoadsRejected += o.LoadsRejected
	sum.Refreshes.OK += o.Refreshes.OK
	sum.Refreshes.Error += o.Refreshes.Error
	sum.Refreshes.Rejected += o.Refreshes.Rejected
	sum.Loads = addLoads(s.Loads, o.Loads)
	return sum
}

// addLoads merges two lists of load counts into a new one, adding the
// counts of the same source and result.
func addLoads(a, b []LoadCount) []LoadCount {
	if len(a)+len(b) == 0 {
		return nil
	}
	all := slices.Concat(a, b)
	slices.SortFunc(all, compareLoads)
	sum := all[:1]
	for _, l := range all[1:] {
		last := &sum[len(sum)-1]
		if l.Source == last.Source && l.Result == last.Result {
			last.Count += l.Count
		} else {
			sum = append(sum, l)
		}
	}
	return sum
}

// compareLoads orders load counts by source, then result.
func compareLoads(a, b LoadCount) int {
	return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Result, b.Result))
}

// Stats returns a snapshot of the cache's counters.
func (c *Cache[V]) Stats() Stats {
	s := &c.stats
	st := Stats{
		Misses:        s.misses.Load(),
		Evictions:     s.evictions.Load(),
		LoadWaits:     s.loadWaits.Load(),
		LoadsInFlight: int(c.loadsInFlight.Load()),
		LoadsRejected: s.loadsRejected.Load(),
		Refreshes: RefreshCounts{
			OK:       s.refreshesOK.Load(),
			Error:    s.refreshesError.Load(),
			Rejected: s.refreshesRejected.Load(),
		},
	}
	st.Hits, st.StaleServes, st.ErrorServes = c.hits.sum()
	s.loadsMu.Lock()
	for k, n := range s.loads {
		st.Loads = append(st.Loads, LoadCount{Source: k.source, Result: k.result, Count: n})
	}
	s.loadsMu.Unlock()
	slices.SortFunc(st.Loads, compareLoads)
	return st
}
