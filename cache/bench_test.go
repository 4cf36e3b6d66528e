package cache

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// benchCache returns a cache of the default size in caddymodule (10,000)
// holding keys k0..k(n-1), fresh for the whole benchmark, and their names.
func benchCache(b *testing.B, n int) (*Cache[string], []string) {
	b.Helper()
	load := func(_ context.Context, key string) (string, string, bool, error) {
		return "policy of " + key, "bench", true, nil
	}
	c := mustNew(b, Options{Size: 10000, TTL: time.Hour}, load)
	names := make([]string, n)
	for i := range names {
		names[i] = "k" + strconv.Itoa(i)
		mustGet(b, c, names[i])
	}
	return c, names
}

// BenchmarkGet measures a hit: no load, no allocation.
func BenchmarkGet(b *testing.B) {
	c, names := benchCache(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, names[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetParallel measures hits from every CPU at once, over 1,024
// keys: with -cpu 1,2 it shows whether hits scale with the CPUs or contend
// for a lock or a cache line.
func BenchmarkGetParallel(b *testing.B) {
	const keys = 1024
	c, names := benchCache(b, keys)
	ctx := context.Background()
	var goroutines atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		// Each goroutine walks the keys from its own place, so that they
		// do not read the same entries in step.
		i := int(goroutines.Add(1)) * 389
		for pb.Next() {
			if _, err := c.Get(ctx, names[i%keys]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
