package integration

// The policy store's index on a real MinIO: what a load costs with it, how
// a change written through one proxy reaches another within a poll, how a
// write straight into the store is found by a resync, and how old change
// records are pruned. A second "proxy" is a source.Index in this process.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bucketcors/bucketcors/internal/testrig"
	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/source"
)

// indexStore returns a Store of MinIO's policy bucket under prefix, with
// requests counted of its own.
func indexStore(t testing.TB, m *testrig.MinIO, prefix string) *source.Store {
	t.Helper()
	client, err := source.NewS3Client(source.Endpoint{URL: m.Endpoint, Region: m.Region, AccessKey: m.AccessKey, SecretKey: m.SecretKey}, "policy_store")
	if err != nil {
		t.Fatal(err)
	}
	return &source.Store{Client: client, Bucket: storePolicyBucket, Prefix: prefix}
}

// indexPolicy compiles an S3 XML document.
func indexPolicy(t testing.TB, doc string) *policy.Policy {
	t.Helper()
	pol, err := policy.Read("test", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// changeLog records what an index's OnChange is told.
type changeLog struct {
	mu      sync.Mutex
	buckets []string
}

func (l *changeLog) add(bucket string, _ time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buckets = append(l.buckets, bucket)
}

func (l *changeLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.buckets
	l.buckets = nil
	return out
}

// TestPolicyStoreIndexOnMinIO drives two indexes of one store by hand.
func TestPolicyStoreIndexOnMinIO(t *testing.T) {
	t.Parallel()
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	ctx := context.Background()
	const prefix = "cors/"
	for _, b := range []string{"photos", "videos", "docs"} {
		m.PutObject(t, storePolicyBucket, prefix+b+".xml", []byte(storePolicyV1), "application/xml")
	}
	// A writer whose clock lags 5 s behind: its records must not be missed.
	skew := -5 * time.Second
	a := source.NewIndex(indexStore(t, m, prefix), source.IndexOptions{Now: func() time.Time { return time.Now().Add(skew) }})
	var seenByB changeLog
	bStore := indexStore(t, m, prefix)
	b := source.NewIndex(bStore, source.IndexOptions{OnChange: seenByB.add})
	for _, x := range []*source.Index{a, b} {
		if err := x.Sync(ctx, true); err != nil {
			t.Fatalf("first listing: %v", err)
		}
	}
	if st := b.Status(); !st.Ready || st.Entries != 3 || st.Listings != 1 {
		t.Fatalf("after the first listing: %+v, want ready with 3 entries", st)
	}
	requests := func() source.RequestTotals { return bStore.Requests.Totals() }

	// A bucket with no policy costs no request; a held policy whose ETag
	// the index has costs none either.
	before := requests()
	if res, err := b.Load(ctx, "made-up-bucket"); err != nil || res.Found {
		t.Fatalf("Load of a bucket with no policy = %+v, %v", res, err)
	}
	photos, err := b.Load(ctx, "photos")
	if err != nil || !photos.Found || photos.Version == "" {
		t.Fatalf("Load(photos) = %+v, %v", photos, err)
	}
	again, err := b.Revalidate(ctx, "photos", photos)
	if err != nil || again.Policy != photos.Policy || again.CheckedAt.IsZero() {
		t.Fatalf("Revalidate of the current version = %+v, %v; want the held policy, checked", again, err)
	}
	if got, want := requests(), before.Add(source.RequestTotals{Get: 1}); got != want {
		t.Errorf("requests = %+v, want %+v: only photos' first load reads the store", got, want)
	}

	// The store itself answers 304 to a conditional GET of the held version.
	before = requests()
	checked, err := bStore.Revalidate(ctx, "photos", photos)
	if err != nil || checked.Policy != photos.Policy || !checked.CheckedAt.After(photos.CheckedAt) {
		t.Errorf("conditional GET of the held version = %+v, %v; want the held policy (304), checked later", checked, err)
	}
	if got := requests().Get - before.Get; got != 1 {
		t.Errorf("conditional GET made %d requests, want 1", got)
	}

	// A poll with nothing new is one request.
	before = requests()
	if err := b.Sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if got, want := requests(), before.Add(source.RequestTotals{List: 1}); got != want {
		t.Errorf("an idle poll made %+v requests, want one list", got)
	}

	// A change through A (whose clock lags) reaches B at its next poll;
	// B's next load reads the new policy, once.
	etag, err := a.PutPolicy(ctx, "photos", indexPolicy(t, storePolicyV2))
	if err != nil || etag == "" || etag == photos.Version {
		t.Fatalf("PutPolicy = %q, %v", etag, err)
	}
	if err := a.DeletePolicy(ctx, "docs"); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(seenByB.take(), " "); got != "photos docs" {
		t.Errorf("B was told of %q, want photos docs", got)
	}
	before = requests()
	changed, err := b.Revalidate(ctx, "photos", photos)
	if err != nil || changed.Version != etag || changed.Policy == photos.Policy {
		t.Fatalf("B's load after the change = %+v, %v; want the new ETag %s", changed, err, etag)
	}
	if res, err := b.Load(ctx, "docs"); err != nil || res.Found {
		t.Errorf("B's load of the deleted policy = %+v, %v", res, err)
	}
	if _, err := b.Revalidate(ctx, "photos", changed); err != nil {
		t.Fatal(err)
	}
	if res, err := b.Load(ctx, "docs"); err != nil || res.Found {
		t.Fatal(res, err)
	}
	if got, want := requests(), before.Add(source.RequestTotals{Get: 2}); got != want {
		t.Errorf("requests = %+v, want %+v: one GET per changed bucket, then none", got, want)
	}
	// The same records are not applied twice.
	if err := b.Sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if got := seenByB.take(); len(got) != 0 {
		t.Errorf("a second poll told B again of %v", got)
	}

	// A write straight into the store leaves no record: a listing finds it.
	m.PutObject(t, storePolicyBucket, prefix+"videos.xml", []byte(storePolicyV2), "application/xml")
	if err := b.Sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if got := seenByB.take(); len(got) != 0 {
		t.Errorf("a poll found %v, want nothing: the write left no record", got)
	}
	if err := b.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(seenByB.take(), " "); got != "videos" {
		t.Errorf("the listing told B of %q, want videos", got)
	}

	// Records past the retention are deleted by a listing; the policies stay.
	pruner := source.NewIndex(indexStore(t, m, prefix), source.IndexOptions{Retention: time.Millisecond})
	time.Sleep(10 * time.Millisecond)
	if err := pruner.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	out, err := m.Client(t).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(storePolicyBucket), Prefix: aws.String(prefix + ".changes/")})
	if err != nil || len(out.Contents) != 0 {
		t.Errorf("change records left after pruning: %d, %v", len(out.Contents), err)
	}
	if st := pruner.Status(); st.Entries != 2 {
		t.Errorf("after pruning, the index has %d entries, want photos and videos", st.Entries)
	}
}

// TestIndexedStoreThroughCaddy: one Caddy with poll 1s and resync 4s. A
// bucket with no policy costs it no store request; a change written by
// another proxy is enforced within about a poll; a write straight into the
// store within a resync; the admin API shows the index and each policy's
// ETag and check time.
func TestIndexedStoreThroughCaddy(t *testing.T) {
	t.Parallel()
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	for _, b := range []string{"photos", "videos"} {
		m.CreateBucket(t, b)
		storePutObject(t, m, b, storePolicyV1)
	}
	addr := testrig.FreeAddr(t)
	c := testrig.StartCaddy(t, storeSiteIndexed(addr, m, "1m", "poll 1s\n\t\t\tresync 4s"))
	base := "http://" + addr
	appUpload := func(bucket string) storeResp {
		return storePreflight(t, base, "/"+bucket+"/a.jpg", storeAppOrigin, "PUT", "content-type,x-amz-date")
	}
	betaRead := func(bucket string) storeResp {
		return storePreflight(t, base, "/"+bucket+"/a.jpg", storeBetaOrigin, "GET", "")
	}

	var status []source.IndexStatus
	storeEventually(t, 15*time.Second, "the index ready", func() (bool, string) {
		r := adminDo(t, mustRequest(t, http.MethodGet, c.AdminURL()+"/bucket_cors/index"))
		status = nil
		_ = json.Unmarshal([]byte(r.Body), &status)
		return len(status) == 1 && status[0].Ready, r.Body
	})
	if st := status[0]; st.Entries != 2 || st.Store != "s3://"+storePolicyBucket+"/" || st.PollSeconds != 1 || st.ResyncSeconds != 4 {
		t.Errorf("index status %+v", st)
	}

	storeCheckGranted(t, "photos v1", appUpload("photos"), storeGrantV1)
	gets := func() float64 {
		return storeMetrics(t, c.AdminURL())[storeSeries("bucketcors_store_requests_total", "op=get")]
	}
	before := gets()
	for i := range 50 {
		storeCheckRefused(t, "a bucket with no policy", appUpload(fmt.Sprintf("nothing-%d", i)), "PUT", true)
	}
	if got := gets() - before; got != 0 {
		t.Errorf("50 preflights for buckets with no policy made %v GETs, want 0", got)
	}

	// Another proxy changes photos through its own index.
	other := source.NewIndex(indexStore(t, m, ""), source.IndexOptions{})
	changedAt := time.Now()
	etag, err := other.PutPolicy(context.Background(), "photos", indexPolicy(t, storePolicyV2))
	if err != nil {
		t.Fatal(err)
	}
	took := storeEventually(t, 10*time.Second, "the other proxy's change enforced", func() (bool, string) {
		r := betaRead("photos")
		return r.Status == http.StatusOK, fmt.Sprintf("%d %s", r.Status, r.Body)
	})
	if took > 3*time.Second {
		t.Errorf("the change took %v to be enforced, want about a poll (1s)", took)
	}
	storeCheckGranted(t, "photos v2", betaRead("photos"), storeGrantV2)
	var view struct {
		Handlers []struct {
			ETag      string    `json:"etag"`
			CheckedAt time.Time `json:"checked_at"`
		} `json:"handlers"`
	}
	r := adminDo(t, mustRequest(t, http.MethodGet, c.AdminURL()+"/bucket_cors/policies/photos"))
	if err := json.Unmarshal([]byte(r.Body), &view); err != nil || len(view.Handlers) != 1 {
		t.Fatalf("policy view %s: %v", r.Body, err)
	}
	if h := view.Handlers[0]; h.ETag != etag || h.CheckedAt.Before(changedAt) {
		t.Errorf("policy view etag %q checked_at %v, want %q checked after %v", h.ETag, h.CheckedAt, etag, changedAt)
	}
	if n := storeMetrics(t, c.AdminURL())["bucketcors_policy_propagation_seconds_count"]; n < 1 {
		t.Errorf("bucketcors_policy_propagation_seconds_count = %v, want the change counted", n)
	}

	// A write straight into MinIO is enforced after a resync (4s).
	storeCheckGranted(t, "videos v1", appUpload("videos"), storeGrantV1)
	storePutObject(t, m, "videos", storePolicyV2)
	took = storeEventually(t, 15*time.Second, "the bypassing write enforced", func() (bool, string) {
		r := betaRead("videos")
		return r.Status == http.StatusOK, fmt.Sprintf("%d %s", r.Status, r.Body)
	})
	t.Logf("a write straight into the store took %v to be enforced (resync 4s)", took)
}

// storeSiteIndexed is storeSite with settings added to policy_store.
func storeSiteIndexed(addr string, m *testrig.MinIO, ttl, storeLines string) string {
	return withStoreLines(storeSite(addr, m, ttl, ""), storeLines)
}

// withStoreLines adds lines (poll, resync) to the first policy_store block
// of a Caddyfile, after its secret_key line.
func withStoreLines(caddyfile, lines string) string {
	block := strings.Index(caddyfile, "policy_store s3 {")
	secret := strings.Index(caddyfile[block:], "secret_key ")
	end := block + secret + strings.Index(caddyfile[block+secret:], "\n") + 1
	return caddyfile[:end] + "\t\t\t" + lines + "\n" + caddyfile[end:]
}

func mustRequest(t testing.TB, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
