package cache

import (
	"errors"
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
	tests := []struct {
		name     string
		interval time.Duration
		wantGap  time.Duration // the least time between two reports of one key
	}{
		{"default interval is the ttl", 0, time.Minute},
		{"explicit interval", 10 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			src := newFakeSource(map[string]string{})
			src.setFailing(true)
			var log reportLog
			opts := testOptions(clock)
			opts.OnLoadError = log.onLoadError
			opts.ErrorInterval = tt.interval
			c := mustNew(t, opts, src.load)
			get := func(key string) {
				if _, err := c.Get(t.Context(), key); !errors.Is(err, errSourceDown) {
					t.Fatalf("Get(%q): err = %v, want %v", key, err, errSourceDown)
				}
			}

			get("a")
			get("a")
			get("b")
			if got := log.take(); len(got) != 2 || got[0].key != "a" || got[1].key != "b" ||
				!errors.Is(got[0].err, errSourceDown) || got[0].staleServed {
				t.Errorf("reports = %+v, want one for a, one for b, no stale serve", got)
			}

			clock.Advance(tt.wantGap - time.Nanosecond)
			get("a")
			if got := log.take(); len(got) != 0 {
				t.Errorf("reports within the interval = %+v, want none", got)
			}

			clock.Advance(time.Nanosecond)
			get("a")
			get("a")
			if got := log.take(); len(got) != 1 || got[0].key != "a" {
				t.Errorf("reports after the interval = %+v, want one for a", got)
			}
			if n := src.calls.Load(); n != 6 {
				t.Errorf("loads = %d, want 6: the rate limit is on reports, not loads", n)
			}
		})
	}
}

func TestOnLoadErrorSaysWhenStaleWasServed(t *testing.T) {
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

	if got := log.take(); len(got) != 1 || !got[0].staleServed {
		t.Errorf("reports = %+v, want one with staleServed", got)
	}
}
