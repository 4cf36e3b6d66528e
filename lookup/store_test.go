package lookup

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketcors/bucketcors/internal/testrig"
	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/source"
)

// storeSources returns Sources of p's store, read through its counter, once
// their index (if any) is ready.
func storeSources(t *testing.T, p *testrig.PolicyStore, opts SourcesOptions, store StoreOptions) *Sources {
	t.Helper()
	store.Endpoint = source.Endpoint{URL: p.Counter.URL, AccessKey: p.MinIO.AccessKey, SecretKey: p.MinIO.SecretKey}
	store.Bucket = p.Bucket
	opts.Store = &store
	s, err := NewSources(opts)
	if err != nil {
		t.Fatalf("NewSources: %v", err)
	}
	t.Cleanup(s.Close)
	if _, indexed := s.IndexStatus(); indexed {
		waitFor(t, "the index ready", func() bool { st, _ := s.IndexStatus(); return st.Ready })
	}
	return s
}

func readPolicy(t *testing.T, doc string) *policy.Policy {
	t.Helper()
	pol, err := policy.Read("test", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// TestCORSAPIStore: a policy put through the CORS API is stored, cached at
// once with its new ETag, and (through the index) leaves a change record
// for the other proxies; a delete drops it from the store and the cache.
func TestCORSAPIStore(t *testing.T) {
	f := testrig.StartPolicyStore(t, "policies")
	for _, tc := range []struct {
		name          string
		noIndex       bool
		changeRecords bool
	}{
		{"with the index", false, true},
		{"poll off", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := storeSources(t, f, SourcesOptions{}, StoreOptions{NoIndex: tc.noIndex})
			ctx := context.Background()
			bucket := strings.ReplaceAll(tc.name, " ", "-")
			pol := readPolicy(t, allowingXML(sourceOrigin))
			f.Counter.Take()
			if err := s.PutPolicy(ctx, bucket, pol); err != nil {
				t.Fatalf("PutPolicy: %v", err)
			}
			e, ok := s.cache.Peek(bucket)
			if !ok || !e.Found || e.Value.Policy != pol || e.Value.Version == "" || e.Source != "policy_store" {
				t.Errorf("after PutPolicy, the cached entry is %+v, want the policy with its ETag from policy_store", e)
			}
			wroteRecord := slices.ContainsFunc(f.Counter.Take(), func(r testrig.StoreRequest) bool {
				return r.Kind == testrig.KindPut && strings.HasPrefix(r.Key, ".changes/")
			})
			if wroteRecord != tc.changeRecords {
				t.Errorf("PutPolicy wrote a change record: %v, want %v", wroteRecord, tc.changeRecords)
			}
			if got, found, err := s.GetPolicy(ctx, bucket); err != nil || !found || allowed(got) != sourceOrigin {
				t.Errorf("GetPolicy = a policy allowing %q, %v, %v; want the stored one", allowed(got), found, err)
			}
			if d, err := (&Policies{Sources: s}).Describe(ctx, bucket); err != nil || d.ETag != e.Value.Version {
				t.Errorf("Describe: ETag %q, %v; want %q", d.ETag, err, e.Value.Version)
			}

			if err := s.DeletePolicy(ctx, bucket); err != nil {
				t.Fatalf("DeletePolicy: %v", err)
			}
			if _, ok := s.cache.Peek(bucket); ok {
				t.Error("after DeletePolicy, the bucket is still cached")
			}
			if _, found, err := s.GetPolicy(ctx, bucket); err != nil || found {
				t.Errorf("GetPolicy after DeletePolicy: found %v, %v; want none", found, err)
			}
		})
	}
}

// TestIndexedSources: a change written by another proxy's index is read
// again here within a few polls and its propagation measured; a policy
// written straight into the store is read once its bucket is invalidated
// or refreshed; the counters count the index's rounds and entries, the
// store's requests and the cache's entries.
func TestIndexedSources(t *testing.T) {
	f := testrig.StartPolicyStore(t, "policies")
	f.Put(t, "photos.xml", allowingXML(sourceOrigin))
	measured := make(chan time.Duration, 10)
	s := storeSources(t, f, SourcesOptions{OnPropagated: func(d time.Duration) { measured <- d }}, StoreOptions{Poll: 20 * time.Millisecond})
	p := &Policies{Sources: s}
	if got := allowed(mustFor(t, p, "photos")); got != sourceOrigin {
		t.Fatalf("photos allows %q, want %q", got, sourceOrigin)
	}

	other := source.NewIndex(&source.Store{Client: f.MinIO.Client(t), Bucket: "policies"}, source.IndexOptions{})
	if _, err := other.PutPolicy(context.Background(), "photos", readPolicy(t, allowingXML(otherOrigin))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other proxy's change enforced", func() bool { return allowed(mustFor(t, p, "photos")) == otherOrigin })
	select {
	case d := <-measured:
		if d <= 0 || d > testTimeout {
			t.Errorf("propagation measured %v, want a time within the wait", d)
		}
	case <-time.After(testTimeout):
		t.Error("the change's propagation was not measured")
	}

	// Written by hand, no change record: the index says these buckets
	// have no policy until its next listing, but a bucket invalidated or
	// refreshed is confirmed with the store.
	for _, b := range []string{"hand-1", "hand-2"} {
		if pol := mustFor(t, p, b); pol != nil {
			t.Fatalf("%s has a policy before it was written", b)
		}
		f.Put(t, b+".xml", allowingXML(fixedOrigin))
	}
	s.Invalidate("hand-1")
	if got := allowed(mustFor(t, p, "hand-1")); got != fixedOrigin {
		t.Errorf("after Invalidate, hand-1 allows %q, want the policy written by hand, %q", got, fixedOrigin)
	}
	s.Refresh("")
	settle(t, s)
	if got := allowed(mustFor(t, p, "hand-2")); got != fixedOrigin {
		t.Errorf("after Refresh of every bucket, hand-2 allows %q, want the policy written by hand, %q", got, fixedOrigin)
	}

	// The index learnt the buckets written by hand from the loads, and
	// lists the store again after Refresh of every bucket; the other
	// proxy's writes went straight to MinIO, not through the counter.
	c := s.Counters()
	st, _ := s.IndexStatus()
	if c.CacheEntries != 3 || c.IndexEntries != 3 || c.Listings < 1 || c.Listings != st.Listings || c.Polls < 1 || c.Polls != st.Polls ||
		c.PollErrors != 0 || c.ListingErrors != 0 ||
		c.StoreRequests.List < 2 || c.StoreRequests.Get < 3 || c.StoreRequests.Put != 0 || c.StoreRequests.Delete != 0 {
		t.Errorf("counters %+v, index status %+v; want 3 cache and index entries, the index's listings and polls, "+
			"at least 2 lists (a listing and a poll) and 3 gets (photos twice, hand-1, hand-2), no put or delete", c, st)
	}
}
