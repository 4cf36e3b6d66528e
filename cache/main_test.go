package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bucketcors/bucketcors/internal/testclock"
)

// TestMain fails the package's tests when any goroutine, such as a load,
// outlives them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newFakeClock() *testclock.Clock {
	return testclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

// errSourceDown is what a failing fakeSource returns.
var errSourceDown = errors.New("source down")

// fakeSource is a LoadFunc's backing store whose contents and failures a
// test sets, and which counts its loads.
type fakeSource struct {
	mu     sync.Mutex
	values map[string]string
	fail   bool
	calls  atomic.Int64
}

func newFakeSource(values map[string]string) *fakeSource {
	return &fakeSource{values: values}
}

func (s *fakeSource) set(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[key] = value
}

func (s *fakeSource) setFailing(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

func (s *fakeSource) load(_ context.Context, key string) (string, string, bool, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return "", "fake", false, errSourceDown
	}
	v, ok := s.values[key]
	return v, "fake", ok, nil
}

// noJitter is a random source that gives every entry the TTL itself.
func noJitter() float64 { return 0.5 }

// testOptions are the options of most tests: a fake clock, TTL 1m with no
// jitter, stale 5m.
func testOptions(clock *testclock.Clock) Options {
	return Options{Size: 8, TTL: time.Minute, Stale: 5 * time.Minute, Now: clock.Now, Random: noJitter}
}

// waitLoads waits until no load of c runs, background ones included. The
// caller must start no load meanwhile.
func waitLoads[V any](c *Cache[V]) {
	c.loading.Wait()
}

// mustNew returns a new cache or fails the test.
func mustNew[V any](t testing.TB, opts Options, load LoadFunc[V]) *Cache[V] {
	t.Helper()
	c, err := New(opts, load)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// mustGetValue fails the test unless Get of key returns an entry with
// value want, stale or not as wantStale says.
func mustGetValue(t testing.TB, c *Cache[string], key, want string, wantStale bool) {
	t.Helper()
	e := mustGet(t, c, key)
	if e.Value != want || e.Stale() != wantStale {
		t.Fatalf("Get(%q) = %q (stale %v), want %q (stale %v)", key, e.Value, e.Stale(), want, wantStale)
	}
}

// mustGet returns the entry of key or fails the test.
func mustGet[V any](t testing.TB, c *Cache[V], key string) *Entry[V] {
	t.Helper()
	e, err := c.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return e
}
