package cache

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gatedLoad is a LoadFunc that signals each call on started and returns
// value only once release is closed, or its ctx's error when its ctx is done
// first. It records the most calls it had running at once.
type gatedLoad struct {
	value      string
	started    chan struct{}
	release    chan struct{}
	calls      atomic.Int64
	running    atomic.Int64
	maxRunning atomic.Int64
}

func newGatedLoad(value string) *gatedLoad {
	return &gatedLoad{value: value, started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (g *gatedLoad) load(ctx context.Context, _ string) (string, string, bool, error) {
	g.calls.Add(1)
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for m := g.maxRunning.Load(); n > m && !g.maxRunning.CompareAndSwap(m, n); m = g.maxRunning.Load() {
	}
	g.started <- struct{}{}
	select {
	case <-g.release:
		return g.value, "gated", true, nil
	case <-ctx.Done():
		return "", "gated", false, ctx.Err()
	}
}

// slowSource is a LoadFunc over a map whose first free loads return at
// once, and whose later loads signal on started and then block until
// release is closed: a slow source, without sleeps.
type slowSource struct {
	mu      sync.Mutex
	values  map[string]string
	free    int64
	calls   atomic.Int64
	started chan struct{}
	release chan struct{}
}

func newSlowSource(values map[string]string, free int64) *slowSource {
	return &slowSource{values: values, free: free, started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (s *slowSource) set(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[key] = value
}

func (s *slowSource) load(_ context.Context, key string) (string, string, bool, error) {
	if s.calls.Add(1) > s.free {
		select {
		case s.started <- struct{}{}:
		default: // more loads than a test expects: it fails on their count
		}
		<-s.release
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	return v, "slow", ok, nil
}

// getAsync runs Get in a goroutine and delivers its result on the channel.
func getAsync(ctx context.Context, c *Cache[string], key string) <-chan getResult {
	ch := make(chan getResult, 1)
	go func() {
		e, err := c.Get(ctx, key)
		ch <- getResult{e, err}
	}()
	return ch
}

type getResult struct {
	entry *Entry[string]
	err   error
}

func TestLoadInFlightRacingWrites(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		write     func(c *Cache[string])
		wantValue string // of the cached entry once the load is done; "" for none
	}{
		{"no write: the load is cached", func(*Cache[string]) {}, "old"},
		{"Invalidate wins", func(c *Cache[string]) { c.Invalidate("a") }, ""},
		{"InvalidateAll wins", func(c *Cache[string]) { c.InvalidateAll() }, ""},
		{"Put wins", func(c *Cache[string]) { c.Put("a", "new", true, "api") }, "new"},
		{"a write to another key does not", func(c *Cache[string]) { c.Invalidate("b") }, "old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gate := newGatedLoad("old")
			c := mustNew(t, testOptions(newFakeClock()), gate.load)

			got := getAsync(context.Background(), c, "a")
			<-gate.started
			tt.write(c)
			close(gate.release)
			r := <-got

			if r.err != nil || r.entry.Value != "old" {
				t.Errorf("Get waiting for the load = %+v, %v; want the load's result", r.entry, r.err)
			}
			e, ok := c.Peek("a")
			switch {
			case tt.wantValue == "" && ok:
				t.Errorf("cached entry = %+v, want none", e)
			case tt.wantValue != "" && (!ok || e.Value != tt.wantValue):
				t.Errorf("cached entry = %+v, want value %q", e, tt.wantValue)
			}
		})
	}
}

func TestGetAfterInvalidateDoesNotJoinTheOldLoad(t *testing.T) {
	t.Parallel()
	gate := newGatedLoad("v")
	c := mustNew(t, testOptions(newFakeClock()), gate.load)

	first := getAsync(context.Background(), c, "a")
	<-gate.started
	c.Invalidate("a")
	second := getAsync(context.Background(), c, "a")
	<-gate.started // the second Get started a load of its own
	close(gate.release)
	<-first
	<-second

	if n := gate.calls.Load(); n != 2 {
		t.Errorf("loads = %d, want 2", n)
	}
}

func TestMaxLoads(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	gate := newGatedLoad("v")
	opts := testOptions(clock)
	opts.MaxLoads = 4
	c := mustNew(t, opts, gate.load)
	c.Put("cached", "old", true, "api")
	clock.Advance(time.Hour)

	var waiting []<-chan getResult
	for _, key := range []string{"k1", "k2", "k3", "k4"} {
		waiting = append(waiting, getAsync(context.Background(), c, key))
		<-gate.started
	}
	start := time.Now()
	e, err := c.Get(context.Background(), "k5")
	if !errors.Is(err, ErrTooManyLoads) || e != nil {
		t.Errorf("Get of a 5th key = %+v, %v; want %v", e, err, ErrTooManyLoads)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Get of a 5th key returned after %v, want at once", d)
	}
	// An expired entry is served; its refresh is left for a later Get.
	mustGetValue(t, c, "cached", "old", false)
	joined := getAsync(context.Background(), c, "k1") // joins a load: no new one
	if st := c.Stats(); st.LoadsInFlight != 4 || st.LoadsRejected != 2 {
		t.Errorf("loads in flight, rejected = %d, %d; want 4, 2", st.LoadsInFlight, st.LoadsRejected)
	}

	close(gate.release)
	for _, ch := range append(waiting, joined) {
		if r := <-ch; r.err != nil {
			t.Errorf("Get waiting for a load: %v", r.err)
		}
	}
	mustGetValue(t, c, "cached", "old", false) // starts the refresh now
	waitLoads(c)
	mustGetValue(t, c, "cached", "v", false)
	if n := gate.maxRunning.Load(); n != 4 {
		t.Errorf("most loads running at once = %d, want 4", n)
	}
	if n := gate.calls.Load(); n != 5 {
		t.Errorf("loads = %d, want 5", n)
	}
	if st := c.Stats(); st.LoadsInFlight != 0 {
		t.Errorf("loads in flight once done = %d, want 0", st.LoadsInFlight)
	}
}

func TestCallerCancelDoesNotCancelTheLoad(t *testing.T) {
	t.Parallel()
	gate := newGatedLoad("v")
	c := mustNew(t, testOptions(newFakeClock()), gate.load)
	ctx, cancel := context.WithCancel(context.Background())

	got := getAsync(ctx, c, "a")
	<-gate.started
	cancel()
	if r := <-got; !errors.Is(r.err, context.Canceled) || r.entry != nil {
		t.Fatalf("Get with a cancelled ctx = %+v, %v; want %v", r.entry, r.err, context.Canceled)
	}

	// The load goes on: it returns its value only if its own ctx was not
	// cancelled with the caller's.
	close(gate.release)
	if e := mustGet(t, c, "a"); e.Value != "v" {
		t.Errorf("value = %q, want v", e.Value)
	}
	if _, ok := c.Peek("a"); !ok {
		t.Error("the load's result was not cached")
	}
	if n := gate.calls.Load(); n != 1 {
		t.Errorf("loads = %d, want 1", n)
	}
}

func TestSingleFlight(t *testing.T) {
	t.Parallel()
	const callers = 1000
	gate := newGatedLoad("v")
	c := mustNew(t, testOptions(newFakeClock()), gate.load)
	var waiting sync.WaitGroup
	waiting.Add(callers)
	c.testHookWaiting = waiting.Done

	entries := make([]*Entry[string], callers)
	errs := make([]error, callers)
	var done sync.WaitGroup
	for i := range callers {
		done.Go(func() {
			entries[i], errs[i] = c.Get(context.Background(), "a")
		})
	}
	waiting.Wait() // every caller has joined the load, which is still blocked
	close(gate.release)
	done.Wait()

	if n := gate.calls.Load(); n != 1 {
		t.Errorf("loads = %d, want 1", n)
	}
	for i := range callers {
		if errs[i] != nil || entries[i] != entries[0] {
			t.Fatalf("caller %d got %+v, %v; want the shared entry %+v", i, entries[i], errs[i], entries[0])
		}
	}
	if st := c.Stats(); st.Misses != callers || st.Hits != 0 {
		t.Errorf("misses, hits = %d, %d; want %d, 0", st.Misses, st.Hits, callers)
	}
}

func TestLoadTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 20 * time.Millisecond
	var deadline time.Time
	load := func(ctx context.Context, _ string) (string, string, bool, error) {
		deadline, _ = ctx.Deadline()
		<-ctx.Done()
		return "", "slow", false, ctx.Err()
	}
	opts := testOptions(newFakeClock())
	opts.LoadTimeout = timeout
	c := mustNew(t, opts, load)

	start := time.Now()
	_, err := c.Get(context.Background(), "a")
	elapsed := time.Since(start)

	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 20ms") {
		t.Errorf("Get: err = %v, want a timeout after 20ms", err)
	}
	if d := deadline.Sub(start); d < timeout || d > timeout+time.Second {
		t.Errorf("load deadline %v after the Get, want %v after the load began", d, timeout)
	}
	if elapsed < timeout || elapsed > 5*time.Second {
		t.Errorf("Get returned after %v, want the load's deadline of %v", elapsed, timeout)
	}
	if st := c.Stats(); len(st.Loads) != 1 || st.Loads[0].Result != ResultError {
		t.Errorf("loads = %+v, want one error", st.Loads)
	}
}

func TestLoadKeepsTheStartersValues(t *testing.T) {
	t.Parallel()
	type ctxKey struct{}
	clock := newFakeClock()
	var got atomic.Value
	load := func(ctx context.Context, _ string) (string, string, bool, error) {
		got.Store(ctx.Value(ctxKey{}))
		return "v", "fake", true, nil
	}
	c := mustNew(t, testOptions(clock), load)

	for _, request := range []string{"request-1", "request-2"} { // a load, then a refresh
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, request))
		if _, err := c.Get(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		cancel() // the refresh is not cancelled with the Get that started it
		waitLoads(c)
		if got.Load() != request {
			t.Errorf("value in the load's ctx = %v, want %s", got.Load(), request)
		}
		if e, _ := c.Peek("a"); e.Err != nil {
			t.Errorf("entry = %+v, want no error", e)
		}
		clock.Advance(time.Minute)
	}
}

func TestLoadPanicBecomesAnError(t *testing.T) {
	t.Parallel()
	load := func(context.Context, string) (string, string, bool, error) {
		panic("boom")
	}
	c := mustNew(t, testOptions(newFakeClock()), load)

	_, err := c.Get(context.Background(), "a")
	if err == nil || !strings.Contains(err.Error(), `load of "a" panicked: boom`) {
		t.Errorf("Get: err = %v, want the panic as an error", err)
	}
	if e, ok := c.Peek("a"); !ok || e.Err == nil || e.Found {
		t.Errorf("entry after a panicking load = %+v, want an error entry", e)
	}
}

func TestLoadStartedAfterAStoreDoesNotCallTheSources(t *testing.T) {
	t.Parallel()
	// A Get that misses just before the previous load stores its entry
	// starts a load of its own; that load must find the entry and stop.
	src := newFakeSource(map[string]string{"a": "loaded"})
	c := mustNew(t, testOptions(newFakeClock()), src.load)
	c.Put("a", "stored", true, "api")

	e, err := c.await(context.Background(), "a")

	if err != nil || e.Value != "stored" {
		t.Errorf("await = %+v, %v; want the stored entry", e, err)
	}
	if n := src.calls.Load(); n != 0 {
		t.Errorf("loads = %d, want 0", n)
	}
}
