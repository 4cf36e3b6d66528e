//go:build unix

package caddymodule

import (
	"syscall"
	"time"
)

// cpuTime is the processor time the test process has used so far, in user
// and kernel mode, in all its threads (the collector's included). Unlike
// the clock, it does not count the time other programs held the processor.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
