package lookup

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/internal/testclock"
	"github.com/bucketcors/bucketcors/source"
)

// newPolicies returns Policies with an inline policy for "fixed" and, when
// withDefault, a default policy; with a folder, Sources that read it.
func newPolicies(t *testing.T, clock *testclock.Clock, withDefault bool, dir string) *Policies {
	t.Helper()
	inline := map[string]json.RawMessage{"fixed": json.RawMessage(allowing(fixedOrigin))}
	if withDefault {
		inline[DefaultKey] = json.RawMessage(allowing(defaultOrigin))
	}
	fixed, err := CompileFixed(FixedOptions{Inline: inline, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	p := &Policies{Fixed: fixed}
	if dir != "" {
		p.Sources = dirSources(t, clock, dir, SourcesOptions{})
	}
	return p
}

// TestForLooksUpInOrder: the configuration's own policy comes first, then
// the sources', then the default; a bucket in none of them has no policy,
// nor has the empty name.
func TestForLooksUpInOrder(t *testing.T) {
	dir := t.TempDir()
	// The folder's policy for "fixed" is never seen: the configuration's
	// own comes first.
	writeFile(t, dir, "fixed.json", allowing(sourceOrigin))
	writeFile(t, dir, "from-dir.json", allowing(sourceOrigin))

	for _, tc := range []struct {
		name        string
		withDefault bool
		dir         string
		want        map[string]string // bucket -> the origin its policy allows
	}{
		{"sources and default", true, dir, map[string]string{
			"fixed": fixedOrigin, "from-dir": sourceOrigin, "elsewhere": defaultOrigin, "": ""}},
		{"sources, no default", false, dir, map[string]string{
			"fixed": fixedOrigin, "from-dir": sourceOrigin, "elsewhere": "", "": ""}},
		{"no sources", true, "", map[string]string{
			"fixed": fixedOrigin, "from-dir": defaultOrigin, "elsewhere": defaultOrigin, "": ""}},
		{"nothing but the fixed", false, "", map[string]string{
			"fixed": fixedOrigin, "from-dir": "", "elsewhere": "", "": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPolicies(t, newFakeClock(), tc.withDefault, tc.dir)
			for bucket, want := range tc.want {
				pol := mustFor(t, p, bucket)
				if got := allowed(pol); got != want || (want == "") != (pol == nil) {
					t.Errorf("For(%q) allows %q (policy %v), want %q", bucket, got, pol != nil, want)
				}
			}
		})
	}
}

// TestForFailsWhenTheSourcesDo: a bucket whose sources fail, with nothing
// cached, gets the error, not the default policy; and so does Describe.
func TestForFailsWhenTheSourcesDo(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "broken.json", "not a policy")
	p := newPolicies(t, newFakeClock(), true, dir)
	if pol, err := p.For(context.Background(), "broken"); err == nil || pol != nil {
		t.Errorf("For(broken) = %v, %v; want no policy and the folder's error", pol, err)
	}
	if _, err := p.Describe(context.Background(), "broken"); err == nil {
		t.Error("Describe(broken) succeeded, want the folder's error")
	}
}

// TestForTooManyLoads: past max_loads, a bucket with nothing cached gets
// cache.ErrTooManyLoads.
func TestForTooManyLoads(t *testing.T) {
	release := make(chan struct{})
	p := &Policies{Sources: &Sources{now: time.Now}}
	c, err := cache.New(cache.Options{Size: 10, TTL: time.Minute, MaxLoads: 1}, func(ctx context.Context, bucket string) (source.Result, string, bool, error) {
		<-release
		return source.Result{}, "none", false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Sources.cache = c
	done := make(chan error)
	go func() {
		_, err := p.For(context.Background(), "first")
		done <- err
	}()
	waitFor(t, "the first load started", func() bool { return c.Stats().LoadsInFlight == 1 })
	if _, err := p.For(context.Background(), "second"); !errors.Is(err, cache.ErrTooManyLoads) {
		t.Errorf("For(second) with a load in flight: %v, want cache.ErrTooManyLoads", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("For(first): %v", err)
	}
}

// TestDescribe: each policy says where it came from, which version, when
// it was read and checked.
func TestDescribe(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	writeFile(t, dir, "from-dir.json", allowing(sourceOrigin))
	p := newPolicies(t, clock, true, dir)
	compiledAt := clock.Now()
	clock.Advance(time.Minute)

	for _, tc := range []struct {
		bucket, source, origin string
		loadedAt               time.Time
		checked                bool
	}{
		{"fixed", "policies", fixedOrigin, compiledAt, false},
		{"from-dir", "policy_dir", sourceOrigin, clock.Now(), true},
		{"elsewhere", "default", defaultOrigin, compiledAt, false},
	} {
		d, err := p.Describe(context.Background(), tc.bucket)
		if err != nil {
			t.Fatalf("Describe(%q): %v", tc.bucket, err)
		}
		if d.Source != tc.source || allowed(d.Policy) != tc.origin || !d.LoadedAt.Equal(tc.loadedAt) || d.Stale || d.ETag != "" {
			t.Errorf("Describe(%q) = %+v; want source %s, a policy allowing %s, loaded at %v, not stale, no ETag",
				tc.bucket, d, tc.source, tc.origin, tc.loadedAt)
		}
		if (d.CheckedAt != nil) != tc.checked {
			t.Errorf("Describe(%q).CheckedAt = %v, want set: %v", tc.bucket, d.CheckedAt, tc.checked)
		}
	}
	if d, _ := p.Describe(context.Background(), "from-dir"); d.Version == "" {
		t.Error("a folder's policy has no version")
	}

	p = newPolicies(t, clock, false, dir)
	if d, err := p.Describe(context.Background(), "elsewhere"); err != nil || d.Source != "none" || d.Policy != nil {
		t.Errorf("Describe of a bucket with no policy = %+v, %v; want source none and no policy", d, err)
	}
}
