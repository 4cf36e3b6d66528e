//go:build loadharness

package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wrkInstallHint tells how to get the load generator.
const wrkInstallHint = "install it with `apt-get install wrk` (Debian/Ubuntu), or put a wrk 4.x in PATH"

// wrkBinary returns wrk's path, or fails the test with how to install it.
func wrkBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("wrk"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/wrk"); err == nil {
		return "/usr/bin/wrk"
	}
	t.Fatalf("the load harness needs wrk, which is not installed: %s", wrkInstallHint)
	return ""
}

// wrkScript renders the Lua script of a case: the request it sends, and a
// done callback that prints the run's figures on one line that parseWrk
// reads. Percentiles come from wrk's own latency histogram, in µs.
func wrkScript(c *benchCase) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %q\n", c.method)
	keys := make([]string, 0, len(c.headers))
	for k := range c.headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "wrk.headers[%q] = %q\n", k, c.headers[k])
	}
	if c.randomBuckets > 0 {
		// A fixed request is built once by wrk; a request function costs a
		// Lua call per request, on wrk's CPU, so only the cold cases use it.
		fmt.Fprintf(&b, `
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("id", threads)
end
function init(args)
	math.randomseed(os.time() * 1000 + (id or 0))
end
function request()
	return wrk.format(nil, string.format(%q, math.random(0, %d)))
end
`, "/"+bucketFormat(c.randomBuckets)+c.object, c.randomBuckets-1)
	}
	b.WriteString(`
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("BENCH requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
		summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
		latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`)
	return b.String()
}

// bucketFormat is the Printf format of the names of n cold buckets: b0000.
func bucketFormat(n int) string {
	width := max(4, len(strconv.Itoa(n-1)))
	return "b%0" + strconv.Itoa(width) + "d"
}

// wrkResult is one run of wrk against one case.
type wrkResult struct {
	requests, bytes                       int64
	seconds                               float64
	connect, read, write, status, timeout int64
	p50, p90, p99, max                    float64 // µs
	rps                                   float64
	clientCPU, caddyCPU, minioCPU         float64 // share of one CPU over the run
	// cpuPerRequest is the CPU time, in µs, that the servers answering
	// the case used per request: a figure that other work on the machine
	// moves much less than requests/s.
	cpuPerRequest float64
}

// socketErrors counts the requests that got no answer.
func (r *wrkResult) socketErrors() int64 { return r.connect + r.read + r.write + r.timeout }

// wrkRunner runs wrk with the harness's settings.
type wrkRunner struct {
	bin         string
	threads     int
	connections int
	clientCPUs  string // "" when not pinned
	scriptDir   string
	caddy       server
	minio       server
}

// run drives the case for d and returns wrk's figures with the CPU each
// program used meanwhile.
func (w *wrkRunner) run(t testing.TB, c *benchCase, d time.Duration) wrkResult {
	t.Helper()
	script := filepath.Join(w.scriptDir, c.name+".lua")
	if err := os.WriteFile(script, []byte(wrkScript(c)), 0o644); err != nil {
		t.Fatal(err)
	}
	secs := int((d + time.Second - 1) / time.Second)
	args := []string{
		"-t", strconv.Itoa(w.threads), "-c", strconv.Itoa(w.connections),
		"-d", strconv.Itoa(secs) + "s", "--timeout", "10s", "-s", script, c.url,
	}
	name := w.bin
	if w.clientCPUs != "" {
		args = append([]string{"-c", w.clientCPUs, w.bin}, args...)
		name = "taskset"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs)*time.Second+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	caddy0, minio0, start := w.caddy.cpuSeconds(), w.minio.cpuSeconds(), time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start).Seconds()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	res, err := parseWrk(string(out))
	if err != nil {
		t.Fatalf("case %s: %v\nwrk's output:\n%s", c.name, err, out)
	}
	st := cmd.ProcessState
	res.clientCPU = (st.UserTime() + st.SystemTime()).Seconds() / wall
	res.caddyCPU = (w.caddy.cpuSeconds() - caddy0) / wall
	res.minioCPU = (w.minio.cpuSeconds() - minio0) / wall
	var serving float64
	if c.servedBy&byCaddy != 0 {
		serving += res.caddyCPU
	}
	if c.servedBy&byMinIO != 0 {
		serving += res.minioCPU
	}
	res.cpuPerRequest = serving * wall / float64(res.requests) * 1e6
	return res
}

// parseWrk reads the BENCH line that the script's done callback prints.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	var line string
	for l := range strings.Lines(out) {
		if rest, ok := strings.CutPrefix(l, "BENCH "); ok {
			line = strings.TrimSpace(rest)
		}
	}
	if line == "" {
		return r, fmt.Errorf("no BENCH line in wrk's output")
	}
	ints := map[string]*int64{
		"requests": &r.requests, "bytes": &r.bytes, "connect": &r.connect, "read": &r.read,
		"write": &r.write, "status": &r.status, "timeout": &r.timeout,
	}
	floats := map[string]*float64{"p50_us": &r.p50, "p90_us": &r.p90, "p99_us": &r.p99, "max_us": &r.max}
	var durationUS int64
	ints["duration_us"] = &durationUS
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		if dst, ok := ints[k]; ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return r, fmt.Errorf("BENCH %s: %v", f, err)
			}
			*dst = n
		} else if dst, ok := floats[k]; ok {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return r, fmt.Errorf("BENCH %s: %v", f, err)
			}
			*dst = x
		}
	}
	if durationUS <= 0 || r.requests <= 0 {
		return r, fmt.Errorf("BENCH line with no requests: %s", line)
	}
	r.seconds = float64(durationUS) / 1e6
	r.rps = float64(r.requests) / r.seconds
	return r, nil
}
