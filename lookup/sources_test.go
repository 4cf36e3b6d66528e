package lookup

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/source"
)

// TestNewSourcesRefuses: a policy store without a bucket or keys, or an
// origin that is not a URL, is refused with every mistake named.
func TestNewSourcesRefuses(t *testing.T) {
	_, err := NewSources(SourcesOptions{
		Store:  &StoreOptions{Endpoint: source.Endpoint{URL: "http://127.0.0.1:9000"}},
		Origin: &source.Endpoint{URL: "not a url", AccessKey: "k", SecretKey: "s"},
	})
	if err == nil {
		t.Fatal("NewSources accepted a store without bucket or keys")
	}
	for _, want := range []string{
		"policy_store: access_key and secret_key are both needed",
		"policy_store: bucket is needed: the bucket that holds the policy objects",
		`policy_origin: endpoint "not a url" is not a URL`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if _, err := NewSources(SourcesOptions{Dir: t.TempDir(), Cache: CacheOptions{Size: -1}}); err == nil {
		t.Error("NewSources accepted a cache of size -1")
	}
}

// TestSourcesReadInOrder: the store comes before the folder, the folder
// before the origin.
func TestSourcesReadInOrder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "assets.json", allowing(sourceOrigin))
	keys := source.Endpoint{URL: "http://127.0.0.1:1", AccessKey: "k", SecretKey: "s"}
	s := dirSources(t, newFakeClock(), dir, SourcesOptions{
		Store:  &StoreOptions{Endpoint: keys, Bucket: "policies", NoIndex: true},
		Origin: &keys,
	})
	var names []string
	for _, src := range s.list {
		names = append(names, src.Name())
	}
	if got := strings.Join(names, " "); got != "policy_store policy_dir policy_origin" {
		t.Errorf("sources in the order %s, want policy_store policy_dir policy_origin", got)
	}
	if _, ok := s.IndexStatus(); ok {
		t.Error("a store with NoIndex has an index")
	}
}

// TestSourcesLogLoads: a policy read with warnings is logged with them; a
// failed read is logged, saying whether the previous policy was kept.
func TestSourcesLogLoads(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	writeFile(t, dir, "assets.json", warnedPolicy)
	logger, logs := observed()
	s := dirSources(t, clock, dir, SourcesOptions{Logger: logger, Cache: CacheOptions{TTL: time.Minute}})
	p := &Policies{Sources: s}
	mustFor(t, p, "assets")
	if got := logs.FilterMessage("bucket policy loaded with warnings").FilterField(zap.String("bucket", "assets")).Len(); got != 1 {
		t.Errorf("the warnings were logged %d times, want once", got)
	}

	writeFile(t, dir, "assets.json", "not a policy")
	clock.Advance(2 * time.Minute)
	mustFor(t, p, "assets") // past its TTL: served, and read again in the background
	settle(t, s)
	failed := logs.FilterMessage("reading bucket policy failed").All()
	if len(failed) != 1 || failed[0].ContextMap()["previous_policy_kept"] != true {
		t.Errorf("the failed read was logged as %v, want once, with the previous policy kept", failed)
	}

	// UseLogger(nil) silences the loads.
	s.UseLogger(nil)
	s.Invalidate("assets")
	if _, err := p.For(context.Background(), "assets"); err == nil {
		t.Error("For(assets) after its document broke and its entry was dropped: no error")
	}
	if n := logs.FilterMessage("reading bucket policy failed").Len(); n != 1 {
		t.Errorf("after UseLogger(nil), %d failures logged, want the 1 before", n)
	}
}

// TestInvalidateAndRefresh: Refresh re-reads a cached policy in the
// background while the old one serves; Invalidate drops it, so the next
// lookup reads it; "" does either for every bucket.
func TestInvalidateAndRefresh(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.json", allowing(sourceOrigin))
	writeFile(t, dir, "b.json", allowing(sourceOrigin))
	s := dirSources(t, newFakeClock(), dir, SourcesOptions{})
	p := &Policies{Sources: s}
	change := func(to string) {
		for _, b := range []string{"a", "b"} {
			mustFor(t, p, b)
			writeFile(t, dir, b+".json", allowing(to))
		}
	}
	expect := func(when, want string) {
		t.Helper()
		for _, b := range []string{"a", "b"} {
			if got := allowed(mustFor(t, p, b)); got != want {
				t.Errorf("%s: %s allows %q, want %q", when, b, got, want)
			}
		}
	}

	change(otherOrigin)
	expect("before any refresh", sourceOrigin)
	s.Refresh("a")
	s.Refresh("b")
	settle(t, s)
	expect("after Refresh of each", otherOrigin)

	change(fixedOrigin)
	s.Refresh("")
	settle(t, s)
	expect("after Refresh of all", fixedOrigin)

	change(defaultOrigin)
	s.Invalidate("a")
	s.Invalidate("b")
	expect("after Invalidate of each", defaultOrigin)

	change(sourceOrigin)
	s.Invalidate("")
	expect("after Invalidate of all", sourceOrigin)
}

// TestPropagation: when the index finds a cached bucket changed elsewhere,
// the policy is read again, and OnPropagated is told how long the change
// took to be enforced; a bucket not cached is left to its first load, and a
// change of unknown time is not measured.
func TestPropagation(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	writeFile(t, dir, "cached.json", allowing(sourceOrigin))
	measured := make(chan time.Duration, 10)
	s := dirSources(t, clock, dir, SourcesOptions{OnPropagated: func(d time.Duration) { measured <- d }})
	p := &Policies{Sources: s}
	mustFor(t, p, "cached")

	writeFile(t, dir, "cached.json", allowing(otherOrigin))
	s.changed("cached", clock.Now().Add(-3*time.Second))
	settle(t, s)
	if got := allowed(mustFor(t, p, "cached")); got != otherOrigin {
		t.Errorf("after the change, cached allows %q, want %q", got, otherOrigin)
	}
	select {
	case d := <-measured:
		if d != 3*time.Second {
			t.Errorf("propagation measured %v, want 3s", d)
		}
	default:
		t.Error("the change's propagation was not measured")
	}

	s.changed("not-cached", clock.Now())
	s.changed("cached", time.Time{})
	settle(t, s)
	if _, ok := s.cache.Peek("not-cached"); ok {
		t.Error("a change of a bucket not cached loaded it")
	}
	if n := len(measured); n != 0 {
		t.Errorf("%d more propagations measured, want none", n)
	}

	// Without OnPropagated, a change is read again all the same.
	s.onPropagated = nil
	writeFile(t, dir, "cached.json", allowing(fixedOrigin))
	s.changed("cached", clock.Now())
	settle(t, s)
	if got := allowed(mustFor(t, p, "cached")); got != fixedOrigin {
		t.Errorf("after the change, cached allows %q, want %q", got, fixedOrigin)
	}
}

// TestCORSAPIWithoutStore: Sources without a policy store refuse the
// CORS API's calls, naming what is missing.
func TestCORSAPIWithoutStore(t *testing.T) {
	s := dirSources(t, newFakeClock(), t.TempDir(), SourcesOptions{})
	ctx := context.Background()
	_, _, getErr := s.GetPolicy(ctx, "b")
	for name, err := range map[string]error{
		"GetPolicy":    getErr,
		"PutPolicy":    s.PutPolicy(ctx, "b", nil),
		"DeletePolicy": s.DeletePolicy(ctx, "b"),
	} {
		if !errors.Is(err, errNoStore) || !strings.Contains(err.Error(), "add policy_store") {
			t.Errorf("%s without a store: %v, want %v", name, err, errNoStore)
		}
	}
}
