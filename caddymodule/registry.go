package caddymodule

import (
	"sync"

	"github.com/bucketcors/bucketcors/cache"
)

// handlers holds every provisioned handler, so that the admin API can reach
// their policies and caches, and the metrics can sum their counters.
// A config reload provisions new handlers before it cleans up the old ones;
// the counters of a cleaned-up handler are kept in retired, so that the
// totals never go back.
var handlers = struct {
	sync.Mutex
	live    map[*Handler]struct{}
	retired cacheTotals
}{live: make(map[*Handler]struct{})}

// cacheTotals are cache counters summed over handlers.
type cacheTotals struct {
	hits, misses, staleServes, evictions uint64
	loads                                map[loadLabels]uint64
}

type loadLabels struct{ source, result string }

func (t *cacheTotals) add(s cache.Stats) {
	t.hits += s.Hits
	t.misses += s.Misses
	t.staleServes += s.StaleServes
	t.evictions += s.Evictions
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
	if _, ok := handlers.live[h]; !ok {
		return
	}
	delete(handlers.live, h)
	if h.policies != nil {
		handlers.retired.add(h.policies.Stats())
	}
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
// entries of the live ones.
func totals() (cacheTotals, int) {
	handlers.Lock()
	defer handlers.Unlock()
	t := handlers.retired.clone()
	entries := 0
	for h := range handlers.live {
		if h.policies != nil {
			t.add(h.policies.Stats())
			entries += h.policies.Len()
		}
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
