package cache

import (
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// books are the cache's bookkeeping, which every write keeps under the
// Cache's mu: the eviction lists, the loads in flight and the times of
// error reports. A Get that finds its key in the index reads none of it.
type books[V any] struct {
	// positive holds the nodes of entries with a value (Found), negative
	// those of "no value" and error entries, each up to its capacity.
	positive, negative       *simplelru.LRU[string, *node[V]]
	positiveCap, negativeCap int
	// flights holds the loads in progress, by key.
	flights map[string]*flight[V]
	// reports holds when OnLoadError was last called, by key, bounded so
	// that failures of many distinct keys cannot grow it without bound.
	reports *simplelru.LRU[string, time.Time]
}

// newBooks returns empty books for up to size entries with a value and
// negativeSize others.
func newBooks[V any](size, negativeSize int) (books[V], error) {
	positive, err := simplelru.NewLRU[string, *node[V]](size, nil)
	if err != nil {
		return books[V]{}, err
	}
	negative, err := simplelru.NewLRU[string, *node[V]](negativeSize, nil)
	if err != nil {
		return books[V]{}, err
	}
	reports, err := simplelru.NewLRU[string, time.Time](size+negativeSize, nil)
	if err != nil {
		return books[V]{}, err
	}
	return books[V]{
		positive:    positive,
		negative:    negative,
		positiveCap: size,
		negativeCap: negativeSize,
		flights:     make(map[string]*flight[V]),
		reports:     reports,
	}, nil
}

// listFor returns the list that holds entries like e, and its capacity.
func (b *books[V]) listFor(e *Entry[V]) (*simplelru.LRU[string, *node[V]], int) {
	if e.Found {
		return b.positive, b.positiveCap
	}
	return b.negative, b.negativeCap
}

// node returns the node of key.
func (b *books[V]) node(key string) (*node[V], bool) {
	if n, ok := b.positive.Peek(key); ok {
		return n, true
	}
	return b.negative.Peek(key)
}

// peek returns the entry of key.
func (b *books[V]) peek(key string) (*Entry[V], bool) {
	if n, ok := b.node(key); ok {
		return n.entry.Load(), true
	}
	return nil, false
}

// makeRoom evicts from l, which holds up to capacity nodes, until a new one
// fits, and hands each node evicted to evicted. It evicts like CLOCK: the
// oldest node goes unless a Get used it since the sweep last passed, in
// which case it is cleared and moved to the front instead (a second
// chance). Keys in use stay, and a sweep of keys used once evicts itself.
func (b *books[V]) makeRoom(l *simplelru.LRU[string, *node[V]], capacity int, evicted func(string, *node[V])) {
	for chances := l.Len(); l.Len() >= capacity; {
		key, n, _ := l.GetOldest()
		if chances > 0 && n.used.Load() {
			chances--
			n.used.Store(false)
			l.Get(key) // to the front
			continue
		}
		l.RemoveOldest()
		evicted(key, n)
	}
}

// keys returns the keys of every entry.
func (b *books[V]) keys() []string {
	return append(b.positive.Keys(), b.negative.Keys()...)
}

// supersede marks the load of key in flight, if any, as older than the
// cache's state, and forgets it, so that a later Get starts a load of its
// own.
func (b *books[V]) supersede(key string) {
	if f, ok := b.flights[key]; ok {
		f.superseded = true
		delete(b.flights, key)
	}
}

// supersedeAll does supersede for every key.
func (b *books[V]) supersedeAll() {
	for key := range b.flights {
		b.supersede(key)
	}
}
