package cache

import (
	"sync/atomic"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// node is a key's place in the cache. The cache's index maps the key to
// its node, which one of the books' lists holds; a new result replaces the
// node's entry, so that a Get finds it without a lock.
type node[V any] struct {
	entry atomic.Pointer[Entry[V]]
	// used is set by a Get that finds the node, and cleared when the
	// eviction sweep passes over it (see books.makeRoom). A Get writes it
	// only when it is clear, so that a key in steady use costs its hits no
	// write to memory that other CPUs read.
	used atomic.Bool
	// refreshing is set while a load of the key runs, or a Get is about to
	// start one, so that the other Gets of a due entry do not all take
	// the cache's lock to find that out. The load that set it clears it
	// (flight.marked).
	refreshing atomic.Bool
}

// lookup returns the node of key from the index, without a lock.
func (c *Cache[V]) lookup(key string) (*node[V], bool) {
	v, ok := c.index.Load(key)
	if !ok {
		return nil, false
	}
	return v.(*node[V]), true
}

// store makes e the entry of key, in the list for its kind, evicting
// another key if that list is full. The caller holds c.mu.
func (c *Cache[V]) store(key string, e *Entry[V]) {
	b := &c.books
	if n, ok := b.node(key); ok {
		from, _ := b.listFor(n.entry.Load())
		n.entry.Store(e)
		if to, capacity := b.listFor(e); to != from {
			from.Remove(key)
			c.insert(to, capacity, key, n)
		}
		return
	}
	n := &node[V]{}
	n.entry.Store(e)
	to, capacity := b.listFor(e)
	c.insert(to, capacity, key, n)
	c.index.Store(key, n)
}

// insert adds n under key to l, which holds up to capacity nodes, after
// making room for it. The caller holds c.mu.
func (c *Cache[V]) insert(l *simplelru.LRU[string, *node[V]], capacity int, key string, n *node[V]) {
	c.books.makeRoom(l, capacity, func(key string, n *node[V]) {
		c.index.CompareAndDelete(key, n)
		c.stats.evictions.Add(1)
	})
	l.Add(key, n)
}

// remove drops the entry of key. The caller holds c.mu.
func (c *Cache[V]) remove(key string) {
	b := &c.books
	n, ok := b.node(key)
	if !ok {
		return
	}
	b.positive.Remove(key)
	b.negative.Remove(key)
	c.index.CompareAndDelete(key, n)
}
