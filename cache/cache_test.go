package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	load := newFakeSource(nil).load
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"no size", Options{TTL: time.Second}, []string{"size is 0"}},
		{"negative negative size", Options{Size: 1, TTL: time.Second, NegativeSize: -1}, []string{"negative size is -1"}},
		{"no ttl", Options{Size: 1}, []string{"ttl is 0s"}},
		{"negative stale", Options{Size: 1, TTL: time.Second, Stale: -1}, []string{"stale is -1ns"}},
		{"negative load timeout", Options{Size: 1, TTL: time.Second, LoadTimeout: -1}, []string{"load timeout is -1ns"}},
		{"negative max loads", Options{Size: 1, TTL: time.Second, MaxLoads: -1}, []string{"max loads is -1"}},
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
	t.Parallel()
	c := mustNew(t, Options{Size: 3, TTL: time.Minute}, newFakeSource(nil).load)

	o := c.opts
	if o.NegativeSize != 3 || o.LoadTimeout != DefaultLoadTimeout || o.MaxLoads != DefaultMaxLoads ||
		o.ErrorInterval != time.Minute || o.Now == nil || o.Random == nil {
		t.Errorf("options = %+v, want NegativeSize the Size, LoadTimeout %v, MaxLoads %d, ErrorInterval the TTL, Now and Random set",
			o, DefaultLoadTimeout, DefaultMaxLoads)
	}
}

func TestGetHitAndMiss(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "policy-a"})
	c := mustNew(t, testOptions(clock), src.load)

	first := mustGet(t, c, "a")
	second := mustGet(t, c, "a")

	if first.Value != "policy-a" || !first.Found || first.Source != "fake" ||
		!first.LoadedAt.Equal(clock.Now()) || !first.CheckedAt.Equal(clock.Now()) || first.Stale() {
		t.Errorf("first Get = %+v", first)
	}
	if second != first {
		t.Errorf("second Get returned a new entry %+v, want the cached %+v", second, first)
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("loads = %d, want 1", n)
	}
	st := c.Stats()
	if st.Hits != 1 || st.Misses != 1 || st.LoadWaits != 1 {
		t.Errorf("hits, misses, load waits = %d, %d, %d; want 1, 1, 1", st.Hits, st.Misses, st.LoadWaits)
	}
}

func TestStaleWhileRevalidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		advance   time.Duration
		wantLoads int64  // once any background load is done
		wantNext  string // the value of the Get after that
	}{
		{"fresh just before the ttl", time.Minute - time.Nanosecond, 1, "v1"},
		{"at the ttl: served, then re-read", time.Minute, 2, "v2"},
		{"long past ttl+stale: served, then re-read", time.Hour, 2, "v2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			src := newFakeSource(map[string]string{"a": "v1"})
			c := mustNew(t, testOptions(clock), src.load)
			mustGet(t, c, "a")

			src.set("a", "v2")
			clock.Advance(tt.advance)
			mustGetValue(t, c, "a", "v1", false) // at once, however old
			waitLoads(c)

			if n := src.calls.Load(); n != tt.wantLoads {
				t.Errorf("loads = %d, want %d", n, tt.wantLoads)
			}
			mustGetValue(t, c, "a", tt.wantNext, false)
			if st := c.Stats(); st.Hits != 2 || st.LoadWaits != 1 {
				t.Errorf("hits, load waits = %d, %d; want 2, 1: only the first Get waits", st.Hits, st.LoadWaits)
			}
		})
	}
}

func TestRefreshAheadRunsOneBackgroundLoad(t *testing.T) {
	t.Parallel()
	const callers = 100
	clock := newFakeClock()
	src := newSlowSource(map[string]string{"a": "v1"}, 1)
	c := mustNew(t, testOptions(clock), src.load)
	old := mustGet(t, c, "a") // the first load returns at once

	clock.Advance(time.Minute)
	src.set("a", "v2")
	results := make(chan getResult, callers)
	for range callers {
		go func() {
			e, err := c.Get(context.Background(), "a")
			results <- getResult{e, err}
		}()
	}
	// Every Get returns while the refresh is blocked in the source: none
	// waits for it.
	for range callers {
		if r := <-results; r.err != nil || r.entry != old {
			t.Fatalf("Get of an expired entry = %+v, %v; want the old entry at once", r.entry, r.err)
		}
	}
	<-src.started
	if st := c.Stats(); st.LoadsInFlight != 1 || st.Refreshes != (RefreshCounts{}) {
		t.Errorf("while the refresh runs: loads in flight %d, refreshes %+v; want 1, none done", st.LoadsInFlight, st.Refreshes)
	}

	close(src.release)
	waitLoads(c)
	if n := src.calls.Load(); n != 2 {
		t.Errorf("loads = %d, want 2: one background refresh for %d Gets", n, callers)
	}
	e, _ := c.Peek("a")
	if e.Value != "v2" || e.Stale() || !e.LoadedAt.Equal(clock.Now()) {
		t.Errorf("entry after the refresh = %+v, want v2 loaded now", e)
	}
	st := c.Stats()
	if st.Refreshes != (RefreshCounts{OK: 1}) || st.LoadWaits != 1 || st.LoadsInFlight != 0 {
		t.Errorf("refreshes %+v, load waits %d, in flight %d; want one ok, 1, 0", st.Refreshes, st.LoadWaits, st.LoadsInFlight)
	}
}

func TestStaleIfError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		stale     time.Duration
		advance   time.Duration
		wantStale bool // else the Get after the failed refresh fails
	}{
		{"within the stale window", 5 * time.Minute, time.Minute + 3*time.Minute, true},
		{"at the end of the stale window", 5 * time.Minute, time.Minute + 5*time.Minute - time.Nanosecond, true},
		{"past the stale window", 5 * time.Minute, time.Minute + 5*time.Minute, false},
		{"stale disabled", 0, time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			src := newFakeSource(map[string]string{"a": "v1"})
			var log reportLog
			opts := testOptions(clock)
			opts.Stale = tt.stale
			opts.OnLoadError = log.onLoadError
			c := mustNew(t, opts, src.load)
			good := mustGet(t, c, "a")

			src.setFailing(true)
			clock.Advance(tt.advance)
			mustGetValue(t, c, "a", "v1", false) // served while the refresh runs
			waitLoads(c)
			e, err := c.Get(context.Background(), "a")

			if got := log.take(); len(got) != 1 || got[0].staleServed != tt.wantStale {
				t.Errorf("reports = %+v, want one with staleServed %v", got, tt.wantStale)
			}
			if tt.wantStale {
				if err != nil || e.Value != good.Value || !e.LoadedAt.Equal(good.LoadedAt) || !e.Stale() ||
					!e.CheckedAt.Equal(clock.Now()) {
					t.Fatalf("Get = %+v, %v; want the last good entry, marked stale, checked now", e, err)
				}
				if st := c.Stats(); st.StaleServes != 1 || st.Refreshes != (RefreshCounts{Error: 1}) {
					t.Errorf("stale serves %d, refreshes %+v; want 1, one error", st.StaleServes, st.Refreshes)
				}
				return
			}
			if !errors.Is(err, errSourceDown) || e != nil {
				t.Fatalf("Get = %+v, %v; want %v", e, err, errSourceDown)
			}
			if st := c.Stats(); st.StaleServes != 0 || st.ErrorServes != 1 {
				t.Errorf("stale serves, error serves = %d, %d; want 0, 1", st.StaleServes, st.ErrorServes)
			}
		})
	}
}

func TestStaleBound(t *testing.T) {
	t.Parallel()
	// TTL 1m, stale 5m: with its source failing from the first re-read on,
	// the entry is served until 6m after its load, re-read once a minute.
	tests := []struct {
		at        time.Duration
		wantStale bool
		wantErr   bool
		wantLoads int64
	}{
		{time.Minute, false, false, 2},
		{2 * time.Minute, true, false, 3},
		{5 * time.Minute, true, false, 4},
		{6*time.Minute - time.Nanosecond, true, false, 4},
		{6 * time.Minute, false, true, 5}, // dropped: the Get waits for a load, which fails
		{6*time.Minute + time.Second - time.Nanosecond, false, true, 5},
		{6*time.Minute + time.Second, false, true, 6},
	}
	clock := newFakeClock()
	start := clock.Now()
	src := newFakeSource(map[string]string{"a": "v1"})
	c := mustNew(t, testOptions(clock), src.load)
	mustGet(t, c, "a")
	src.setFailing(true)

	for _, tt := range tests {
		clock.Advance(start.Add(tt.at).Sub(clock.Now()))
		e, err := c.Get(context.Background(), "a")
		waitLoads(c)
		switch {
		case tt.wantErr && !errors.Is(err, errSourceDown):
			t.Errorf("at %v: Get = %+v, %v; want %v", tt.at, e, err, errSourceDown)
		case !tt.wantErr && (err != nil || e.Value != "v1" || e.Stale() != tt.wantStale):
			t.Errorf("at %v: Get = %+v, %v; want v1, stale %v", tt.at, e, err, tt.wantStale)
		}
		if n := src.calls.Load(); n != tt.wantLoads {
			t.Errorf("at %v: loads = %d, want %d", tt.at, n, tt.wantLoads)
		}
	}
}

func TestStaleServeRetriesTheSourcesOncePerTTL(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "v1"})
	c := mustNew(t, testOptions(clock), src.load)
	mustGet(t, c, "a")

	src.setFailing(true)
	clock.Advance(2 * time.Minute)
	mustGetValue(t, c, "a", "v1", false) // starts a refresh, which fails
	waitLoads(c)
	clock.Advance(30 * time.Second)
	mustGetValue(t, c, "a", "v1", true)
	waitLoads(c)
	if n := src.calls.Load(); n != 2 {
		t.Errorf("loads = %d, want 2: a failed source is not asked again within the TTL", n)
	}

	src.setFailing(false)
	src.set("a", "v2")
	clock.Advance(30 * time.Second)
	mustGetValue(t, c, "a", "v1", true) // starts a refresh, which succeeds
	waitLoads(c)
	mustGetValue(t, c, "a", "v2", false)
	if n := src.calls.Load(); n != 3 {
		t.Errorf("loads = %d, want 3", n)
	}
	if st := c.Stats(); st.StaleServes != 2 || st.Refreshes != (RefreshCounts{OK: 1, Error: 1}) {
		t.Errorf("stale serves %d, refreshes %+v; want 2, one ok and one error", st.StaleServes, st.Refreshes)
	}
}

func TestRejectedLoadKeepsTheLastGoodEntry(t *testing.T) {
	t.Parallel()
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
	for i := range 3 {
		clock.Advance(time.Hour) // far past TTL+Stale
		if e := mustGet(t, c, "a"); e.Value != "good" {
			t.Fatalf("after %d hours of rejected loads: %+v, want the last good entry", i+1, e)
		}
		waitLoads(c)
	}
	if e, _ := c.Peek("a"); !e.Stale() || e.Value != "good" {
		t.Errorf("entry after rejected loads = %+v, want the good one, stale", e)
	}
	rejecting.Store(false)
	clock.Advance(time.Hour)
	mustGetValue(t, c, "a", "good", true)
	waitLoads(c)
	mustGetValue(t, c, "a", "good", false)
	if st := c.Stats(); st.Refreshes != (RefreshCounts{OK: 1, Rejected: 3}) {
		t.Errorf("refreshes = %+v, want 1 ok, 3 rejected", st.Refreshes)
	}
}

func TestFailedLoadIsRememberedWithBackoff(t *testing.T) {
	t.Parallel()
	const callers = 100
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "v1"})
	src.setFailing(true)
	opts := testOptions(clock)
	opts.TTL = 10 * time.Second
	c := mustNew(t, opts, src.load)
	// getAll runs callers concurrent Gets of a and checks that each fails
	// with the source's error.
	getAll := func(when string) {
		t.Helper()
		results := make(chan error, callers)
		for range callers {
			go func() {
				_, err := c.Get(context.Background(), "a")
				results <- err
			}()
		}
		for range callers {
			if err := <-results; !errors.Is(err, errSourceDown) {
				t.Fatalf("%s: Get: err = %v, want %v", when, err, errSourceDown)
			}
		}
	}

	getAll("first failure")
	wantLoads := int64(1)
	for _, backoff := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		clock.Advance(backoff - time.Nanosecond)
		getAll("within the backoff")
		if n := src.calls.Load(); n != wantLoads {
			t.Fatalf("within a backoff of %v: loads = %d, want %d", backoff, n, wantLoads)
		}
		clock.Advance(time.Nanosecond)
		getAll("after the backoff")
		wantLoads++
		if n := src.calls.Load(); n != wantLoads {
			t.Fatalf("after a backoff of %v: loads = %d, want %d: one load per backoff", backoff, n, wantLoads)
		}
	}
	e, ok := c.Peek("a")
	if !ok || !errors.Is(e.Err, errSourceDown) || e.Found || !e.LoadedAt.IsZero() || !e.CheckedAt.Equal(clock.Now()) {
		t.Errorf("Peek = %+v, %v; want an error entry checked now", e, ok)
	}

	src.setFailing(false)
	clock.Advance(10 * time.Second)
	mustGetValue(t, c, "a", "v1", false) // waits for the load: there is no good entry
	if st := c.Stats(); st.Misses+st.ErrorServes != 13*callers+1 || st.ErrorServes < 6*callers {
		t.Errorf("misses, error serves = %d, %d; want every Get within a backoff answered from the error entry", st.Misses, st.ErrorServes)
	}
}

func TestRejectedLoadWithoutAGoodEntryIsAnsweredForATTL(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	start := clock.Now()
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

	for _, at := range []time.Duration{0, 0, 30 * time.Second, time.Minute - time.Nanosecond} {
		clock.Advance(start.Add(at).Sub(clock.Now()))
		if e, err := c.Get(context.Background(), "a"); !errors.Is(err, rejection) || e != nil {
			t.Fatalf("Get at %v: %+v, %v; want the rejection", at, e, err)
		}
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("loads = %d, want 1: a rejection is remembered for a TTL", n)
	}

	fixed.Store(true)
	clock.Advance(time.Nanosecond)
	mustGetValue(t, c, "a", "good", false) // waits: there is no good entry
	if n := loads.Load(); n != 2 {
		t.Errorf("loads = %d, want 2", n)
	}
}

func TestNegativeEntries(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	src := newFakeSource(map[string]string{})
	c := mustNew(t, testOptions(clock), src.load)

	e := mustGet(t, c, "none")
	if e.Found || e.Value != "" || e.Source != "fake" || e.Err != nil {
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
	if again := mustGet(t, c, "none"); again != e {
		t.Errorf("negative entry not served while it is re-read")
	}
	waitLoads(c)
	if e := mustGet(t, c, "none"); !e.Found || e.Value != "now-some" {
		t.Errorf("entry after the re-read = %+v, want the new value", e)
	}
}

func TestEvictionSparesKeysInUse(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"})
	opts := testOptions(clock)
	opts.Size = 2
	c := mustNew(t, opts, src.load)

	mustGet(t, c, "a")
	mustGet(t, c, "b")
	mustGet(t, c, "a") // a is used: the sweep passes over it once
	mustGet(t, c, "c") // evicts b, the oldest key not used since stored
	c.Peek("c")        // Peek must not count as a use of c
	mustGet(t, c, "a") // a is used again
	mustGet(t, c, "d") // evicts c

	for key, want := range map[string]bool{"a": true, "b": false, "c": false, "d": true} {
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
	mustGet(t, c, "b") // b was evicted: it is loaded again
	if n := src.calls.Load(); n != 5 {
		t.Errorf("loads = %d, want 5", n)
	}
}

func TestEvictionOfAKeyNotUsedSinceTheSweepPassed(t *testing.T) {
	t.Parallel()
	src := newFakeSource(map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"})
	opts := testOptions(newFakeClock())
	opts.Size = 2
	c := mustNew(t, opts, src.load)

	mustGet(t, c, "a")
	mustGet(t, c, "a") // used
	mustGet(t, c, "b")
	mustGet(t, c, "c") // a gets its second chance; b goes
	mustGet(t, c, "d") // a was not used since: it goes

	for key, want := range map[string]bool{"a": false, "b": false, "c": true, "d": true} {
		if _, ok := c.Peek(key); ok != want {
			t.Errorf("Peek(%q) present = %v, want %v", key, ok, want)
		}
	}
}

func TestScanDoesNotPushOutHotKeys(t *testing.T) {
	t.Parallel()
	const hot, scanned = 5, 2000
	tests := []struct {
		name     string
		scanHits bool // the scanned keys have values
		uses     int  // Gets of each scanned key
		hotEvery int  // the hot keys are used after every hotEvery scanned keys; 0 for never
	}{
		{"made-up keys (negative entries)", false, 1, 0},
		{"made-up keys, each asked for twice", false, 2, 0},
		{"real keys each used once, while the hot keys are in use", true, 1, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var loads atomic.Int64
			load := func(_ context.Context, key string) (string, string, bool, error) {
				loads.Add(1)
				found := strings.HasPrefix(key, "hot-") || tt.scanHits
				return "value of " + key, "fake", found, nil
			}
			opts := testOptions(newFakeClock())
			opts.Size = 50
			c := mustNew(t, opts, load)
			for range 2 { // hot keys are used more than once
				for i := range hot {
					mustGet(t, c, "hot-"+string(rune('a'+i)))
				}
			}

			before := loads.Load()
			for i := range scanned {
				for range tt.uses {
					mustGet(t, c, "scan-"+strings.Repeat("x", i%7)+string(rune(0x4e00+i)))
				}
				if tt.hotEvery > 0 && i%tt.hotEvery == 0 {
					for j := range hot {
						mustGet(t, c, "hot-"+string(rune('a'+j)))
					}
				}
			}
			before += scanned
			for i := range hot {
				mustGet(t, c, "hot-"+string(rune('a'+i)))
			}

			if n := loads.Load() - before; n != 0 {
				t.Errorf("loads of the hot keys during and after the scan = %d, want 0", n)
			}
			if n := c.Len(); n > 100 {
				t.Errorf("Len = %d, want at most Size+NegativeSize = 100", n)
			}
			if st := c.Stats(); st.Evictions != scanned+hot-uint64(c.Len()) {
				t.Errorf("evictions = %d, want %d", st.Evictions, scanned+hot-c.Len())
			}
		})
	}
}

func TestEvictionsCountOnlySizeEvictions(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "1", "b": "2"})
	c := mustNew(t, testOptions(clock), src.load)

	mustGet(t, c, "a")
	mustGet(t, c, "b")
	mustGet(t, c, "none")
	c.Put("a", "replaced", true, "api")
	clock.Advance(time.Hour)
	mustGet(t, c, "a") // a background reload replaces the entry
	waitLoads(c)
	c.Put("b", "gone", false, "api") // moves b to the negative entries
	c.Put("none", "back", true, "api")
	c.Invalidate("a")
	c.InvalidateAll()

	if st := c.Stats(); st.Evictions != 0 {
		t.Errorf("evictions = %d, want 0: replacements and invalidations are not evictions", st.Evictions)
	}
}

func TestInvalidate(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
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
	t.Parallel()
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "loaded"})
	c := mustNew(t, testOptions(clock), src.load)
	mustGet(t, c, "a")

	clock.Advance(30 * time.Second)
	c.Put("a", "written", true, "api")
	e := mustGet(t, c, "a")

	if e.Value != "written" || !e.Found || e.Source != "api" || !e.LoadedAt.Equal(clock.Now()) ||
		!e.CheckedAt.Equal(clock.Now()) || e.Stale() || e.Err != nil {
		t.Errorf("entry after Put = %+v, want the value written, loaded now", e)
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

func TestPutReplacesAnErrorEntry(t *testing.T) {
	t.Parallel()
	src := newFakeSource(map[string]string{})
	src.setFailing(true)
	c := mustNew(t, testOptions(newFakeClock()), src.load)
	if _, err := c.Get(context.Background(), "a"); !errors.Is(err, errSourceDown) {
		t.Fatalf("Get: err = %v, want %v", err, errSourceDown)
	}

	c.Put("a", "written", true, "api")

	mustGetValue(t, c, "a", "written", false)
}

func TestGetWithDoneContextStartsNoLoad(t *testing.T) {
	t.Parallel()
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
	// Not parallel: AllocsPerRun counts the allocations of every goroutine.
	src := newFakeSource(map[string]string{"a": "v1"})
	c := mustNew(t, testOptions(newFakeClock()), src.load)
	mustGet(t, c, "a")
	mustGet(t, c, "none")
	src.setFailing(true)
	c.Get(context.Background(), "failed") // an error entry
	ctx := context.Background()

	for _, key := range []string{"a", "none", "failed"} {
		allocs := testing.AllocsPerRun(100, func() {
			c.Get(ctx, key)
		})
		if allocs != 0 {
			t.Errorf("allocations per hit of %q = %v, want 0", key, allocs)
		}
	}
	if st := c.Stats(); st.Hits < 200 || st.ErrorServes < 100 {
		t.Errorf("hits, error serves = %d, %d; want every Get but the loads answered from the cache", st.Hits, st.ErrorServes)
	}
}

func TestTTLJitter(t *testing.T) {
	t.Parallel()
	const ttl = 100 * time.Second
	tests := []struct {
		random  float64
		wantTTL time.Duration
	}{
		{0, 90 * time.Second},
		{0.25, 95 * time.Second},
		{0.5, 100 * time.Second},
		{0.75, 105 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("random %v", tt.random), func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			src := newFakeSource(map[string]string{"a": "v1"})
			opts := testOptions(clock)
			opts.TTL = ttl
			opts.Random = func() float64 { return tt.random }
			c := mustNew(t, opts, src.load)
			mustGet(t, c, "a")

			clock.Advance(tt.wantTTL - time.Nanosecond)
			mustGet(t, c, "a")
			waitLoads(c)
			if n := src.calls.Load(); n != 1 {
				t.Errorf("random %v: re-read before %v", tt.random, tt.wantTTL)
			}
			clock.Advance(time.Nanosecond)
			mustGet(t, c, "a")
			waitLoads(c)
			if n := src.calls.Load(); n != 2 {
				t.Errorf("random %v: not re-read at %v", tt.random, tt.wantTTL)
			}
		})
	}
}

func TestTTLJitterSpread(t *testing.T) {
	t.Parallel()
	const ttl, keys = 100 * time.Second, 1000
	opts := testOptions(newFakeClock())
	opts.TTL = ttl
	opts.Size = keys
	opts.Random = nil // math/rand/v2
	c := mustNew(t, opts, newFakeSource(nil).load)
	for i := range keys {
		c.Put(string(rune(0x4e00+i)), "v", true, "api")
	}

	lo, hi := time.Duration(1<<62), time.Duration(0)
	for i := range keys {
		e, _ := c.Peek(string(rune(0x4e00 + i)))
		d := e.dueAt.Sub(e.CheckedAt)
		if d < 90*time.Second || d >= 110*time.Second {
			t.Fatalf("entry TTL %v, want within [90s, 110s)", d)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	// 1,000 uniform draws all in one half of the range: chance 2^-999.
	if lo >= 100*time.Second || hi < 100*time.Second {
		t.Errorf("entry TTLs from %v to %v, want them spread over [90s, 110s)", lo, hi)
	}
}

// TestTinyCacheHoldsItsSize: a cache of one or two entries works (2Q's
// ghost list needs at least one entry of its own) and evicts past its size.
func TestTinyCacheHoldsItsSize(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 2, 3} {
		clock := newFakeClock()
		src := newFakeSource(map[string]string{"a": "A", "b": "B", "c": "C", "d": "D"})
		opts := testOptions(clock)
		opts.Size = size
		c := mustNew(t, opts, src.load)
		for _, k := range []string{"a", "b", "c", "d"} {
			mustGet(t, c, k)
		}
		if n := c.Len(); n != size {
			t.Errorf("size %d: Len = %d after 4 keys, want %d", size, n, size)
		}
		if st := c.Stats(); st.Evictions != uint64(4-size) {
			t.Errorf("size %d: evictions = %d, want %d", size, st.Evictions, 4-size)
		}
	}
}

func TestGetFromTheCacheTakesNoLock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	var blocking atomic.Bool
	started := make(chan struct{}, 2)
	release := make(chan struct{})
	releaseAll := sync.OnceFunc(func() { close(release) })
	load := func(_ context.Context, key string) (string, string, bool, error) {
		switch key {
		case "failed":
			return "", "test", false, errSourceDown
		case "none":
			return "", "test", false, nil
		}
		if blocking.Load() {
			started <- struct{}{}
			<-release
		}
		return "v", "test", true, nil
	}
	opts := testOptions(clock)
	opts.MaxLoads = 2
	c := mustNew(t, opts, load)
	mustGet(t, c, "due")
	mustGet(t, c, "none")
	clock.Advance(time.Minute) // both due
	c.Get(context.Background(), "failed")
	c.Put("fresh", "v", true, "api")
	blocking.Store(true)
	mustGet(t, c, "due") // starts its refresh
	<-started
	// getLocked runs Get of key while the test holds the cache's lock.
	getLocked := func(key string, wantErr error) {
		t.Helper()
		c.mu.Lock()
		defer c.mu.Unlock()
		select {
		case r := <-getAsync(context.Background(), c, key):
			if !errors.Is(r.err, wantErr) {
				t.Errorf("Get(%q): err = %v, want %v", key, r.err, wantErr)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Get(%q) waited for the cache's lock", key)
			releaseAll() // lets the test end
		}
	}

	getLocked("fresh", nil)
	getLocked("failed", errSourceDown) // an error entry
	getLocked("due", nil)              // its refresh runs
	slow := getAsync(context.Background(), c, "slow")
	<-started              // MaxLoads loads run now
	getLocked("none", nil) // due, but no load may start

	releaseAll()
	<-slow
	waitLoads(c)
}
