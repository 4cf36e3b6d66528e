// Package cache keeps values loaded from slow sources (files, an S3 bucket,
// an origin's GetBucketCors) in memory, so that a request finds its value at
// once.
//
// A key with an entry is answered from it at once, however old: once the
// entry is past its TTL (drawn within ±10% of Options.TTL, so that entries
// loaded together do not expire together), one background load re-reads it
// and its result replaces the entry. Only a Get of a key with no entry
// waits, for one load shared by every Get of that key (single flight).
//
// When the sources fail, the last good entry keeps being served for up to
// Options.Stale past its TTL (however long, when the load was Rejected),
// and the sources are asked again a TTL later. A failed load of a key with
// no good entry is remembered as an error entry: Get answers its error at
// once for a backoff of 1 s, doubled after each further failure up to the
// TTL, so that an outage costs each key one load per backoff, not one per
// request.
//
// Up to Options.Size entries with a value are kept, and apart from them up
// to Options.NegativeSize "no value" and error entries, so that requests
// for made-up keys cannot push out a real entry. Each kind is evicted like
// CLOCK: the least recently stored entry goes, unless a Get used it since
// the eviction sweep last passed it. At most Options.MaxLoads loads run at
// once; past that, a Get that would wait fails with ErrTooManyLoads and a
// background refresh waits for a later Get.
//
// A Get that finds its key takes no lock and allocates nothing: it reads a
// concurrent index (sync.Map), marks the entry used only when it is not
// marked yet, and counts itself in counters striped per CPU, so that hits
// on many CPUs write no memory in common. Writes, loads and the eviction
// lists take one lock; each load takes it twice, and a load costs far
// more than that.
//
// The package is generic over the value type and knows nothing of CORS or
// Caddy; its clock and random source are injected through Options.
package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// LoadFunc loads the value for key from its sources. found=false with a nil
// error means the key has no value (cached as a negative entry). A non-nil
// error means the sources failed. source names the source that answered (or
// failed); it labels the entry and the load counters.
//
// ctx carries the load's own deadline (Options.LoadTimeout); a LoadFunc must
// return when ctx is done.
type LoadFunc[V any] func(ctx context.Context, key string) (value V, source string, found bool, err error)

// Cache is a cache of entries with stale-while-revalidate, single-flight
// loads, remembered failures and negative entries. It is safe for
// concurrent use.
type Cache[V any] struct {
	opts Options
	load LoadFunc[V]
	// index maps each cached key to its node. Only writers, under mu,
	// change it.
	index sync.Map
	// generation is advanced by RefreshAll: every entry whose load began
	// before is then due for a refresh.
	generation atomic.Uint64
	hits       hitCounters

	// mu orders every write (Put, Invalidate, the store of a load's
	// result) with the books, so that a load that began before a write
	// never stores over it, and a Get decides to join a load or start one
	// atomically.
	mu    sync.Mutex
	books books[V]

	stats counters
	// loadsInFlight counts the loads running, against MaxLoads.
	loadsInFlight atomic.Int64
	// loading tracks the goroutines of loads, so that a test can wait for
	// the background ones.
	loading sync.WaitGroup

	// testHookWaiting, when set by a test of this package, is called by a
	// Get that has joined a load and is about to wait for it.
	testHookWaiting func()
}

// New returns an empty cache that loads missing or expired entries with
// load.
func New[V any](opts Options, load LoadFunc[V]) (*Cache[V], error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if load == nil {
		return nil, errors.New("cache: no load function: pass the function that reads a key from its sources")
	}
	opts = opts.withDefaults()
	b, err := newBooks[V](opts.Size, opts.NegativeSize)
	if err != nil {
		return nil, err
	}
	c := &Cache[V]{opts: opts, load: load, books: b}
	c.hits.init()
	return c, nil
}

// Get returns the key's entry.
//
// A key with an entry is answered from it at once, without a lock or an
// allocation: a good entry however old (but see Options.Stale), an error
// entry's error until its backoff ends. When the entry is past its TTL, Get
// also starts one background load of the key, unless one is in flight or
// MaxLoads are; its result replaces the entry.
//
// A key with no entry (or none that may be served) is loaded, with at most
// one load per key in flight, whose result every Get waiting for it shares.
// The load runs under its own context, bounded by LoadTimeout and never
// cancelled by a caller, so a caller that leaves does not fail the load for
// the others; the context keeps the values of the ctx that started it. A
// caller waits at most until its ctx is done, and then gets ctx.Err(). When
// MaxLoads loads are in flight, Get returns ErrTooManyLoads at once.
//
// A failed load of a key with a good entry keeps that entry in use (marked
// Stale) while it is within TTL+Stale of its load, or however old when the
// error is Rejected. Otherwise the failure is remembered as an error entry,
// which Get answers with the load's error for a backoff.
func (c *Cache[V]) Get(ctx context.Context, key string) (*Entry[V], error) {
	if n, ok := c.lookup(key); ok {
		e := n.entry.Load()
		now := c.opts.Now()
		if c.servable(e, now) {
			if !n.used.Load() {
				n.used.Store(true)
			}
			if c.due(e, now) {
				c.refreshSoon(ctx, key, n)
			}
			c.hits.add(e.Err, e.kept)
			return e.answer()
		}
	}
	c.stats.misses.Add(1)
	return c.await(ctx, key)
}

// Put stores an entry for key, loaded now, replacing any entry and any
// result of a load of key still in flight.
func (c *Cache[V]) Put(key string, value V, found bool, source string) {
	now := c.opts.Now()
	e := newEntry(value, found, source, now, now.Add(c.jitteredTTL()), c.generation.Load())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.books.supersede(key)
	c.store(key, e)
}

// Invalidate drops the entry of key, so that its next Get loads it. A load
// of key in flight is not cached, and a later Get does not join it.
func (c *Cache[V]) Invalidate(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.books.supersede(key)
	c.remove(key)
}

// InvalidateAll drops every entry. No load in flight is cached.
func (c *Cache[V]) InvalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.books.supersedeAll()
	for _, key := range c.books.keys() {
		c.remove(key)
	}
}

// Peek returns the cached entry of key, error entries included, whether or
// not Get would serve it, without loading it and without marking it used.
func (c *Cache[V]) Peek(key string) (*Entry[V], bool) {
	n, ok := c.lookup(key)
	if !ok {
		return nil, false
	}
	return n.entry.Load(), true
}

// Len returns the number of entries cached, of every kind.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.books.positive.Len() + c.books.negative.Len()
}
