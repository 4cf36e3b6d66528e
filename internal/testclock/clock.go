// Package testclock is a clock for tests that moves only when the test
// moves it. Code under test takes its Now method as its clock, so tests need
// no package-level clock and can run in parallel.
package testclock

import (
	"sync"
	"time"
)

// Clock is a clock that stands still until Advance moves it. It is
// safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock that reads start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
