package caddymodule

import (
	"sync"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/source"
)

// handlers holds every provisioned handler, so that the admin API can reach
// their policies and caches, and the metrics can sum the caches' counters.
// Handlers that share sources share one cache, counted once. A cache that no
// config uses any more leaves its counters in retired, so that the totals
// never go back.
var handlers = struct {
	sync.Mutex
	live    map[*Handler]struct{}
	retired cacheTotals
	// retiredStores holds the counters of stores no config uses any more.
	retiredStores storeTotals
}{live: make(map[*Handler]struct{})}

// cacheTotals are cache counters summed over caches.
type cacheTotals struct {
	hits, misses, staleServes, errorServes, evictions uint64
	loadWaits, loadsRejected                          uint64
	refreshes                                         cache.RefreshCounts
	loads                                             map[loadLabels]uint64
	// loadsInFlight is a gauge: live caches only.
	loadsInFlight int
}

type loadLabels struct{ source, result string }

func (t *cacheTotals) add(s cache.Stats) {
	t.hits += s.Hits
	t.misses += s.Misses
	t.staleServes += s.StaleServes
	t.errorServes += s.ErrorServes
	t.evictions += s.Evictions
	t.loadWaits += s.LoadWaits
	t.loadsRejected += s.LoadsRejected
	t.refreshes.OK += s.Refreshes.OK
	t.refreshes.Error += s.Refreshes.Error
	t.refreshes.Rejected += s.Refreshes.Rejected
	if t.loads == nil && len(s.Loads) > 0 {
		t.loads = make(map[loadLabels]uint64)
	}
	for _, l := range s.Loads {
		t.loads[loadLabels{l.Source, l.Result}] += l.Count
	}
}

func registerHandler(h *Handler) {
	handlers.Lock()
	defer handlers.Unlock()
	handlers.live[h] = struct{}{}
}

func unregisterHandler(h *Handler) {
	handlers.Lock()
	defer handlers.Unlock()
	delete(handlers.live, h)
}

// retireCache keeps the counters of a cache that no config uses any more.
func retireCache(c *cache.Cache[source.Result]) {
	handlers.Lock()
	defer handlers.Unlock()
	s := c.Stats()
	s.LoadsInFlight = 0
	handlers.retired.add(s)
}

// liveHandlers returns the provisioned handlers.
func liveHandlers() []*Handler {
	handlers.Lock()
	defer handlers.Unlock()
	list := make([]*Handler, 0, len(handlers.live))
	for h := range handlers.live {
		list = append(list, h)
	}
	return list
}

// totals sums the counters of every cache, live and retired, and counts the
// entries and loads in flight of the live ones.
func totals() (cacheTotals, int) {
	handlers.Lock()
	defer handlers.Unlock()
	t := handlers.retired.clone()
	entries := 0
	seen := make(map[*cache.Cache[source.Result]]bool)
	for h := range handlers.live {
		if h.policies == nil || seen[h.policies] {
			continue
		}
		seen[h.policies] = true
		s := h.policies.Stats()
		t.add(s)
		t.loadsInFlight += s.LoadsInFlight
		entries += h.policies.Len()
	}
	return t, entries
}

func (t *cacheTotals) clone() cacheTotals {
	c := *t
	c.loads = make(map[loadLabels]uint64, len(t.loads))
	for k, v := range t.loads {
		c.loads[k] = v
	}
	return c
}

// retireStore keeps the counters of a store and its index (either may be
// nil) that no config uses any more.
func retireStore(store *source.Store, index *source.Index) {
	handlers.Lock()
	defer handlers.Unlock()
	handlers.retiredStores.add(store, index)
}

// storeTotalsNow sums the counters of every store and index, live and
// retired, and counts the entries of the live indexes.
func storeTotalsNow() storeTotals {
	handlers.Lock()
	defer handlers.Unlock()
	t := handlers.retiredStores
	for _, s := range liveShared() {
		t.add(s.store, s.index)
		if s.index != nil {
			t.entries += s.index.Len()
		}
	}
	return t
}

// liveShared returns the sharedPolicies of the live handlers, each once.
// The caller holds handlers.
func liveShared() []*sharedPolicies {
	var list []*sharedPolicies
	seen := make(map[*sharedPolicies]bool)
	for h := range handlers.live {
		if h.shared != nil && !seen[h.shared] {
			seen[h.shared] = true
			list = append(list, h.shared)
		}
	}
	return list
}

// liveIndexes returns the index of every live handler's store, each once.
func liveIndexes() []*source.Index {
	handlers.Lock()
	defer handlers.Unlock()
	var list []*source.Index
	for _, s := range liveShared() {
		if s.index != nil {
			list = append(list, s.index)
		}
	}
	return list
}
