package caddymodule

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/source"
)

// cachedBuckets is how many buckets TestCacheBytesPerPolicy caches: enough
// that the per-entry figure is not blurred by the cache's fixed costs.
const cachedBuckets = 100_000

// TestCacheBytesPerPolicy measures the heap that the handler's policy cache
// holds per bucket: the cache entry, its key, and a typical policy
// (benchPolicy) compiled for that bucket alone, as each load from a source
// compiles its own. The figure is logged (run with -v); the bound checked is
// generous, so that the test cannot flake.
func TestCacheBytesPerPolicy(t *testing.T) {
	if raceEnabled {
		// The race detector multiplies both the time and the heap this
		// measurement takes, and skews the figure it reports.
		t.Skip("a measurement made without -race: go test -run TestCacheBytesPerPolicy -v ./caddymodule/")
	}
	const bound = 16 << 10
	doc := []byte(benchPolicy)
	load := func(_ context.Context, bucket string) (source.Result, string, bool, error) {
		pol, err := policy.Read("/etc/caddy/cors/"+bucket+".json", bytes.NewReader(doc))
		return source.Result{Found: err == nil, Policy: pol, Version: "1024@2026-03-01T12:00:00.000000000Z"}, "policy_dir", err == nil, err
	}
	// Bucket names are made in the loop, as requests bring them: the cache
	// keeps its own copy of each.
	names := func(i int) string { return fmt.Sprintf("bucket-%06d", i) }

	before := liveHeap()
	// Room to spare: the cache's shards fill unevenly, and an eviction
	// would blur the figure.
	policies, err := cache.New(cache.Options{Size: 2 * cachedBuckets, TTL: time.Hour}, load)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range cachedBuckets {
		e, err := policies.Get(ctx, names(i))
		if err != nil || !e.Found {
			t.Fatalf("loading bucket %d: found %v, %v", i, e != nil && e.Found, err)
		}
	}
	if n := policies.Len(); n != cachedBuckets {
		t.Fatalf("the cache holds %d entries; want %d", n, cachedBuckets)
	}
	after := liveHeap()
	runtime.KeepAlive(policies)
	perEntry := float64(after-before) / cachedBuckets

	// The compiled policies alone, on a sample, for the share of the
	// cache's own bookkeeping.
	const sample = cachedBuckets / 10
	kept := make([]*policy.Policy, sample)
	before = liveHeap()
	for i := range kept {
		if kept[i], err = policy.Read("/etc/caddy/cors/"+names(i)+".json", bytes.NewReader(doc)); err != nil {
			t.Fatal(err)
		}
	}
	perPolicy := float64(liveHeap()-before) / sample
	runtime.KeepAlive(kept)

	t.Logf("%d buckets cached: %.0f bytes per cached policy (compiled policy %.0f, cache entry and key %.0f); %s",
		cachedBuckets, perEntry, perPolicy, perEntry-perPolicy, runtime.Version())
	if perEntry > bound {
		t.Errorf("the cache holds %.0f bytes per cached policy; want under %d", perEntry, bound)
	}
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
