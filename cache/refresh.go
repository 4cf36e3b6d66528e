package cache

import "context"

// refreshDue starts the background load of key, whose entry a Get found
// due, unless a load of key is in flight, the entry was replaced meanwhile,
// or MaxLoads loads are in flight (a later Get tries again). ctx is the
// Get's: the load keeps its values, not its cancellation.
func (c *Cache[V]) refreshDue(ctx context.Context, sh *shard[V], key string) {
	now := c.opts.Now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.flights[key]; ok {
		return
	}
	if e, ok := sh.peek(key); !ok || !c.due(e, now) {
		return
	}
	if c.acquireLoad() {
		c.startLoad(ctx, sh, key, true)
	}
}

// Refresh re-reads key in the background, while its entry keeps being
// served, and replaces the entry with the result: for a key whose sources
// changed. A key with no entry is left alone (its next Get loads it). When
// a load of key is in flight, its result is re-read again on the next Get,
// since that load may have read the sources before the change; when
// MaxLoads loads are in flight, the next Get of key starts the re-read.
func (c *Cache[V]) Refresh(key string) {
	sh := c.shardOf(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.peek(key)
	if !ok {
		return
	}
	if f, ok := sh.flights[key]; ok {
		f.again = true
		return
	}
	if c.acquireLoad() {
		c.startLoad(context.Background(), sh, key, true)
		return
	}
	forced := *e
	forced.forced = true
	c.store(sh, key, &forced)
}

// RefreshAll re-reads every cached key in the background, while the
// entries keep being served: at once for as many keys as MaxLoads allows,
// and each other key on its next Get. Entries loaded by loads in flight
// are re-read too.
func (c *Cache[V]) RefreshAll() {
	c.generation.Add(1)
	for _, sh := range c.shards {
		if !c.refreshShard(sh) {
			return
		}
	}
}

// refreshShard starts the background load of every key of sh that has
// none in flight, and says whether it could start them all before MaxLoads
// loads were in flight.
func (c *Cache[V]) refreshShard(sh *shard[V]) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, key := range sh.keys() {
		if _, ok := sh.flights[key]; ok {
			continue
		}
		if !c.acquireLoad() {
			return false
		}
		c.startLoad(context.Background(), sh, key, true)
	}
	return true
}
