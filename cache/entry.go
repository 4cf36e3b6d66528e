package cache

import "time"

// Entry is one cached result: a value, "no value" (a negative entry), or a
// remembered failure (an error entry). It is never modified once stored: a
// new result replaces the whole Entry.
type Entry[V any] struct {
	// Value is the loaded value; the zero value when Found is false.
	Value V
	// Found is false for a negative entry ("this key has no value") and for
	// an error entry.
	Found bool
	// Source names the source that gave the entry (or failed, for an error
	// entry).
	Source string
	// LoadedAt is when the value was read: when the load that gave it
	// began, or when it was Put. Zero for an error entry.
	LoadedAt time.Time
	// CheckedAt is when the sources were last asked for the key: LoadedAt,
	// or the start of a later load that failed.
	CheckedAt time.Time
	// Err is set on an error entry: the key has no good entry and its last
	// load failed with Err. Get answers Err instead of the entry until the
	// entry's backoff is over; Peek shows the entry itself.
	Err error

	// dueAt is when the entry is next to be re-read: its jittered TTL after
	// the load that gave it, or, for an error entry, the end of its backoff.
	dueAt time.Time
	// kept is set on an entry kept in use after a failed load (see Stale).
	kept bool
	// pinned is set when the sources answered with something they could not
	// accept (see Rejected): the entry then stays in use however old it
	// grows, until a load succeeds.
	pinned bool
	// failures counts the consecutive failed loads behind an error entry;
	// it sets the entry's backoff.
	failures int
	// generation is the cache's generation when the load that gave the
	// entry began; RefreshAll starts a new one, which makes every older
	// entry due.
	generation uint64
	// forced is set by a Refresh that could not start a load at once: the
	// next Get of the key starts it.
	forced bool
}

// Stale reports whether the entry is kept in use after a failed load: its
// value is older than the sources' last answer.
func (e *Entry[V]) Stale() bool {
	return e.kept
}

// answer is what Get returns for e: the entry, or the error it remembers.
func (e *Entry[V]) answer() (*Entry[V], error) {
	if e.Err != nil {
		return nil, e.Err
	}
	return e, nil
}

// newEntry returns the entry of a successful load or a Put, with the zero
// value when found is false, so that a negative entry never carries a value
// a caller could mistake for one.
func newEntry[V any](value V, found bool, source string, loadedAt, dueAt time.Time, generation uint64) *Entry[V] {
	if !found {
		var zero V
		value = zero
	}
	return &Entry[V]{
		Value:      value,
		Found:      found,
		Source:     source,
		LoadedAt:   loadedAt,
		CheckedAt:  loadedAt,
		dueAt:      dueAt,
		generation: generation,
	}
}

// servable says whether e may answer a Get at now without waiting for a
// load: an error entry until its backoff ends; a good entry however old,
// unless it was kept after a failed load and is past TTL+Stale (and not
// pinned by a Rejected load).
func (c *Cache[V]) servable(e *Entry[V], now time.Time) bool {
	if e.Err != nil {
		return now.Before(e.dueAt)
	}
	return !e.kept || e.pinned || c.withinStale(e, now)
}

// withinStale says whether the good entry e may still be served at now
// after its loads failed.
func (c *Cache[V]) withinStale(e *Entry[V], now time.Time) bool {
	return now.Before(e.LoadedAt.Add(c.opts.TTL + c.opts.Stale))
}

// due says whether e is to be re-read in the background: it is past its
// TTL, a Refresh asked for it, or RefreshAll was called since its load.
func (c *Cache[V]) due(e *Entry[V], now time.Time) bool {
	return !now.Before(e.dueAt) || e.forced || e.generation != c.generation.Load()
}
