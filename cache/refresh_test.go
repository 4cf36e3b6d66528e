package cache

import (
	"context"
	"testing"
	"time"
)

func TestRefreshServesOldEntriesWhileReloading(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		refresh  func(c *Cache[string])
		reloaded map[string]bool
	}{
		{"Refresh", func(c *Cache[string]) { c.Refresh("a") }, map[string]bool{"a": true, "b": false}},
		{"Refresh of a key not cached", func(c *Cache[string]) { c.Refresh("c") }, map[string]bool{"a": false, "b": false}},
		{"RefreshAll", func(c *Cache[string]) { c.RefreshAll() }, map[string]bool{"a": true, "b": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := newSlowSource(map[string]string{"a": "a1", "b": "b1"}, 2)
			c := mustNew(t, testOptions(newFakeClock()), src.load)
			mustGet(t, c, "a")
			mustGet(t, c, "b")
			src.set("a", "a2")
			src.set("b", "b2")
			src.set("c", "c2")

			tt.refresh(c)
			reloads := 0
			for _, reloaded := range tt.reloaded {
				if reloaded {
					<-src.started
					reloads++
				}
			}
			// The reloads are blocked in the source: the old entries serve.
			mustGetValue(t, c, "a", "a1", false)
			mustGetValue(t, c, "b", "b1", false)
			close(src.release)
			waitLoads(c)

			for key, reloaded := range tt.reloaded {
				want := key + "1"
				if reloaded {
					want = key + "2"
				}
				mustGetValue(t, c, key, want, false)
			}
			if _, ok := c.Peek("c"); ok {
				t.Error("Refresh loaded a key not cached")
			}
			if st := c.Stats(); st.Refreshes.OK != uint64(reloads) || st.LoadWaits != 2 {
				t.Errorf("refreshes %+v, load waits %d; want %d ok, 2", st.Refreshes, st.LoadWaits, reloads)
			}
		})
	}
}

func TestRefreshDuringALoadReadsAgain(t *testing.T) {
	t.Parallel()
	src := newSlowSource(map[string]string{"a": "v1"}, 1)
	c := mustNew(t, testOptions(newFakeClock()), src.load)
	mustGet(t, c, "a")

	c.Refresh("a")
	<-src.started
	src.set("a", "v2") // changed after the load in flight may have read it
	c.Refresh("a")     // no second load now
	close(src.release)
	waitLoads(c)
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("loads = %d, want 2", n)
	}

	mustGet(t, c, "a") // due: starts the load that Refresh asked for
	waitLoads(c)
	mustGetValue(t, c, "a", "v2", false)
	if n := src.calls.Load(); n != 3 {
		t.Errorf("loads = %d, want 3", n)
	}
}

func TestRefreshPastMaxLoadsWaitsForTheNextGet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		refresh   func(c *Cache[string])
		wantLoads int64
	}{
		{"Refresh", func(c *Cache[string]) { c.Refresh("b"); c.Refresh("c") }, 6},
		// a too: its refresh began before RefreshAll.
		{"RefreshAll", func(c *Cache[string]) { c.RefreshAll() }, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			src := newSlowSource(map[string]string{"a": "a1", "b": "b1", "c": "c1"}, 3)
			opts := testOptions(clock)
			opts.MaxLoads = 1
			c := mustNew(t, opts, src.load)
			for _, key := range []string{"a", "b", "c"} {
				mustGet(t, c, key)
			}
			clock.Advance(time.Second)
			src.set("a", "a2")
			src.set("b", "b2")
			src.set("c", "c2")

			c.Refresh("a") // takes the only load slot
			<-src.started
			tt.refresh(c) // b and c cannot start now
			close(src.release)
			waitLoads(c)
			if n := src.calls.Load(); n != 4 {
				t.Fatalf("loads = %d, want 4: one refresh within MaxLoads", n)
			}

			for _, key := range []string{"a", "b", "c"} {
				mustGet(t, c, key) // b and c start their refresh
				waitLoads(c)
			}
			for _, key := range []string{"a", "b", "c"} {
				mustGetValue(t, c, key, key+"2", false)
			}
			if n := src.calls.Load(); n != tt.wantLoads {
				t.Errorf("loads = %d, want %d", n, tt.wantLoads)
			}
			if st := c.Stats(); st.LoadsRejected == 0 {
				t.Error("loads rejected = 0, want the refreshes past MaxLoads counted")
			}
		})
	}
}

func TestRefreshAllAfterALoadInFlight(t *testing.T) {
	t.Parallel()
	// A load that began before RefreshAll may have read the sources before
	// the change RefreshAll is for: its entry is re-read on its next Get.
	src := newSlowSource(map[string]string{"a": "v1"}, 0)
	c := mustNew(t, testOptions(newFakeClock()), src.load)

	got := getAsync(context.Background(), c, "a")
	<-src.started
	c.RefreshAll()
	close(src.release)
	<-got
	waitLoads(c)
	src.set("a", "v2")

	mustGetValue(t, c, "a", "v1", false)
	waitLoads(c)
	mustGetValue(t, c, "a", "v2", false)
}
