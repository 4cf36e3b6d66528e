//go:build loadharness

package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// server is a program the rig started for the harness, found by its pid
// so that it can be pinned and its CPU time read.
type server struct {
	name string
	pid  int
}

// findChild returns the child of this test process whose command line
// contains marker (its data folder or Caddyfile): the rig starts servers
// itself and does not hand out their pids.
func findChild(t testing.TB, name, marker string) server {
	t.Helper()
	self := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || parentOf(pid) != self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err == nil && strings.Contains(string(cmdline), marker) {
			return server{name: name, pid: pid}
		}
	}
	t.Fatalf("no child process of this test has %q in its command line (%s)", marker, name)
	return server{}
}

// parentOf returns the parent pid from /proc/<pid>/stat, or -1.
func parentOf(pid int) int {
	fields := statFields(pid)
	if len(fields) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return -1
	}
	return ppid
}

// statFields returns the fields of /proc/<pid>/stat after the command name
// (which may hold spaces): field 0 is the state, field 1 the parent pid, 11
// and 12 utime and stime.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// clockTicks is USER_HZ, the unit of utime and stime; 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// cpuSeconds returns the CPU time the process has used, user and system,
// over all its threads.
func (s server) cpuSeconds() float64 {
	f := statFields(s.pid)
	if len(f) < 13 {
		return 0
	}
	user, _ := strconv.ParseFloat(f[11], 64)
	sys, _ := strconv.ParseFloat(f[12], 64)
	return (user + sys) / clockTicks
}

// pin sets the CPU affinity of every thread of the process; threads made
// later inherit it from the thread that makes them.
func (s server) pin(t testing.TB, cpus string) {
	t.Helper()
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(s.pid)).CombinedOutput()
	if err != nil {
		t.Fatalf("pinning %s (pid %d) to CPUs %s: %v\n%s", s.name, s.pid, cpus, err, out)
	}
}

// affinity returns the distinct CPU lists of the process's threads, from
// /proc/<pid>/task/*/status.
func (s server) affinity() []string {
	seen := map[string]bool{}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", s.pid))
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread has exited
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				seen[strings.TrimSpace(v)] = true
			}
		}
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// exe returns the path of the process's program.
func (s server) exe() string {
	p, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.pid))
	if err != nil {
		return ""
	}
	return p
}

// cpuSet expands a CPU list ("0", "0-3", "0,2"), as taskset takes and
// /proc prints them, into its CPU numbers, in order.
func cpuSet(list string) ([]int, error) {
	var cpus []int
	for part := range strings.SplitSeq(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("CPU list %q: %q is not a CPU number", list, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("CPU list %q: bad range %q", list, part)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	sort.Ints(cpus)
	return slices.Compact(cpus), nil
}

// sameCPUs says whether two CPU lists name the same CPUs.
func sameCPUs(a, b string) bool {
	x, err1 := cpuSet(a)
	y, err2 := cpuSet(b)
	return err1 == nil && err2 == nil && slices.Equal(x, y)
}
