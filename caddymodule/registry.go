package caddymodule

import (
	"sync"

	"github.com/bucketcors/bucketcors/lookup"
	"github.com/bucketcors/bucketcors/source"
)

// handlers holds every provisioned handler, so that the admin API can reach
// their policies and caches, and the metrics can sum the counters of their
// sources. Handlers that share sources share one lookup.Sources, counted
// once. Sources that no config uses any more leave their counters in
// retired, so that the totals never go back.
var handlers = struct {
	sync.Mutex
	live    map[*Handler]struct{}
	retired lookup.Counters
}{live: make(map[*Handler]struct{})}

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

// retire keeps the counters of sources that no config uses any more.
func retire(s *lookup.Sources) {
	handlers.Lock()
	defer handlers.Unlock()
	handlers.retired = handlers.retired.Add(s.Counters().Retired())
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

// totals sums the counters of every handler's sources, live and retired;
// the gauges count the live ones only.
func totals() lookup.Counters {
	handlers.Lock()
	defer handlers.Unlock()
	t := handlers.retired
	for _, s := range liveSources() {
		t = t.Add(s.Counters())
	}
	return t
}

// liveSources returns the sources of the live handlers, each once. The
// caller holds handlers.
func liveSources() []*lookup.Sources {
	var list []*lookup.Sources
	seen := make(map[*lookup.Sources]bool)
	for h := range handlers.live {
		if s := h.policies.Sources; s != nil && !seen[s] {
			seen[s] = true
			list = append(list, s)
		}
	}
	return list
}

// indexStatuses returns the state of every live policy store index.
func indexStatuses() []source.IndexStatus {
	handlers.Lock()
	defer handlers.Unlock()
	list := []source.IndexStatus{} // [] rather than null when there is none
	for _, s := range liveSources() {
		if st, ok := s.IndexStatus(); ok {
			list = append(list, st)
		}
	}
	return list
}
