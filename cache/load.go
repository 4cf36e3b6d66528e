package cache

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrTooManyLoads is returned by a Get that would have to wait for a load
// while Options.MaxLoads loads are in flight. Nothing is cached for it; the
// caller may try again shortly (S3 answers 503 SlowDown for as much).
var ErrTooManyLoads = errors.New("cache: too many loads in flight (Options.MaxLoads): retry shortly, or raise MaxLoads if the sources can take more")

// flight is one load in progress. The books hold it, under the cache's
// lock, from the moment it is decided until its result is stored, so that
// deciding whether to join a load or start one, and storing a load's
// result, are atomic with every other write: that is why the cache keeps
// its own flights rather than use a single-flight library, whose group
// decides under a lock of its own.
type flight[V any] struct {
	// done is closed once entry is set.
	done chan struct{}
	// entry is the load's result, handed to every Get waiting for it: the
	// new entry, the entry kept after a failure, or an error entry.
	entry *Entry[V]
	// refresh is set when the key had an entry to serve when the load
	// began: the load is then counted in Stats.Refreshes.
	refresh bool
	// superseded is set, under the cache's lock, when the key is Put or
	// invalidated while the load runs: the load's result is then older
	// than the cache's state, and is returned to its waiters but not
	// stored.
	superseded bool
	// again is set, under the cache's lock, when Refresh asks for the key
	// while the load runs, which may have read the sources before the
	// change that Refresh is for: the stored result is then due at once.
	again bool
	// marked is the node whose refreshing flag the load set, and clears
	// when it ends.
	marked *node[V]
}

// await joins the load of key, starting it if none is in flight, and waits
// for its result or for ctx to be done.
func (c *Cache[V]) await(ctx context.Context, key string) (*Entry[V], error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, e, err := c.joinOrStart(ctx, key)
	if err != nil {
		return nil, err
	}
	if e != nil {
		return e.answer()
	}
	c.stats.loadWaits.Add(1)
	if c.testHookWaiting != nil {
		c.testHookWaiting()
	}
	select {
	case <-f.done:
		return f.entry.answer()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// joinOrStart returns the load of key in flight, starting one if there is
// none, or, when key has an entry that can be served after all, that entry.
// A Get can miss just before a load of its key stores its entry; looking
// again here, under the lock that orders every store, answers it from that
// entry rather than with a second load.
func (c *Cache[V]) joinOrStart(ctx context.Context, key string) (*flight[V], *Entry[V], error) {
	now := c.opts.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.books.peek(key); ok && c.servable(e, now) {
		return nil, e, nil
	}
	if f, ok := c.books.flights[key]; ok {
		return f, nil, nil
	}
	if !c.acquireLoad() {
		return nil, nil, ErrTooManyLoads
	}
	return c.startLoad(ctx, key, false), nil, nil
}

// acquireLoad takes one of the MaxLoads load slots, or says that none is
// free and counts the refusal.
func (c *Cache[V]) acquireLoad() bool {
	limit := int64(c.opts.MaxLoads)
	for {
		n := c.loadsInFlight.Load()
		if n >= limit {
			c.stats.loadsRejected.Add(1)
			return false
		}
		if c.loadsInFlight.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// startLoad records a load of key in flight, marks the key's node (if
// any) as refreshing, and runs the load in a goroutine of its own, so that
// it outlives a caller that leaves. The caller holds c.mu and a load slot,
// which the load gives back.
func (c *Cache[V]) startLoad(starter context.Context, key string, refresh bool) *flight[V] {
	f := &flight[V]{done: make(chan struct{}), refresh: refresh}
	if n, ok := c.books.node(key); ok {
		n.refreshing.Store(true)
		f.marked = n
	}
	c.books.flights[key] = f
	c.loading.Go(func() {
		c.runLoad(starter, key, f)
	})
	return f
}

// loadOutcome is what one call of the LoadFunc gave.
type loadOutcome[V any] struct {
	value      V
	source     string
	found      bool
	err        error
	startedAt  time.Time
	generation uint64
}

// runLoad calls the LoadFunc for key, stores its result unless the key was
// written meanwhile, and hands it to the Gets waiting on f. starter is the
// ctx of the Get that started the load, if any.
func (c *Cache[V]) runLoad(starter context.Context, key string, f *flight[V]) {
	r := loadOutcome[V]{startedAt: c.opts.Now(), generation: c.generation.Load()}
	r.value, r.source, r.found, r.err = c.callLoad(starter, key)
	c.stats.countLoad(r.source, r.found, r.err)
	if f.refresh {
		c.stats.countRefresh(r.err)
	}
	report := c.finishLoad(key, f, r)
	c.loadsInFlight.Add(-1)
	close(f.done)
	if report {
		c.opts.OnLoadError(key, r.err, f.entry.kept)
	}
}

// finishLoad settles the result of the load f of key, stores it unless f
// was superseded, and forgets f. It says whether to report the load's
// error to OnLoadError.
func (c *Cache[V]) finishLoad(key string, f *flight[V], r loadOutcome[V]) (report bool) {
	now := c.opts.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.marked != nil {
		f.marked.refreshing.Store(false)
	}
	cur, _ := c.books.peek(key)
	e := c.settle(cur, r, now)
	if f.again {
		forced := *e
		forced.forced = true
		e = &forced
	}
	f.entry = e
	if c.books.flights[key] == f {
		delete(c.books.flights, key)
	}
	if !f.superseded {
		c.store(key, e)
	}
	return r.err != nil && c.reportDue(key, now)
}

// settle returns the entry that a load's outcome r leaves for a key whose
// entry is cur (nil for none), at now.
//
// A success gives a new entry, fresh for a jittered TTL from the start of
// the load, so that its age counts from when the sources were read. A
// failure keeps a good cur in use (a copy, marked stale, to be re-read a
// TTL later) while it is within TTL+Stale of its load, or however old when
// the error is Rejected (the copy is then pinned). Otherwise the failure
// becomes an error entry, answered for a backoff from now: a Rejected one
// for a TTL, since asking again will not help until someone fixes the
// document; any other for 1 s, doubled on each consecutive failure up to
// the TTL.
func (c *Cache[V]) settle(cur *Entry[V], r loadOutcome[V], now time.Time) *Entry[V] {
	if r.err == nil {
		return newEntry(r.value, r.found, r.source, r.startedAt, r.startedAt.Add(c.jitteredTTL()), r.generation)
	}
	rejected := IsRejected(r.err)
	if cur != nil && cur.Err == nil && (rejected || cur.pinned || c.withinStale(cur, now)) {
		kept := *cur
		kept.CheckedAt = r.startedAt
		kept.dueAt = now.Add(c.jitteredTTL())
		kept.kept = true
		kept.pinned = cur.pinned || rejected
		kept.generation = r.generation
		kept.forced = false
		return &kept
	}
	failures := 1
	if cur != nil && cur.Err != nil {
		failures = cur.failures + 1
	}
	wait := c.backoff(failures)
	if rejected {
		wait = c.jitteredTTL()
	}
	return &Entry[V]{
		Source:     r.source,
		CheckedAt:  r.startedAt,
		Err:        r.err,
		dueAt:      now.Add(wait),
		failures:   failures,
		generation: r.generation,
	}
}

// callLoad calls the LoadFunc under a context of the load's own: the values
// of starter, none of its cancellation, and the LoadTimeout deadline. A
// panic of the LoadFunc becomes an error, since it would otherwise crash
// the process from a goroutine where nothing can recover it.
func (c *Cache[V]) callLoad(starter context.Context, key string) (value V, source string, found bool, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(starter), c.opts.LoadTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			var zero V
			value, found, err = zero, false, fmt.Errorf("cache: load of %q panicked: %v", key, p)
		}
	}()
	value, source, found, err = c.load(ctx, key)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("cache: load of %q timed out after %v: %w", key, c.opts.LoadTimeout, err)
	}
	return value, source, found, err
}
