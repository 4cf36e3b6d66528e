package cache

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// reportLog records OnLoadError calls.
type reportLog struct {
	mu      sync.Mutex
	reports []report
}

type report struct {
	key         string
	err         error
	staleServed bool
}

func (l *reportLog) onLoadError(key string, err error, staleServed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reports = append(l.reports, report{key, err, staleServed})
}

func (l *reportLog) take() []report {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.reports
	l.reports = nil
	return r
}

func TestOnLoadErrorOncePerKeyPerInterval(t *testing.T) {
	t.Parallel()
	// With its source down, key a is loaded at 0, 1, 3, 7, 15, 31, 63 s
	// (each error entry's backoff doubles, up to the TTL of 1m); its
	// failures are reported at most once per interval.
	loadsAt := []time.Duration{0, 1, 3, 7, 15, 31, 63}
	tests := []struct {
		name       string
		interval   time.Duration
		reportedAt []time.Duration
	}{
		{"default interval is the ttl", 0, []time.Duration{0, 63}},
		{"explicit interval", 10 * time.Second, []time.Duration{0, 15, 31, 63}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			start := clock.Now()
			src := newFakeSource(map[string]string{})
			src.setFailing(true)
			var log reportLog
			opts := testOptions(clock)
			opts.OnLoadError = log.onLoadError
			opts.ErrorInterval = tt.interval
			c := mustNew(t, opts, src.load)

			var reportedAt []time.Duration
			for _, at := range loadsAt {
				clock.Advance(start.Add(at * time.Second).Sub(clock.Now()))
				for _, key := range []string{"a", "a", "b"} {
					if _, err := c.Get(t.Context(), key); !errors.Is(err, errSourceDown) {
						t.Fatalf("Get(%q): err = %v, want %v", key, err, errSourceDown)
					}
				}
				for _, r := range log.take() {
					if !errors.Is(r.err, errSourceDown) || r.staleServed {
						t.Errorf("report %+v, want the source's error, no stale serve", r)
					}
					if r.key == "a" {
						reportedAt = append(reportedAt, at)
					}
				}
			}

			if !slices.Equal(reportedAt, tt.reportedAt) {
				t.Errorf("a reported at %v s, want %v s", reportedAt, tt.reportedAt)
			}
			if n := src.calls.Load(); n != 2*int64(len(loadsAt)) {
				t.Errorf("loads = %d, want %d: one per key and backoff, reported or not", n, 2*len(loadsAt))
			}
		})
	}
}

func TestOnLoadErrorSaysWhenStaleWasServed(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	src := newFakeSource(map[string]string{"a": "v1"})
	var log reportLog
	opts := testOptions(clock)
	opts.OnLoadError = log.onLoadError
	c := mustNew(t, opts, src.load)
	mustGet(t, c, "a")

	src.setFailing(true)
	clock.Advance(2 * time.Minute)
	mustGet(t, c, "a")
	waitLoads(c)

	if got := log.take(); len(got) != 1 || !got[0].staleServed {
		t.Errorf("reports = %+v, want one with staleServed", got)
	}
}
