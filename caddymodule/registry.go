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
