package edge

import (
	"fmt"
	"testing"
	"time"
)

// TestRefusalLogMemoryIsBounded: however many origins are refused, the log
// remembers at most RefusalLogSize pairs; the oldest are forgotten first.
func TestRefusalLogMemoryIsBounded(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	l := NewRefusalLog(func() time.Time { return now })
	for i := range RefusalLogSize * 2 {
		if !l.Due("assets", fmt.Sprintf("https://site-%d.example.com", i)) {
			t.Fatalf("origin %d: not due, though never seen", i)
		}
	}
	if n := l.last.Len(); n != RefusalLogSize {
		t.Errorf("%d pairs remembered, want %d", n, RefusalLogSize)
	}
	if !l.Due("assets", "https://site-0.example.com") {
		t.Errorf("the oldest pair is still remembered")
	}
}

// TestRefusalLogOncePerMinute: a pair is due once per RefusalLogEvery.
func TestRefusalLogOncePerMinute(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	l := NewRefusalLog(func() time.Time { return now })
	for _, step := range []struct {
		after time.Duration
		due   bool
	}{{0, true}, {time.Second, false}, {RefusalLogEvery - 2*time.Second, false}, {time.Second, true}, {0, false}} {
		now = now.Add(step.after)
		if got := l.Due("assets", "https://evil.example"); got != step.due {
			t.Errorf("after %v more: due = %v, want %v", step.after, got, step.due)
		}
	}
	if !l.Due("other", "https://evil.example") {
		t.Errorf("another bucket's refusal of the same origin is not due")
	}
}
