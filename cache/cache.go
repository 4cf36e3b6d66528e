// Package cache keeps values loaded from slow sources (files, an S3 bucket,
// an origin's GetBucketCors) in a size-bounded LRU, so that a request finds
// its value in memory. Entries live for a TTL and are then re-read; loads of
// one key are single-flighted; when the sources fail, the last good entry
// can be served for a while (stale-if-error); "no value" is cached too, as a
// negative entry.
//
// The package is generic over the value type and knows nothing of CORS or
// Caddy; its clock is injected through Options.Now.
package cache

import (
	"context"
	"errors"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/sync/singleflight"
)

// LoadFunc loads the value for key from its sources. found=false with a nil
// error means the key has no value (cached as a negative entry). A non-nil
// error means the sources failed. source names the source that answered (or
// failed); it labels the entry and the load counters.
//
// ctx carries the load's own deadline (Options.LoadTimeout); a LoadFunc must
// return when ctx is done.
type LoadFunc[V any] func(ctx context.Context, key string) (value V, source string, found bool, err error)

// Entry is one cached result. It is never modified once stored: a new
// result replaces the whole Entry.
type Entry[V any] struct {
	// Value is the loaded value; the zero value when Found is false.
	Value V
	// Found is false for a negative entry: "this key has no value".
	Found bool
	// Source names the source that gave the entry.
	Source string
	// LoadedAt is when the load that gave the entry began, or when the
	// entry was Put.
	LoadedAt time.Time

	// checkedAt is when the sources were last asked for the key: LoadedAt,
	// or the time of a failed load that kept this entry in use. It starts
	// the TTL, so that a failing source is retried once per TTL, not by
	// every request.
	checkedAt time.Time
	// pinned is set when the sources answered with something they could not
	// accept (see Rejected): the entry then stays in use however old it
	// grows, until a load succeeds.
	pinned bool
	// rejection is set on an entry that stands for a Rejected load with no
	// good entry before it: Get answers it as the error until the TTL
	// passes, so a broken document is not read again by every request.
	rejection error
}

// Stale reports whether the entry is kept in use after a failed load.
func (e *Entry[V]) Stale() bool {
	return !e.checkedAt.Equal(e.LoadedAt)
}

// newEntry returns an entry, with the zero value when found is false, so
// that a negative entry never carries a value a caller could mistake for
// one.
func newEntry[V any](value V, found bool, source string, loadedAt time.Time) *Entry[V] {
	if !found {
		var zero V
		value = zero
	}
	return &Entry[V]{Value: value, Found: found, Source: source, LoadedAt: loadedAt, checkedAt: loadedAt}
}

// Cache is an LRU of entries with TTL, single-flight loads, stale-if-error
// and negative entries. It is safe for concurrent use.
type Cache[V any] struct {
	opts    Options
	load    LoadFunc[V]
	entries *lru.Cache[string, *Entry[V]]
	group   singleflight.Group
	stats   counters

	// mu orders every write to entries (Put, Invalidate, InvalidateAll and
	// the store of a load's result) with the bookkeeping of loads in flight,
	// so that a load that began before a write never stores over it. Reads
	// take only the LRU's own lock.
	mu sync.Mutex
	// flights holds the loads in progress, by key.
	flights map[string]*flight
	// reports holds when OnLoadError was last called, by key. It is an LRU
	// of Size keys so that failures of many distinct keys cannot grow it
	// without bound.
	reports *simplelru.LRU[string, time.Time]

	// testHookWaiting, when set, is called by a Get that has joined a load
	// and is about to wait for it.
	testHookWaiting func()
}

// New returns an empty cache that loads missing or expired entries with
// load.
func New[V any](opts Options, load LoadFunc[V]) (*Cache[V], error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if load == nil {
		return nil, errors.New("cache: no load function")
	}
	opts = opts.withDefaults()
	entries, err := lru.New[string, *Entry[V]](opts.Size)
	if err != nil {
		return nil, err
	}
	reports, err := simplelru.NewLRU[string, time.Time](opts.Size, nil)
	if err != nil {
		return nil, err
	}
	return &Cache[V]{
		opts:    opts,
		load:    load,
		entries: entries,
		flights: make(map[string]*flight),
		reports: reports,
	}, nil
}

// Get returns the key's entry. A fresh cached entry is returned at once,
// without allocating or loading. Otherwise Get loads it, with at most one
// load per key in flight, whose result every Get waiting for it shares.
//
// The load runs under its own context, bounded by LoadTimeout and never
// cancelled by a caller, so a caller that leaves does not fail the load for
// the others; the context keeps the values of the ctx that started it. A
// caller waits at most until its ctx is done, and then gets ctx.Err().
//
// When the load fails and the key has an entry younger than TTL+Stale (of
// any age, when the error is Rejected), that entry is returned (a stale
// serve) and kept, and the sources are asked again a TTL later, not by
// every request meanwhile; otherwise the load's error is returned and
// nothing is cached.
func (c *Cache[V]) Get(ctx context.Context, key string) (*Entry[V], error) {
	if e, ok := c.entries.Get(key); ok && c.fresh(e) {
		if e.rejection != nil {
			c.stats.hits.Add(1)
			return nil, e.rejection
		}
		if e.Stale() {
			c.stats.staleServes.Add(1)
		} else {
			c.stats.hits.Add(1)
		}
		return e, nil
	}
	c.stats.misses.Add(1)
	return c.await(ctx, key)
}

// Put stores an entry for key, loaded now, replacing any entry and any
// result of a load of key still in flight.
func (c *Cache[V]) Put(key string, value V, found bool, source string) {
	e := newEntry(value, found, source, c.opts.Now())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.supersede(key)
	c.store(key, e)
}

// Invalidate drops the entry of key, so that its next Get loads it. A load
// of key in flight is not cached.
func (c *Cache[V]) Invalidate(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.supersede(key)
	c.entries.Remove(key)
}

// InvalidateAll drops every entry. No load in flight is cached.
func (c *Cache[V]) InvalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.flights {
		f.superseded = true
	}
	c.entries.Purge()
}

// Peek returns the cached entry of key, fresh or not, without loading it
// and without making it more recently used.
func (c *Cache[V]) Peek(key string) (*Entry[V], bool) {
	return c.entries.Peek(key)
}

// Len returns the number of entries cached, fresh or not.
func (c *Cache[V]) Len() int {
	return c.entries.Len()
}

// fresh says whether e can be served without asking the sources: they were
// asked less than a TTL ago, and, for an entry kept after a failed load, it
// is still within its stale window (or pinned).
func (c *Cache[V]) fresh(e *Entry[V]) bool {
	now := c.opts.Now()
	if now.Sub(e.checkedAt) >= c.opts.TTL {
		return false
	}
	return !e.Stale() || e.pinned || c.withinStale(e, now)
}

// withinStale says whether e may still be served after a failed load at now.
func (c *Cache[V]) withinStale(e *Entry[V], now time.Time) bool {
	return now.Sub(e.LoadedAt) < c.opts.TTL+c.opts.Stale
}

// store adds e under key and counts the entry it evicts, if any. The
// caller holds c.mu.
//
// Evictions are counted from Add's result rather than from an eviction
// callback, because golang-lru calls that callback for Remove and Purge
// too.
func (c *Cache[V]) store(key string, e *Entry[V]) {
	if c.entries.Add(key, e) {
		c.stats.evictions.Add(1)
	}
}
