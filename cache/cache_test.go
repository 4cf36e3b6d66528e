package cache

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewRejectsBadOptions(t *testing.T) {
	load := newFakeSource(nil).load
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"no size", Options{TTL: time.Second}, []string{"size is 0"}},
		{"no ttl", Options{Size: 1}, []string{"ttl is 0s"}},
		{"negative stale", Options{Size: 1, TTL: time.Second, Stale: -1}, []string{"stale is -1ns"}},
		{"negative load timeout", Options{Size: 1, TTL: time.Second, LoadTimeout: -1}, []string{"load timeout is -1ns"}},
		{"negative error interval", Options{Size: 1, TTL: time.Second, ErrorInterval: -1}, []string{"error interval is -1ns"}},
		{"all reported together", Options{Size: -1, TTL: -1}, []string{"size is -1", "ttl is -1ns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts, load)
			if err == nil {
				t.Fatal("New: no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if _, err := New[string](Options{Size: 1, TTL: time.Second}, nil); err == nil {
		t.Error("New with no load function: no error")
	}
}

func TestNewFillsDefaults(t *testing.T) {
	c := mustNew(t, Options{Size: 1, TTL: time.Minute}, newFakeSource(nil).load)

	if c.opts.LoadTimeout != DefaultLoadTimeout || c.opts.ErrorInterval != time.Minute || c.opts.Now == nil {
		t.Errorf("options = %+v, want LoadTimeout %v, ErrorInterval the TTL, Now set", c.opts, DefaultLoadTimeout)
	}
}

func TestGetHitAndMiss(t *testing.T) {
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "policy-a"})
	c := mustNew(t, testOptions(clock), src.load)

	first := mustGet(t, c, "a")
	second := mustGet(t, c, "a")

	if first.Value != "policy-a" || !first.Found || first.Source != "fake" || !first.LoadedAt.Equal(clock.Now()) {
		t.Errorf("first Get = %+v", first)
	}
	if second != first {
		t.Errorf("second Get returned a new entry %+v, want the cached %+v", second, first)
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("loads = %d, want 1", n)
	}
	st := c.Stats()
	if st.Hits != 1 || st.Misses != 1 {
		t.Errorf("hits, misses = %d, %d, want 1, 1", st.Hits, st.Misses)
	}
}

func TestTTL(t *testing.T) {
	tests := []struct {
		name      string
		advance   time.Duration
		wantValue string
		wantLoads int64
	}{
		{"fresh just before ttl", time.Minute - time.Nanosecond, "v1", 1},
		{"re-read at ttl", time.Minute, "v2", 2},
		{"re-read long after ttl", time.Hour, "v2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			src := newFakeSource(map[string]string{"a": "v1"})
			c := mustNew(t, testOptions(clock), src.load)
			mustGet(t, c, "a")

			src.set("a", "v2")
			clock.Advance(tt.advance)
			e := mustGet(t, c, "a")

			if e.Value != tt.wantValue {
				t.Errorf("value = %q, want %q", e.Value, tt.wantValue)
			}
			if n := src.calls.Load(); n != tt.wantLoads {
				t.Errorf("loads = %d, want %d", n, tt.wantLoads)
			}
		})
	}
}

func TestStaleIfError(t *testing.T) {
	tests := []struct {
		name      string
		stale     time.Duration
		advance   time.Duration
		wantStale bool
	}{
		{"within the stale window", 5 * time.Minute, time.Minute + 3*time.Minute, true},
		{"at the end of the stale window", 5 * time.Minute, time.Minute + 5*time.Minute - time.Nanosecond, true},
		{"past the stale window", 5 * time.Minute, time.Minute + 5*time.Minute, false},
		{"stale disabled", 0, time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			src := newFakeSource(map[string]string{"a": "v1"})
			opts := testOptions(clock)
			opts.Stale = tt.stale
			c := mustNew(t, opts, src.load)
			good := mustGet(t, c, "a")

			src.setFailing(true)
			clock.Advance(tt.advance)
			e, err := c.Get(context.Background(), "a")

			if tt.wantStale {
				if err != nil || e.Value != good.Value || !e.LoadedAt.Equal(good.LoadedAt) || !e.Stale() {
					t.Fatalf("Get = %+v, %v; want the last good entry %+v, marked stale", e, err, good)
				}
				if kept, _ := c.Peek("a"); kept != e {
					t.Errorf("cached entry after a stale serve = %+v, want the one served, %+v", kept, e)
				}
				if st := c.Stats(); st.StaleServes != 1 {
					t.Errorf("stale serves = %d, want 1", st.StaleServes)
				}
				return
			}
			if !errors.Is(err, errSourceDown) {
				t.Fatalf("Get = %+v, %v; want %v", e, err, errSourceDown)
			}
			if st := c.Stats(); st.StaleServes != 0 {
				t.Errorf("stale serves = %d, want 0", st.StaleServes)
			}
		})
	}
}

func TestStaleServeRetriesTheSourcesOncePerTTL(t *testing.T) {
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "v1"})
	c := mustNew(t, testOptions(clock), src.load)
	mustGet(t, c, "a")

	src.setFailing(true)
	clock.Advance(2 * time.Minute)
	mustGet(t, c, "a") // fails, serves v1 and keeps it for one TTL
	clock.Advance(30 * time.Second)
	if e := mustGet(t, c, "a"); e.Value != "v1" || !e.Stale() {
		t.Errorf("within the retry TTL: %+v, want stale v1", e)
	}
	if n := src.calls.Load(); n != 2 {
		t.Errorf("loads = %d, want 2: a failed source is not asked again within the TTL", n)
	}

	src.setFailing(false)
	src.set("a", "v2")
	clock.Advance(30 * time.Second)
	e := mustGet(t, c, "a")
	if e.Value != "v2" || e.Stale() {
		t.Errorf("once the source is back and the TTL is over: %+v, want fresh v2", e)
	}
	if n := src.calls.Load(); n != 3 {
		t.Errorf("loads = %d, want 3", n)
	}
	if st := c.Stats(); st.StaleServes != 2 {
		t.Errorf("stale serves = %d, want 2", st.StaleServes)
	}
}

func TestStaleServeEndsWithTheStaleWindow(t *testing.T) {
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "v1"})
	c := mustNew(t, testOptions(clock), src.load) // TTL 1m, stale 5m
	mustGet(t, c, "a")

	src.setFailing(true)
	clock.Advance(5*time.Minute + 30*time.Second)
	mustGet(t, c, "a") // a stale serve, kept until 6m after the load
	clock.Advance(31 * time.Second)
	if e, err := c.Get(context.Background(), "a"); !errors.Is(err, errSourceDown) {
		t.Fatalf("past the stale window: %+v, %v; want %v", e, err, errSourceDown)
	}
}

func TestRejectedLoadKeepsTheLastGoodEntry(t *testing.T) {
	clock := newFakeClock()
	var rejecting atomic.Bool
	load := func(context.Context, string) (string, string, bool, error) {
		if rejecting.Load() {
			return "", "dir", false, Rejected(errors.New("document does not validate"))
		}
		return "good", "dir", true, nil
	}
	c := mustNew(t, testOptions(clock), load)
	mustGet(t, c, "a")

	rejecting.Store(true)
	for i := 0; i < 3; i++ {
		clock.Advance(time.Hour) // far past TTL+Stale
		if e := mustGet(t, c, "a"); e.Value != "good" {
			t.Fatalf("after %d hours of rejected loads: %+v, want the last good entry", i+1, e)
		}
	}
	rejecting.Store(false)
	clock.Advance(time.Hour)
	if e := mustGet(t, c, "a"); e.Stale() {
		t.Errorf("after a good load: %+v, want a fresh entry", e)
	}
}

func TestFailedLoadOfMissingKeyIsNotCached(t *testing.T) {
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "v1"})
	src.setFailing(true)
	c := mustNew(t, testOptions(clock), src.load)

	if _, err := c.Get(context.Background(), "a"); !errors.Is(err, errSourceDown) {
		t.Fatalf("Get: err = %v, want %v", err, errSourceDown)
	}
	if _, ok := c.Peek("a"); ok {
		t.Fatal("a failed load left an entry")
	}
	src.setFailing(false)
	if e := mustGet(t, c, "a"); e.Value != "v1" {
		t.Errorf("value = %q, want v1", e.Value)
	}
	if n := src.calls.Load(); n != 2 {
		t.Errorf("loads = %d, want 2", n)
	}
}

func TestNegativeEntries(t *testing.T) {
	clock := newFakeClock()
	src := newFakeSource(map[string]string{})
	c := mustNew(t, testOptions(clock), src.load)

	e := mustGet(t, c, "none")
	if e.Found || e.Value != "" || e.Source != "fake" {
		t.Fatalf("entry of a key with no value = %+v, want a negative entry", e)
	}
	clock.Advance(time.Minute - time.Nanosecond)
	if again := mustGet(t, c, "none"); again != e {
		t.Errorf("negative entry not served from the cache within its TTL")
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("loads within the TTL = %d, want 1", n)
	}

	src.set("none", "now-some")
	clock.Advance(time.Nanosecond)
	if e := mustGet(t, c, "none"); !e.Found || e.Value != "now-some" {
		t.Errorf("entry after the TTL = %+v, want the new value", e)
	}
}

func TestEvictionIsLeastRecentlyUsed(t *testing.T) {
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"})
	opts := testOptions(clock)
	opts.Size = 2
	c := mustNew(t, opts, src.load)

	mustGet(t, c, "a")
	mustGet(t, c, "b")
	mustGet(t, c, "a") // a is now more recently used than b
	mustGet(t, c, "c") // evicts b
	c.Peek("a")        // Peek must not make a more recent than c
	mustGet(t, c, "d") // evicts a

	for key, want := range map[string]bool{"a": false, "b": false, "c": true, "d": true} {
		if _, ok := c.Peek(key); ok != want {
			t.Errorf("Peek(%q) present = %v, want %v", key, ok, want)
		}
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
	if st := c.Stats(); st.Evictions != 2 {
		t.Errorf("evictions = %d, want 2", st.Evictions)
	}
}

func TestEvictionsCountOnlySizeEvictions(t *testing.T) {
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "1", "b": "2"})
	c := mustNew(t, testOptions(clock), src.load)

	mustGet(t, c, "a")
	mustGet(t, c, "b")
	c.Put("a", "replaced", true, "api")
	clock.Advance(time.Hour)
	mustGet(t, c, "a") // a reload replaces the entry
	c.Invalidate("a")
	c.InvalidateAll()

	if st := c.Stats(); st.Evictions != 0 {
		t.Errorf("evictions = %d, want 0: replacements and invalidations are not evictions", st.Evictions)
	}
}

func TestInvalidate(t *testing.T) {
	tests := []struct {
		name       string
		invalidate func(c *Cache[string])
		wantLoads  int64
	}{
		{"Invalidate of the key", func(c *Cache[string]) { c.Invalidate("a") }, 3},
		{"Invalidate of a key not cached", func(c *Cache[string]) { c.Invalidate("c") }, 2},
		{"InvalidateAll", func(c *Cache[string]) { c.InvalidateAll() }, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			src := newFakeSource(map[string]string{"a": "v1", "b": "v1"})
			c := mustNew(t, testOptions(clock), src.load)
			mustGet(t, c, "a")
			mustGet(t, c, "b")

			tt.invalidate(c)
			mustGet(t, c, "a")
			mustGet(t, c, "b")

			if n := src.calls.Load(); n != tt.wantLoads {
				t.Errorf("loads = %d, want %d", n, tt.wantLoads)
			}
		})
	}
}

func TestPutReplaces(t *testing.T) {
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "loaded"})
	c := mustNew(t, testOptions(clock), src.load)
	mustGet(t, c, "a")

	clock.Advance(30 * time.Second)
	c.Put("a", "written", true, "api")
	e := mustGet(t, c, "a")

	want := Entry[string]{Value: "written", Found: true, Source: "api", LoadedAt: clock.Now(), checkedAt: clock.Now()}
	if *e != want {
		t.Errorf("entry after Put = %+v, want %+v", *e, want)
	}
	clock.Advance(time.Minute - time.Nanosecond)
	mustGet(t, c, "a")
	if n := src.calls.Load(); n != 1 {
		t.Errorf("loads = %d, want 1: a Put entry is fresh for its own TTL", n)
	}

	c.Put("a", "ignored", false, "api")
	if e := mustGet(t, c, "a"); e.Found || e.Value != "" {
		t.Errorf("entry after a negative Put = %+v, want a negative entry", e)
	}
}

func TestGetWithDoneContextStartsNoLoad(t *testing.T) {
	src := newFakeSource(map[string]string{"a": "v1"})
	c := mustNew(t, testOptions(newFakeClock()), src.load)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	if _, err := c.Get(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: err = %v, want %v", err, context.Canceled)
	}
	if n := src.calls.Load(); n != 0 {
		t.Errorf("loads = %d, want 0", n)
	}
}

func TestGetHitDoesNotAllocate(t *testing.T) {
	src := newFakeSource(map[string]string{"a": "v1"})
	c := mustNew(t, testOptions(newFakeClock()), src.load)
	mustGet(t, c, "a")
	ctx := context.Background()

	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.Get(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per hit = %v, want 0", allocs)
	}
}

func TestRejectedLoadWithoutAGoodEntryIsAnsweredForATTL(t *testing.T) {
	clock := newFakeClock()
	var loads atomic.Int64
	var fixed atomic.Bool
	rejection := Rejected(errors.New("document does not validate"))
	load := func(context.Context, string) (string, string, bool, error) {
		loads.Add(1)
		if fixed.Load() {
			return "good", "dir", true, nil
		}
		return "", "dir", false, rejection
	}
	c := mustNew(t, testOptions(clock), load) // TTL 1m

	for i := 0; i < 3; i++ {
		if e, err := c.Get(context.Background(), "a"); !errors.Is(err, rejection) || e != nil {
			t.Fatalf("Get %d within the TTL: %+v, %v; want the rejection", i+1, e, err)
		}
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("loads within the TTL = %d, want 1: the rejection is remembered", n)
	}

	fixed.Store(true)
	clock.Advance(time.Minute)
	if e := mustGet(t, c, "a"); e.Value != "good" || e.Stale() {
		t.Errorf("after the TTL, once fixed: %+v, want fresh good", e)
	}
	if n := loads.Load(); n != 2 {
		t.Errorf("loads = %d, want 2", n)
	}
}
