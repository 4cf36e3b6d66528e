package cache

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Shard counts: a power of two, from 4 per CPU up to maxShards, but no more
// than leaves each shard minShardSize entries: a small cache stays one
// exact 2Q/LRU, and keys spread unevenly over shards matter little in a
// large one.
const (
	maxShards    = 256
	minShardSize = 64
)

// shard is one part of the cache, holding the keys whose hash selects it.
// A Get reads the shard's two caches under their own locks; every write,
// and the bookkeeping of loads in flight, takes mu, so that the two caches
// and the flights stay consistent.
type shard[V any] struct {
	// positive holds the entries with a value (Found).
	positive *lru.TwoQueueCache[string, *Entry[V]]
	// negative holds the "no value" entries and the error entries.
	negative *lru.Cache[string, *Entry[V]]

	mu sync.Mutex
	// flights holds the loads of the shard's keys in progress, by key.
	flights map[string]*flight[V]
	// reports holds when OnLoadError was last called, by key, bounded so
	// that failures of many distinct keys cannot grow it without bound.
	reports *simplelru.LRU[string, time.Time]

	// The counters that a hit touches are the shard's own, so that hits on
	// different shards write to different cache lines.
	hits        atomic.Uint64
	staleServes atomic.Uint64
	errorServes atomic.Uint64
	// pad keeps the counters off the cache line of the next shard's fields.
	_ [64]byte
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
	// 2Q keeps a ghost list of half its size; a shard of one entry still
	// needs a ghost entry of its own.
	ghosts := lru.Default2QGhostEntries
	if int(float64(size)*ghosts) < 1 {
		ghosts = 1
	}
	positive, err := lru.New2QParams[string, *Entry[V]](size, lru.Default2QRecentRatio, ghosts)
	if err != nil {
		return nil, err
	}
	negative, err := lru.New[string, *Entry[V]](negativeSize)
	if err != nil {
		return nil, err
	}
	reports, err := simplelru.NewLRU[string, time.Time](size+negativeSize, nil)
	if err != nil {
		return nil, err
	}
	return &shard[V]{
		positive: positive,
		negative: negative,
		flights:  make(map[string]*flight[V]),
		reports:  reports,
	}, nil
}

// get returns the entry of key and marks it used.
func (s *shard[V]) get(key string) (*Entry[V], bool) {
	if e, ok := s.positive.Get(key); ok {
		return e, true
	}
	return s.negative.Get(key)
}

// peek returns the entry of key without marking it used.
func (s *shard[V]) peek(key string) (*Entry[V], bool) {
	if e, ok := s.positive.Peek(key); ok {
		return e, true
	}
	return s.negative.Peek(key)
}

// serve answers a Get from e and counts it.
func (s *shard[V]) serve(e *Entry[V]) (*Entry[V], error) {
	switch {
	case e.Err != nil:
		s.errorServes.Add(1)
	case e.kept:
		s.staleServes.Add(1)
	default:
		s.hits.Add(1)
	}
	return e.answer()
}

// store puts e under key, in the cache for its kind, and says whether that
// evicted another key. The caller holds s.mu.
func (s *shard[V]) store(key string, e *Entry[V]) (evicted bool) {
	if !e.Found {
		s.positive.Remove(key)
		return s.negative.Add(key, e)
	}
	s.negative.Remove(key)
	// TwoQueueCache.Add does not say whether it evicted: it did when the
	// key was new and the cache did not grow. Only writers, which hold
	// s.mu, change the number of entries.
	isNew := !s.positive.Contains(key)
	before := s.positive.Len()
	s.positive.Add(key, e)
	return isNew && s.positive.Len() == before
}

// remove drops the entry of key. The caller holds s.mu.
func (s *shard[V]) remove(key string) {
	s.positive.Remove(key)
	s.negative.Remove(key)
}

// purge drops every entry. The caller holds s.mu.
func (s *shard[V]) purge() {
	s.positive.Purge()
	s.negative.Purge()
}

// keys returns the keys of the shard's entries. The caller holds s.mu.
func (s *shard[V]) keys() []string {
	return append(s.positive.Keys(), s.negative.Keys()...)
}

// len returns the number of the shard's entries.
func (s *shard[V]) len() int {
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
