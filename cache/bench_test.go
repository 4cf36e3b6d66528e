package cache

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// benchCache returns a cache holding keys k0..k(n-1), fresh for the whole
// benchmark.
func benchCache(b *testing.B, n int) *Cache[string] {
	b.Helper()
	load := func(_ context.Context, key string) (string, string, bool, error) {
		return "policy of " + key, "bench", true, nil
	}
	c := mustNew(b, Options{Size: n, TTL: time.Hour}, load)
	for i := range n {
		mustGet(b, c, "k"+strconv.Itoa(i))
	}
	return c
}

func BenchmarkGetHit(b *testing.B) {
	c := benchCache(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, "k0"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetHitParallel(b *testing.B) {
	const keys = 64
	c := benchCache(b, keys)
	names := make([]string, keys)
	for i := range names {
		names[i] = "k" + strconv.Itoa(i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.Get(ctx, names[i%keys]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
