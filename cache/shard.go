package cache

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Shard counts: a power of two, from 4 per CPU up to maxShards, but no more
// than leaves each shard minShardSize entries, so that keys spread unevenly
// over shards matter little.
const (
	maxShards    = 256
	minShardSize = 64
)

// node is a key's place in the cache. The cache's index maps the key to
// its node, which one list of the key's shard holds; a new result replaces
// the node's entry, so that a Get finds it without a lock.
type node[V any] struct {
	entry atomic.Pointer[Entry[V]]
	// used is set by a Get that finds the node, and cleared when the
	// eviction sweep passes over it (see shard.makeRoom). A Get writes it
	// only when it is clear, so that a key in steady use costs its hits no
	// write to memory that other CPUs read.
	used atomic.Bool
}

// shard is one part of the cache's bookkeeping: the eviction lists, loads
// in flight and error reports of the keys whose hash selects it, all under
// mu. A Get that finds its key in the index takes none of it.
type shard[V any] struct {
	mu sync.Mutex
	// positive holds the nodes of entries with a value (Found), negative
	// those of "no value" and error entries, each up to its capacity.
	positive, negative       *simplelru.LRU[string, *node[V]]
	positiveCap, negativeCap int
	// flights holds the loads of the shard's keys in progress, by key.
	flights map[string]*flight[V]
	// reports holds when OnLoadError was last called, by key, bounded so
	// that failures of many distinct keys cannot grow it without bound.
	reports *simplelru.LRU[string, time.Time]
}

// shardCount returns the number of shards for a cache of size entries.
func shardCount(size int) int {
	n := 1 << bits.Len(uint(4*runtime.GOMAXPROCS(0)-1))
	n = min(n, maxShards)
	for n > 1 && size/n < minShardSize {
		n /= 2
	}
	return n
}

// newShard returns an empty shard holding up to size entries with a value
// and negativeSize others.
func newShard[V any](size, negativeSize int) (*shard[V], error) {
	positive, err := simplelru.NewLRU[string, *node[V]](size, nil)
	if err != nil {
		return nil, err
	}
	negative, err := simplelru.NewLRU[string, *node[V]](negativeSize, nil)
	if err != nil {
		return nil, err
	}
	reports, err := simplelru.NewLRU[string, time.Time](size+negativeSize, nil)
	if err != nil {
		return nil, err
	}
	return &shard[V]{
		positive:    positive,
		negative:    negative,
		positiveCap: size,
		negativeCap: negativeSize,
		flights:     make(map[string]*flight[V]),
		reports:     reports,
	}, nil
}

// listFor returns the list that holds entries like e, and its capacity.
func (s *shard[V]) listFor(e *Entry[V]) (*simplelru.LRU[string, *node[V]], int) {
	if e.Found {
		return s.positive, s.positiveCap
	}
	return s.negative, s.negativeCap
}

// node returns the node of key. The caller holds s.mu.
func (s *shard[V]) node(key string) (*node[V], bool) {
	if n, ok := s.positive.Peek(key); ok {
		return n, true
	}
	return s.negative.Peek(key)
}

// peek returns the entry of key. The caller holds s.mu.
func (s *shard[V]) peek(key string) (*Entry[V], bool) {
	if n, ok := s.node(key); ok {
		return n.entry.Load(), true
	}
	return nil, false
}

// makeRoom evicts from l, which holds up to capacity nodes, until a new one
// fits, and hands each node evicted to evicted. It evicts like CLOCK: the
// oldest node goes unless a Get used it since the sweep last passed, in
// which case it is cleared and moved to the front instead (a second
// chance). Keys in use stay, and a sweep of keys used once evicts itself.
// The caller holds s.mu.
func (s *shard[V]) makeRoom(l *simplelru.LRU[string, *node[V]], capacity int, evicted func(string, *node[V])) {
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

// keys returns the keys of the shard's entries. The caller holds s.mu.
func (s *shard[V]) keys() []string {
	return append(s.positive.Keys(), s.negative.Keys()...)
}

// len returns the number of the shard's entries.
func (s *shard[V]) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.positive.Len() + s.negative.Len()
}

// supersede marks the load of key in flight, if any, as older than the
// cache's state, and forgets it, so that a later Get starts a load of its
// own. The caller holds s.mu.
func (s *shard[V]) supersede(key string) {
	if f, ok := s.flights[key]; ok {
		f.superseded = true
		delete(s.flights, key)
	}
}

// supersedeAll does supersede for every key. The caller holds s.mu.
func (s *shard[V]) supersedeAll() {
	for key := range s.flights {
		s.supersede(key)
	}
}
