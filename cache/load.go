package cache

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// flight is one load in progress.
type flight struct {
	// superseded is set, under Cache.mu, when the key is Put or invalidated
	// while the load runs: the load's result is then older than the cache's
	// state, and is returned to its waiters but not stored.
	superseded bool
}

// loadResult is what a load hands to every Get waiting for it.
type loadResult[V any] struct {
	entry *Entry[V]
	// stale is set when the load failed and entry is the cached one.
	stale bool
}

// await joins the load of key, starting it if none is in flight, and waits
// for its result or for ctx to be done.
func (c *Cache[V]) await(ctx context.Context, key string) (*Entry[V], error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// DoChan runs the load in a goroutine of its own, so the load outlives
	// a caller that leaves.
	ch := c.group.DoChan(key, func() (any, error) {
		return c.loadAndStore(ctx, key)
	})
	if c.testHookWaiting != nil {
		c.testHookWaiting()
	}
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		r := res.Val.(*loadResult[V])
		if r.stale {
			c.stats.staleServes.Add(1)
		}
		return r.entry, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// loadAndStore loads key, stores the result unless the key was written
// meanwhile, and falls back on the cached entry when the load fails.
// starter is the ctx of the Get that started the load.
func (c *Cache[V]) loadAndStore(starter context.Context, key string) (*loadResult[V], error) {
	f, fresh := c.beginFlight(key)
	if fresh != nil {
		return &loadResult[V]{entry: fresh}, nil
	}
	startedAt := c.opts.Now()
	value, source, found, err := c.callLoad(starter, key)
	c.stats.countLoad(source, found, err)
	if err != nil {
		kept := c.keepAfterFailure(key, err, startedAt)
		if kept == nil && IsRejected(err) {
			// Nothing good to keep: remember the rejection for a TTL.
			c.endFlight(key, f, &Entry[V]{Source: source, LoadedAt: startedAt, checkedAt: startedAt, rejection: err})
			return nil, err
		}
		c.endFlight(key, f, kept)
		if kept == nil {
			return nil, err
		}
		return &loadResult[V]{entry: kept, stale: true}, nil
	}
	// The entry's age counts from the start of the load, so that no entry
	// is served more than TTL after its sources were read.
	e := newEntry(value, found, source, startedAt)
	c.endFlight(key, f, e)
	return &loadResult[V]{entry: e}, nil
}

// callLoad calls the LoadFunc under a context of the load's own: the values
// of starter, none of its cancellation, and the LoadTimeout deadline. A
// panic of the LoadFunc becomes an error, since singleflight would re-panic
// it in a goroutine where nothing can recover it.
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

// beginFlight records a load of key in progress, unless key has a fresh
// entry, which it returns instead. A Get can miss just before the previous
// load of its key stores its entry and leaves the single-flight group, and
// so start a second load; looking again here, under the lock that orders
// every store, ends such a load before it calls the sources.
func (c *Cache[V]) beginFlight(key string) (*flight, *Entry[V]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries.Peek(key); ok && c.fresh(e) {
		return nil, e
	}
	f := &flight{}
	c.flights[key] = f
	return f, nil
}

// endFlight forgets the load f of key and stores its entry e, when there is
// one and the key was not written while f ran.
func (c *Cache[V]) endFlight(key string, f *flight, e *Entry[V]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	if e != nil && !f.superseded {
		c.store(key, e)
	}
}

// supersede marks the load of key in flight, if any, as older than the
// cache's state. The caller holds c.mu.
func (c *Cache[V]) supersede(key string) {
	if f, ok := c.flights[key]; ok {
		f.superseded = true
	}
}

// keepAfterFailure answers a failed load of key that began at checkedAt: it
// returns a copy of the cached entry to keep serving, with the sources to be
// asked again a TTL later, while the entry is within TTL+Stale of its load
// (or however old, when err is Rejected); else nil. The failure is reported
// either way.
func (c *Cache[V]) keepAfterFailure(key string, err error, checkedAt time.Time) *Entry[V] {
	e, ok := c.entries.Peek(key)
	rejected := IsRejected(err)
	served := ok && e.rejection == nil && (rejected || e.pinned || c.withinStale(e, c.opts.Now()))
	c.reportLoadError(key, err, served)
	if !served {
		return nil
	}
	kept := *e
	kept.checkedAt = checkedAt
	kept.pinned = e.pinned || rejected
	return &kept
}

// rejectedError marks a load whose source answered, but with a value it
// could not accept, such as a document that does not validate.
type rejectedError struct{ err error }

func (e rejectedError) Error() string { return e.err.Error() }
func (e rejectedError) Unwrap() error { return e.err }

// Rejected marks err as a source's refusal of what it read. Asking again
// will not help until someone fixes it, so the last good entry of the key
// stays in use however old it grows, until a load succeeds; a key with no
// good entry answers the error for a TTL before its sources are read again.
func Rejected(err error) error {
	if err == nil {
		return nil
	}
	return rejectedError{err}
}

// IsRejected says whether err, or an error it wraps, was marked by Rejected.
func IsRejected(err error) bool {
	var r rejectedError
	return errors.As(err, &r)
}
