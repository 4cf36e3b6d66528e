package lookup

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/bucketcors/bucketcors/internal/testclock"
	"github.com/bucketcors/bucketcors/internal/testrig"
	"github.com/bucketcors/bucketcors/policy"
)

// testTimeout bounds every wait of these tests.
const testTimeout = 20 * time.Second

// The origins that tell apart where a policy came from: each policy of a
// test allows GET from one of them.
const (
	fixedOrigin   = "https://fixed.example.com"
	sourceOrigin  = "https://source.example.com"
	defaultOrigin = "https://default.example.com"
	otherOrigin   = "https://other.example.com"
)

// allowing is an R2 JSON policy that allows GET from origin.
func allowing(origin string) string {
	return `[{"AllowedOrigins": ["` + origin + `"], "AllowedMethods": ["GET"]}]`
}

// allowingXML is the same in S3 XML, as the policy store keeps it.
func allowingXML(origin string) string {
	return `<CORSConfiguration><CORSRule><AllowedOrigin>` + origin + `</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
}

// allowed names the origin of the four above that pol allows a GET from:
// "" for none, or for a nil policy.
func allowed(pol *policy.Policy) string {
	if pol == nil {
		return ""
	}
	for _, o := range []string{fixedOrigin, sourceOrigin, defaultOrigin, otherOrigin} {
		if pol.Actual(o, "GET").Allowed {
			return o
		}
	}
	return ""
}

func newFakeClock() *testclock.Clock {
	return testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// writeFile writes a file of dir, failing the test when it cannot.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// observed returns a logger whose lines the test reads.
func observed() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return zap.New(core), logs
}

// dirSources returns Sources that read dir, on clock, closed when the test
// ends.
func dirSources(t *testing.T, clock *testclock.Clock, dir string, opts SourcesOptions) *Sources {
	t.Helper()
	opts.Dir, opts.Now = dir, clock.Now
	s, err := NewSources(opts)
	if err != nil {
		t.Fatalf("NewSources: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// settle waits until no load of s's cache is in flight.
func settle(t *testing.T, s *Sources) {
	t.Helper()
	waitFor(t, "the loads in flight done", func() bool { return s.Counters().Cache.LoadsInFlight == 0 })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	testrig.WaitFor(t, what, testTimeout, ok)
}

// mustFor returns what p.For answers for bucket, failing the test on an
// error.
func mustFor(t *testing.T, p *Policies, bucket string) *policy.Policy {
	t.Helper()
	pol, err := p.For(context.Background(), bucket)
	if err != nil {
		t.Fatalf("For(%q): %v", bucket, err)
	}
	return pol
}
