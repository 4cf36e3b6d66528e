package cache

import "context"

// refreshSoon has the due entry of key, in node n, re-read in the
// background, unless a load of key runs or is being started already, or
// MaxLoads loads are in flight. It takes the cache's lock only to start
// the load, so that the Gets of a due entry do not queue for that lock
// while its refresh runs.
func (c *Cache[V]) refreshSoon(ctx context.Context, key string, n *node[V]) {
	if n.refreshing.Load() {
		return
	}
	if c.loadsInFlight.Load() >= int64(c.opts.MaxLoads) {
		c.stats.loadsRejected.Add(1)
		return
	}
	if n.refreshing.CompareAndSwap(false, true) {
		c.refreshDue(ctx, key, n)
	}
}

// refreshDue starts the background load of key, whose node n a Get found
// due and marked refreshing, unless a load of key is in flight, the entry
// was replaced meanwhile, or MaxLoads loads are in flight (a later Get
// tries again). The load started clears the mark when it ends; when none
// starts, refreshDue clears it, or hands it to the load in flight. ctx is
// the Get's: the load keeps its values, not its cancellation.
func (c *Cache[V]) refreshDue(ctx context.Context, key string, n *node[V]) {
	now := c.opts.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.books.node(key); !ok || cur != n {
		n.refreshing.Store(false) // n left the cache: nothing to refresh
		return
	}
	if f, ok := c.books.flights[key]; ok {
		f.marked = n
		return
	}
	if !c.due(n.entry.Load(), now) || !c.acquireLoad() {
		n.refreshing.Store(false)
		return
	}
	c.startLoad(ctx, key, true)
}

// Refresh re-reads key in the background, while its entry keeps being
// served, and replaces the entry with the result: for a key whose sources
// changed. A key with no entry is left alone (its next Get loads it). When
// a load of key is in flight, its result is re-read again on the next Get,
// since that load may have read the sources before the change; when
// MaxLoads loads are in flight, the next Get of key starts the re-read.
func (c *Cache[V]) Refresh(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.books.peek(key)
	if !ok {
		return
	}
	if f, ok := c.books.flights[key]; ok {
		f.again = true
		return
	}
	if c.acquireLoad() {
		c.startLoad(context.Background(), key, true)
		return
	}
	forced := *e
	forced.forced = true
	c.store(key, &forced)
}

// RefreshAll re-reads every cached key in the background, while the
// entries keep being served: at once for as many keys as MaxLoads allows,
// and each other key on its next Get. Entries loaded by loads in flight
// are re-read too.
func (c *Cache[V]) RefreshAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation.Add(1)
	for _, key := range c.books.keys() {
		if _, ok := c.books.flights[key]; ok {
			continue
		}
		if !c.acquireLoad() {
			return
		}
		c.startLoad(context.Background(), key, true)
	}
}
