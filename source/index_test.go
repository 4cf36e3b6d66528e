package source

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bucketcors/bucketcors/internal/testclock"
	"github.com/bucketcors/bucketcors/internal/testrig"
	"github.com/bucketcors/bucketcors/policy"
)

const (
	docV1 = `<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
	docV2 = `<CORSConfiguration><CORSRule><AllowedOrigin>https://beta.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
)

func newTestClock() *testclock.Clock { return testclock.New(time.Now()) }

func compile(t *testing.T, doc string) *policy.Policy {
	t.Helper()
	pol, err := policy.Read("test", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// TestChangeKeys: a record's key names its time, writer and bucket, sorts
// by time, and reads back; other keys are not records.
func TestChangeKeys(t *testing.T) {
	t.Parallel()
	s := &Store{Prefix: "cors/"}
	at := time.Date(2026, 12, 1, 23, 0, 0, 123, time.UTC)
	c := ChangeRecord{At: at, Writer: "0a1b2c3d", Bucket: "my.bucket-1"}
	key := s.changeKey(c)
	if want := "cors/.changes/01796166000000000123-0a1b2c3d-my.bucket-1"; key != want {
		t.Errorf("key = %q, want %q", key, want)
	}
	got, ok := s.parseChangeKey(key)
	if !ok || !got.At.Equal(at) || got.Writer != c.Writer || got.Bucket != c.Bucket {
		t.Errorf("parseChangeKey = %+v, %v", got, ok)
	}
	later := s.changeKey(ChangeRecord{At: at.Add(time.Nanosecond), Writer: "00000000", Bucket: "a"})
	if !(s.changeCursor(at) < key && key < later) {
		t.Errorf("keys do not sort by time: cursor %q, %q, %q", s.changeCursor(at), key, later)
	}
	for _, bad := range []string{"cors/photos.xml", "cors/.changes/123-0a1b2c3d-b", "cors/.changes/0179616600000000012x-0a1b2c3d-b", "other/.changes/01796166000000000123-0a1b2c3d-b"} {
		if _, ok := s.parseChangeKey(bad); ok {
			t.Errorf("parseChangeKey(%q) accepted a key that is no record", bad)
		}
	}
}

// TestETagSums: an MD5 ETag is kept as its 16 bytes, any other as a
// digest; equal ETags have equal sums, different ones different sums.
func TestETagSums(t *testing.T) {
	t.Parallel()
	md5ETag := `"9b2cf535f27731c974343645a3985328"`
	if sum := sumETag(md5ETag); hexOf(sum) != "9b2cf535f27731c974343645a3985328" {
		t.Errorf("sum of an MD5 ETag = %x, want its bytes", sum)
	}
	etags := []string{md5ETag, `"9b2cf535f27731c974343645a3985329"`, `"9b2cf535f27731c974343645a3985328-2"`, `W/"abc"`, `abc`, `"9B2CF535F27731C974343645A3985328"`}
	for i, a := range etags {
		for j, b := range etags {
			if (sumETag(a) == sumETag(b)) != (i == j) {
				t.Errorf("sumETag(%s) == sumETag(%s) is %v", a, b, i != j)
			}
		}
	}
	e := newEntry(md5ETag, 10, time.Now())
	if !e.is(md5ETag) || e.is("") || (indexEntry{}).is(md5ETag) {
		t.Error("indexEntry.is: want a known entry to match its ETag only")
	}
}

func hexOf(sum etagSum) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for _, c := range sum {
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&15])
	}
	return b.String()
}

// TestIndexAnswersLoads: what a load costs, bucket by bucket, once the
// index is listed, before, and once its last sync is older than Trust.
func TestIndexAnswersLoads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, store := newStoreRig(t)
	etag1 := f.Put(t, "cors/photos.xml", docV1)
	f.Put(t, "cors/videos.xml", docV1)
	f.Put(t, "cors/docs.xml", docV1)
	oldRecord := "cors/.changes/00000000000000000001-00000000-photos"
	f.Put(t, oldRecord, "{}")
	clock := newTestClock()
	x := NewIndex(store, IndexOptions{Now: clock.Now, Trust: 30 * time.Second, PageSize: 2})

	// Not listed yet: every load reads the store.
	if res, err := x.Load(ctx, "made-up"); err != nil || res.Found {
		t.Fatalf("Load before the listing = %+v, %v", res, err)
	}
	if got := f.Take(); !slices.Equal(got, []string{"GET cors/made-up.xml"}) {
		t.Errorf("before the listing, a load made %v, want one GET", got)
	}
	if err := x.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	want := []string{"LIST cors/ ", "LIST cors/ ", "LIST cors/.changes/ ", "DELETE-OBJECTS"}
	if got := f.Take(); !slices.Equal(got, want) {
		t.Errorf("the first listing made %v, want two pages of policies (the records left out), one of records, and one request deleting the old record", got)
	}
	if f.Has(t, oldRecord) || !f.Has(t, "cors/photos.xml") {
		t.Errorf("after the first listing: the old record is there %v, photos.xml %v; want the record deleted, the policy kept", f.Has(t, oldRecord), f.Has(t, "cors/photos.xml"))
	}
	if st := x.Status(); !st.Ready || st.Entries != 3 || st.Listings != 1 || st.Errors != 0 {
		t.Errorf("status = %+v, want ready with 3 entries", st)
	}
	photos, err := x.Load(ctx, "photos")
	if err != nil || !photos.Found || photos.Version != etag1 {
		t.Fatalf("Load(photos) = %+v, %v", photos, err)
	}
	f.Take()
	stale := photos
	stale.Version = `"0123456789abcdef0123456789abcdef"`

	for _, tc := range []struct {
		name      string
		bucket    string
		held      Result
		want      []string
		wantFound bool
	}{
		{"a bucket the index does not have", "made-up", Result{}, nil, false},
		{"the held version is the index's", "photos", photos, nil, true},
		{"a bucket the index has, nothing held", "videos", Result{}, []string{"GET cors/videos.xml"}, true},
		{"a held version the index does not have: conditional GET", "photos", stale, []string{"GET cors/photos.xml"}, true},
	} {
		res, err := x.Revalidate(ctx, tc.bucket, tc.held)
		if err != nil || res.Found != tc.wantFound {
			t.Errorf("%s: Revalidate = %+v, %v", tc.name, res, err)
		}
		if got := f.Take(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: requests %v, want %v", tc.name, got, tc.want)
		}
	}
	if res, _ := x.Revalidate(ctx, "photos", photos); !res.CheckedAt.Equal(x.Status().LastSync) {
		t.Errorf("a version confirmed by the index is checked at %v, want the last sync %v", res.CheckedAt, x.Status().LastSync)
	}

	// Recheck: the next load reads the store; a 304 keeps the held policy.
	x.Recheck("photos")
	res, err := x.Revalidate(ctx, "photos", photos)
	if err != nil || res.Policy != photos.Policy || res.CheckedAt.Before(photos.CheckedAt) {
		t.Errorf("Revalidate after Recheck = %+v, %v; want the held policy, checked again", res, err)
	}
	if got := f.Take(); !slices.Equal(got, []string{"GET cors/photos.xml"}) {
		t.Errorf("after Recheck: %v, want one GET", got)
	}
	if _, err := x.Revalidate(ctx, "photos", photos); err != nil || len(f.Take()) != 0 {
		t.Errorf("the 304 did not make the index know the version again")
	}

	// Past Trust since the last sync, loads read the store again.
	clock.Advance(31 * time.Second)
	if _, err := x.Load(ctx, "made-up"); err != nil {
		t.Fatal(err)
	}
	if got := f.Take(); !slices.Equal(got, []string{"GET cors/made-up.xml"}) {
		t.Errorf("past Trust, a load made %v, want one GET", got)
	}
}

// TestIndexPolls: a record is applied once, by the other indexes only,
// also when its writer's clock lags within the lookback; an idle poll is
// one request; a record missed (a writer lagging past the lookback) or a
// write that left none is found by the next listing.
func TestIndexPolls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, store := newStoreRig(t)
	f.Put(t, "cors/photos.xml", docV1)
	f.Put(t, "cors/videos.xml", docV1)
	clock := newTestClock()
	lagging := testclock.New(clock.Now().Add(-5 * time.Second))
	var told []string
	reader := NewIndex(store, IndexOptions{Now: clock.Now, OnChange: func(b string, _ time.Time) { told = append(told, b) }})
	writer := NewIndex(&Store{Client: store.Client, Bucket: store.Bucket, Prefix: store.Prefix}, IndexOptions{Now: lagging.Now})
	for _, x := range []*Index{reader, writer} {
		if err := x.Sync(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	f.Take()

	if err := reader.Sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if got := f.Take(); len(got) != 1 || !strings.HasPrefix(got[0], "LIST cors/.changes/ cors/.changes/") {
		t.Errorf("an idle poll made %v, want one listing of the records after a cursor", got)
	}

	if _, err := writer.PutPolicy(ctx, "photos", compile(t, docV2)); err != nil {
		t.Fatal(err)
	}
	if err := writer.Sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := reader.Sync(ctx, false); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	if !slices.Equal(told, []string{"photos"}) {
		t.Errorf("the reader was told of %v, want photos once (its writer's clock lags 5s)", told)
	}
	if writer.Status().ChangesApplied != 0 {
		t.Errorf("the writer applied its own record")
	}
	// The reader's next load of photos reads the new version.
	f.Take()
	if res, err := reader.Revalidate(ctx, "photos", Result{Found: true, Version: `"old"`}); err != nil || res.Version == `"old"` {
		t.Errorf("after the record: %+v, %v", res, err)
	}
	if got := f.Take(); !slices.Equal(got, []string{"GET cors/photos.xml"}) {
		t.Errorf("after the record: %v, want one GET", got)
	}

	// A writer 60s behind writes a record the reader's cursor has passed;
	// a write straight into the store leaves none. A listing finds both.
	told = nil
	lagging.Advance(-55 * time.Second)
	if err := writer.DeletePolicy(ctx, "photos"); err != nil {
		t.Fatal(err)
	}
	f.Put(t, "cors/videos.xml", docV2)
	if err := reader.Sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if len(told) != 0 {
		t.Errorf("the poll applied %v, want nothing: the record is older than the lookback", told)
	}
	if err := reader.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	slices.Sort(told)
	if !slices.Equal(told, []string{"photos", "videos"}) {
		t.Errorf("the listing told %v, want photos (removed) and videos (changed)", told)
	}

	// Records are listed for pruning only once some may be past the
	// retention (5m): not by a listing right after them, by one later.
	f.Take()
	if err := reader.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got := f.Take(); slices.ContainsFunc(got, func(r string) bool { return strings.HasPrefix(r, "LIST cors/.changes/") }) {
		t.Errorf("a listing soon after the records listed them to prune: %v", got)
	}
	clock.Advance(6 * time.Minute)
	if err := reader.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got := f.Take(); !slices.Contains(got, "LIST cors/.changes/ ") {
		t.Errorf("a listing past the retention did not list the records to prune: %v", got)
	}
	if err := reader.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got := f.Take(); slices.ContainsFunc(got, func(r string) bool { return strings.HasPrefix(r, "LIST cors/.changes/") }) {
		t.Errorf("an idle listing after the prune listed the records again: %v", got)
	}
}

// TestIndexListingKeepsWhatLoadsLearntMeanwhile: a policy put while a
// listing runs, after the listing passed its key, keeps its new ETag.
func TestIndexListingKeepsWhatLoadsLearntMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, store := newStoreRig(t)
	f.Put(t, "cors/a.xml", docV1)
	f.Put(t, "cors/b.xml", docV1)
	f.Put(t, "cors/c.xml", docV1)
	x := NewIndex(store, IndexOptions{PageSize: 2})
	if err := x.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	// Page 2 is asked for when a.xml and b.xml are listed already.
	checkListingKeepsAPut(t, f, x, f.counter.OnList, 2, "during the listing: it was listed in one page")
}

// TestIndexListingKeepsAnEditMadeWhileItsPageWasOnTheWay: a policy put
// after the store answered a listing page that holds its key, but before
// the index took that page in, keeps its new ETag: the page's older one
// does not overwrite it.
func TestIndexListingKeepsAnEditMadeWhileItsPageWasOnTheWay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, store := newStoreRig(t)
	f.Put(t, "cors/a.xml", docV1)
	x := NewIndex(store, IndexOptions{})
	if err := x.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	// Page 1 lists a.xml with docV1's ETag.
	checkListingKeepsAPut(t, f, x, f.counter.OnListAnswered, 1, "while the listing's page was on its way")
}

// checkListingKeepsAPut runs a full sync of x whose listing hook, set with
// setHook, puts docV2 as a's policy when called with n (when says where, for
// the failure). It then checks that x confirms that policy at its new ETag
// without a request to the store: the listing left the ETag alone.
func checkListingKeepsAPut(t *testing.T, f *storeRig, x *Index, setHook func(func(int)), n int, when string) {
	t.Helper()
	ctx := context.Background()
	var etag string
	setHook(func(i int) {
		if i == n {
			var err error
			if etag, err = x.PutPolicy(ctx, "a", compile(t, docV2)); err != nil {
				t.Error(err)
			}
		}
	})
	if err := x.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	setHook(nil)
	if etag == "" {
		t.Fatalf("no policy was put %s", when)
	}
	f.Take()
	res, err := x.Revalidate(ctx, "a", Result{Found: true, Version: etag, Policy: compile(t, docV2)})
	if err != nil || !res.Found || res.Version != etag {
		t.Fatalf("Revalidate(a) = %+v, %v; want the policy put during the listing, version %s", res, err, etag)
	}
	if got := f.Take(); len(got) != 0 {
		t.Errorf("the policy put during the listing was read again (%v): the listing overwrote its ETag", got)
	}
}

// TestIndexPollsBetweenListingPages: a listing of many pages does not hold
// up a change made through another proxy: the records are polled between
// its pages once a poll is due.
func TestIndexPollsBetweenListingPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, store := newStoreRig(t)
	for _, key := range []string{"cors/a.xml", "cors/b.xml", "cors/c.xml"} {
		f.Put(t, key, docV1)
	}
	clock := newTestClock()
	var told []string
	reader := NewIndex(store, IndexOptions{Now: clock.Now, Poll: time.Second, PageSize: 2,
		OnChange: func(b string, _ time.Time) { told = append(told, b) }})
	writer := NewIndex(&Store{Client: store.Client, Bucket: store.Bucket, Prefix: store.Prefix}, IndexOptions{Now: clock.Now})
	if err := reader.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	f.counter.OnList(func(n int) {
		if n == 1 { // before the listing's first page: a change, and a poll due
			if _, err := writer.PutPolicy(ctx, "c", compile(t, docV2)); err != nil {
				t.Error(err)
			}
			clock.Advance(2 * time.Second)
		}
	})
	f.Take()
	if err := reader.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	f.counter.OnList(nil)

	var lists []string
	for _, r := range f.Take() {
		if strings.HasPrefix(r, "LIST ") {
			lists = append(lists, strings.Fields(r)[1])
		}
	}
	if want := []string{"cors/", "cors/.changes/", "cors/"}; !slices.Equal(lists[:min(len(lists), 3)], want) {
		t.Errorf("the listing's requests: %v; want the records polled between its two pages, %v", lists, want)
	}
	if !slices.Equal(told, []string{"c"}) {
		t.Errorf("told of %v, want c once (by the poll; the listing's later page leaves it alone)", told)
	}
	if st := reader.Status(); st.Polls != 1 || st.Listings != 2 {
		t.Errorf("status %+v: want the poll during the listing counted", st)
	}
}

// TestIndexOutage: a failed round keeps the index; the next is a listing.
func TestIndexOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, store := newStoreRig(t)
	f.Put(t, "cors/photos.xml", docV1)
	x := NewIndex(store, IndexOptions{})
	if err := x.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if x.listingDue() {
		t.Fatal("a listing is due right after one")
	}
	f.counter.SetDown(true)
	if err := x.round(ctx, false); err == nil {
		t.Fatal("a poll of a store that is down succeeded")
	}
	if st := x.Status(); st.Entries != 1 || st.Errors != 1 || st.PollErrors != 1 {
		t.Errorf("after the failed poll: %+v, want the entry kept and the error counted", st)
	}
	if !x.listingDue() {
		t.Error("after a failed poll, the next round is not a listing")
	}
}

// storeRig is a MinIO server with a bucket of policies, and a
// StoreCounter in front of it that the indexes' client goes through: a
// test counts the indexes' requests there, and writes straight into
// MinIO, uncounted, as another writer would.
type storeRig struct {
	minio   *testrig.MinIO
	counter *testrig.StoreCounter
	bucket  string
}

// newStoreRig starts MinIO and a counter, and returns the Store of the
// policies under cors/ in the bucket "policies", read through the counter.
func newStoreRig(t *testing.T) (*storeRig, *Store) {
	t.Helper()
	m := testrig.StartMinIO(t)
	f := &storeRig{minio: m, counter: testrig.StartStoreCounter(t, m.Endpoint), bucket: "policies"}
	m.CreateBucket(t, f.bucket)
	client, err := NewS3Client(Endpoint{URL: f.counter.URL, AccessKey: m.AccessKey, SecretKey: m.SecretKey, Region: m.Region}, "policy_store")
	if err != nil {
		t.Fatal(err)
	}
	return f, &Store{Client: client, Bucket: f.bucket, Prefix: "cors/"}
}

// Put stores an object straight into MinIO and returns its ETag.
func (f *storeRig) Put(t *testing.T, key, body string) string {
	t.Helper()
	out, err := f.minio.Client(t).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(f.bucket), Key: aws.String(key), Body: bytes.NewReader([]byte(body)),
	})
	if err != nil {
		t.Fatalf("putting %s: %v", key, err)
	}
	return aws.ToString(out.ETag)
}

// Has reports whether MinIO holds the key.
func (f *storeRig) Has(t *testing.T, key string) bool {
	t.Helper()
	_, ok := f.minio.GetObject(t, f.bucket, key)
	return ok
}

// Take returns the requests that passed the counter since the last Take:
// "GET <key>", "PUT <key>", "DELETE <key>", "DELETE-OBJECTS" (one
// DeleteObjects request), "LIST <prefix> <start-after>".
func (f *storeRig) Take() []string {
	var out []string
	for _, r := range f.counter.Take() {
		switch {
		case r.Kind == testrig.KindList:
			out = append(out, "LIST "+r.Query.Get("prefix")+" "+r.Query.Get("start-after"))
		case r.Kind == testrig.KindDelete && r.Key == "":
			out = append(out, "DELETE-OBJECTS")
		default:
			out = append(out, r.Method+" "+r.Key)
		}
	}
	return out
}
