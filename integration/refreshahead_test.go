package integration

// The edge never waits on the store: a cached policy is refreshed ahead of
// its expiry, a request without Origin looks nothing up, a failing store
// costs each bucket one load per backoff, made-up bucket names cannot push
// real policies out or flood the store, and a reload keeps the cache. MinIO
// holds the policies, behind a faultProxy that delays or hangs its requests
// and counts them per object.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// raSite is a Caddyfile site at addr whose bucket_cors reads policies from
// the store bucket storeBucket at endpoint (MinIO, or a faultProxy in front
// of it), with the given lines in its cache block, in front of MinIO.
func raSite(addr string, m *testrig.MinIO, endpoint, storeBucket, cacheLines string) string {
	return fmt.Sprintf(`http://%s {
	bucket_cors {
		policy_store s3 {
			endpoint %s
			bucket %s
			region %s
			access_key %s
			secret_key %s
		}
		cache {
			%s
		}
	}
	reverse_proxy %s
}
`, addr, endpoint, storeBucket, m.Region, m.AccessKey, m.SecretKey, cacheLines, strings.TrimPrefix(m.Endpoint, "http://"))
}

// raKey is the store object that holds bucket's policy.
func raKey(storeBucket, bucket string) string {
	return storeBucket + "/" + bucket + ".xml"
}

// raBuckets returns n bucket names: prefix-0, prefix-1, ...
func raBuckets(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// raPutPolicies stores relPolicyXML(relAppOrigin, 600) as the policy of
// each bucket in storeBucket.
func raPutPolicies(t testing.TB, m *testrig.MinIO, storeBucket string, buckets []string) {
	t.Helper()
	for _, b := range buckets {
		m.PutObject(t, storeBucket, b+".xml", []byte(relPolicyXML(relAppOrigin, 600)), "application/xml")
	}
}

// raCheckGranted sends the app's preflight of a PUT to bucket and fails the
// test unless the policy grants it.
func raCheckGranted(t testing.TB, client *http.Client, base, bucket, what string) {
	t.Helper()
	r, err := relPreflight(client, base+"/"+bucket+"/a.txt", relAppOrigin, "PUT", "content-type")
	if err != nil {
		t.Fatalf("%s: preflight of %s: %v", what, bucket, err)
	}
	relCheck(t, what+": preflight of "+bucket, relCheckGranted(r, relPreflightGrant(relAppOrigin, 600)))
}

// raPercentile returns the p-th percentile (0 < p <= 1) of sorted.
func raPercentile(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// TestRefreshAheadNoRequestWaitsOnceItsBucketIsCached warms 5 buckets
// through a store that answers every request 300 ms late, then has 8
// clients send preflights over them for 8 s with a ttl of 1 s: each policy
// is re-read several times, in the background, and no request waits for
// it. Only the 5 first requests waited for a load, and no client sees
// anything near the store's 300 ms.
//
// It measures latency, so it does not run in parallel with the package's
// other tests, and each client pauses between its requests: on two cores,
// eight clients sending back to back under -race would measure the
// scheduler's queue rather than the proxy.
func TestRefreshAheadNoRequestWaitsOnceItsBucketIsCached(t *testing.T) {
	const (
		clients  = 8
		duration = 8 * time.Second
		delay    = 300 * time.Millisecond
		// A request that waited would show in bucketcors_load_waits_total,
		// checked below exactly; this bound, under the store's delay, leaves
		// room for the scheduler of two busy cores under -race (152 ms seen).
		most  = 250 * time.Millisecond
		pause = 5 * time.Millisecond
	)
	buckets := raBuckets("ahead", 5)
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	raPutPolicies(t, m, storePolicyBucket, buckets)
	proxy := faultStartProxy(t, m.Endpoint)
	proxy.set(faultDelay, delay)
	addr := testrig.FreeAddr(t)
	base := "http://" + addr
	// poll off: this is about the refresh of each policy at its ttl, which
	// the index would answer without reading the store.
	c := testrig.StartCaddy(t, withStoreLines(raSite(addr, m, proxy.URL, storePolicyBucket, "ttl 1s"), "poll off"))
	client := relNewClient(clients, 10*time.Second)

	for _, b := range buckets {
		start := time.Now()
		raCheckGranted(t, client, base, b, "warming")
		if d := time.Since(start); d < delay {
			t.Errorf("the first preflight of %s took %v, less than the store's delay of %v: it did not load the policy", b, d, delay)
		}
	}

	errs := newRelErrors()
	latencies := make([][]time.Duration, clients)
	end := time.Now().Add(duration)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for n := i; time.Now().Before(end); n++ {
				b := buckets[n%len(buckets)]
				start := time.Now()
				r, err := relPreflight(client, base+"/"+b+"/a.txt", relAppOrigin, "PUT", "content-type")
				latencies[i] = append(latencies[i], time.Since(start))
				if err != nil {
					errs.add("request error", err)
				} else if err := relCheckGranted(r, relPreflightGrant(relAppOrigin, 600)); err != nil {
					errs.add("preflight of "+b, err)
				}
				time.Sleep(pause)
			}
		})
	}
	wg.Wait()
	errs.report(t)

	all := slices.Concat(latencies...)
	slices.Sort(all)
	p50, p99, worst := raPercentile(all, 0.50), raPercentile(all, 0.99), all[len(all)-1]
	t.Logf("%d preflights by %d clients (each pausing %v between requests) in %v, store delay %v, ttl 1s: p50 %v, p99 %v, max %v",
		len(all), clients, pause, duration, delay, p50, p99, worst)
	if worst >= most {
		t.Errorf("the slowest preflight took %v, want under %v: a request waited for the store (delay %v)", worst, most, delay)
	}

	metrics := storeMetrics(t, c.AdminURL())
	if n := metrics[storeSeries("bucketcors_load_waits_total")]; n != float64(len(buckets)) {
		t.Errorf("bucketcors_load_waits_total = %v, want %d: one per bucket's first request", n, len(buckets))
	}
	// Each policy was re-read in the background, about once per ttl.
	if n := metrics[storeSeries("bucketcors_cache_refreshes_total", "result=ok")]; n < float64(len(buckets)*3) {
		t.Errorf("bucketcors_cache_refreshes_total{result=ok} = %v, want at least %d over %v with a ttl of 1s", n, len(buckets)*3, duration)
	}
	seen := proxy.requests()
	t.Logf("store reads per policy, warming included: %v", seen)
	for _, b := range buckets {
		if n := seen[raKey(storePolicyBucket, b)]; n < 3 {
			t.Errorf("the store saw %d reads of %s's policy in %v, want at least 3 (ttl 1s)", n, b, duration)
		}
	}
}

// TestNoOriginGetLooksUpNoPolicyWhileTheStoreHangs sends GETs without
// Origin (an SDK's download) for buckets never seen before while the store
// hangs: they answer as fast as a site with reverse_proxy alone, the same
// answers, and the store sees no request.
func TestNoOriginGetLooksUpNoPolicyWhileTheStoreHangs(t *testing.T) {
	t.Parallel()
	const (
		public = "noorigin-public" // a public object, answered 200
		most   = time.Second
	)
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	m.CreateBucket(t, public)
	m.PutObject(t, public, "a.txt", []byte("object of "+public), "text/plain")
	makePublic(t, m, public)
	proxy := faultStartProxy(t, m.Endpoint)
	proxy.set(faultHang, 0)
	withCORS, plain := testrig.FreeAddr(t), testrig.FreeAddr(t)
	testrig.StartCaddy(t, raSite(withCORS, m, proxy.URL, storePolicyBucket, "load_timeout 2s")+
		fmt.Sprintf("\nhttp://%s {\n\treverse_proxy %s\n}\n", plain, strings.TrimPrefix(m.Endpoint, "http://")))
	client := relNewClient(2, 10*time.Second)

	// The public object, and buckets MinIO does not have (404).
	for _, path := range []string{"/" + public + "/a.txt", "/noorigin-missing/a.txt", "/noorigin-other/b/c.txt"} {
		var answers [2]relResp
		for i, addr := range []string{plain, withCORS} {
			start := time.Now()
			r, err := relSend(client, http.MethodGet, "http://"+addr+path, nil, nil)
			d := time.Since(start)
			if err != nil {
				t.Fatalf("GET %s%s: %v", addr, path, err)
			}
			t.Logf("GET %s without Origin, %s: %d in %v", path, []string{"reverse_proxy alone", "bucket_cors"}[i], r.status, d)
			if d >= most {
				t.Errorf("GET %s without Origin through %s took %v, want under %v", path, []string{"reverse_proxy alone", "bucket_cors"}[i], d, most)
			}
			answers[i] = r
		}
		// MinIO's error bodies carry a request ID of their own; a 200's
		// body is the object.
		sameBody := answers[0].status != http.StatusOK || string(answers[0].body) == string(answers[1].body)
		if answers[0].status != answers[1].status || !sameBody {
			t.Errorf("GET %s: bucket_cors answered %d %.100q, reverse_proxy alone %d %.100q", path, answers[1].status, answers[1].body, answers[0].status, answers[0].body)
		}
		// Every proxied answer of the module's routes varies by Origin.
		relCheck(t, "GET "+path+" without Origin through bucket_cors", relCheckActual(answers[1], nil))
	}
	// The index lists the store whatever the requests; no policy is read.
	reads := 0
	for key, n := range proxy.requests() {
		if strings.HasSuffix(key, ".xml") {
			reads += n
		}
	}
	if reads != 0 {
		t.Errorf("the store saw %d policy reads (%v), want none: a GET without Origin needs no policy", reads, proxy.requests())
	}
}

// TestStoreOutageCostsEachBucketOneLoadPerBackoff sends, while the store
// hangs, 5 preflights for each of 10 buckets never seen before: a first one
// per bucket (all buckets at once), which waits for its load to time out
// (load_timeout 2s), then the 4 others at once, which get the remembered
// failure without waiting. Every answer is S3's 503, and the store sees at
// most 2 requests per bucket.
func TestStoreOutageCostsEachBucketOneLoadPerBackoff(t *testing.T) {
	t.Parallel()
	const (
		perBucket   = 5
		loadTimeout = 2 * time.Second
		atOnce      = 500 * time.Millisecond
	)
	buckets := raBuckets("outage", 10)
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	raPutPolicies(t, m, storePolicyBucket, buckets)
	proxy := faultStartProxy(t, m.Endpoint)
	proxy.set(faultHang, 0)
	addr := testrig.FreeAddr(t)
	base := "http://" + addr
	c := testrig.StartCaddy(t, raSite(addr, m, proxy.URL, storePolicyBucket, "load_timeout 2s"))
	client := relNewClient(len(buckets)*perBucket, 30*time.Second)

	type answer struct {
		bucket string
		first  bool
		took   time.Duration
		err    error
	}
	answers := make(chan answer, len(buckets)*perBucket)
	send := func(b string, first bool) {
		start := time.Now()
		r, err := relPreflight(client, base+"/"+b+"/a.txt", relAppOrigin, "PUT", "content-type")
		if err == nil {
			err = relCheckUnavailable(r)
		}
		answers <- answer{b, first, time.Since(start), err}
	}
	var wg sync.WaitGroup
	for _, b := range buckets {
		wg.Go(func() {
			send(b, true)
			var rest sync.WaitGroup
			for range perBucket - 1 {
				rest.Go(func() { send(b, false) })
			}
			rest.Wait()
		})
	}
	wg.Wait()
	close(answers)

	slow := map[string]int{}
	var worstRest time.Duration
	for a := range answers {
		relCheck(t, "preflight of "+a.bucket+" during the outage", a.err)
		if a.took >= atOnce {
			slow[a.bucket]++
		}
		if a.first && (a.took < loadTimeout*3/4 || a.took > loadTimeout+2*time.Second) {
			t.Errorf("the first preflight of %s took %v, want about the load timeout of %v", a.bucket, a.took, loadTimeout)
		}
		if !a.first {
			worstRest = max(worstRest, a.took)
			if a.took >= atOnce {
				t.Errorf("a later preflight of %s took %v, want under %v: it waited for the store again", a.bucket, a.took, atOnce)
			}
		}
	}
	t.Logf("the later preflights answered in at most %v", worstRest)
	for _, b := range buckets {
		if slow[b] > 1 {
			t.Errorf("%d preflights of %s took %v or more, want at most one", slow[b], b, atOnce)
		}
	}
	seen := proxy.requests()
	for _, b := range buckets {
		if n := seen[raKey(storePolicyBucket, b)]; n < 1 || n > 2 {
			t.Errorf("the store saw %d requests for %s, want 1 or 2", n, b)
		}
	}
	metrics := storeMetrics(t, c.AdminURL())
	if n := metrics[storeSeries("bucketcors_cache_error_serves_total")]; n < float64(len(buckets)*(perBucket-1)) {
		t.Errorf("bucketcors_cache_error_serves_total = %v, want at least %d", n, len(buckets)*(perBucket-1))
	}
}

// TestScanOfMadeUpBucketsKeepsHotPoliciesAndBoundsLoads warms 5 buckets in
// a cache of 50, sends 2,000 preflights for made-up bucket names from 16
// clients at once, then the 5 buckets again: their policies were kept (no
// store request), and no more than max_loads reads of the store ran at
// once, at the store and in bucketcors_loads_in_flight. Past max_loads a
// preflight gets S3's 503 SlowDown.
func TestScanOfMadeUpBucketsKeepsHotPoliciesAndBoundsLoads(t *testing.T) {
	t.Parallel()
	const (
		maxLoads = 4
		scan     = 2000
		clients  = 16
	)
	hot := raBuckets("hot", 5)
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	raPutPolicies(t, m, storePolicyBucket, hot)
	proxy := faultStartProxy(t, m.Endpoint)
	addr := testrig.FreeAddr(t)
	base := "http://" + addr
	// poll off: with the index, a made-up bucket costs no load at all;
	// this is about bounding the loads that do read the store.
	c := testrig.StartCaddy(t, withStoreLines(raSite(addr, m, proxy.URL, storePolicyBucket,
		fmt.Sprintf("size 50\n\t\t\tttl 10m\n\t\t\tmax_loads %d", maxLoads)), "poll off"))
	client := relNewClient(clients, 30*time.Second)

	for range 2 {
		for _, b := range hot {
			raCheckGranted(t, client, base, b, "warming")
		}
	}
	before := proxy.requests()
	proxy.resetPeak()

	errs := newRelErrors()
	var mu sync.Mutex
	outcomes := map[string]int{}
	names := make(chan string)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for b := range names {
				r, err := relPreflight(client, base+"/"+b+"/a.txt", relAppOrigin, "PUT", "content-type")
				outcome := ""
				switch {
				case err != nil:
					errs.add("request error", err)
				case r.status == http.StatusServiceUnavailable:
					if e, err := relS3Error(r); err != nil || e.Code != "SlowDown" {
						errs.add("503 other than SlowDown", fmt.Errorf("%s: %s", b, r.body))
					}
					outcome = "503 SlowDown"
				default:
					if err := relCheckRefused(r, "PUT", true); err != nil {
						errs.add("answer for a made-up bucket", fmt.Errorf("%s: %w", b, err))
					}
					outcome = "403 no policy"
				}
				mu.Lock()
				outcomes[outcome]++
				mu.Unlock()
			}
		})
	}
	// Sample the loads in flight while the scan runs.
	scanDone := make(chan struct{})
	go func() {
		defer close(names)
		for i := range scan {
			names <- fmt.Sprintf("made-up-%05d", i)
		}
	}()
	go func() {
		wg.Wait()
		close(scanDone)
	}()
	peakMetric, samples := 0.0, 0
	for sampling := true; sampling; {
		select {
		case <-scanDone:
			sampling = false
		case <-time.After(20 * time.Millisecond):
			peakMetric = max(peakMetric, storeMetrics(t, c.AdminURL())[storeSeries("bucketcors_loads_in_flight")])
			samples++
		}
	}
	errs.report(t)
	peakStore := proxy.resetPeak()
	t.Logf("scan of %d made-up names: %v; most store reads at once %d; bucketcors_loads_in_flight at most %v in %d samples",
		scan, outcomes, peakStore, peakMetric, samples)
	if peakStore > maxLoads {
		t.Errorf("the store held %d reads at once, want at most max_loads %d", peakStore, maxLoads)
	}
	if peakMetric > maxLoads {
		t.Errorf("bucketcors_loads_in_flight reached %v, want at most max_loads %d", peakMetric, maxLoads)
	}
	if outcomes["403 no policy"] == 0 {
		t.Errorf("no made-up bucket was looked up in the store: %v", outcomes)
	}

	for _, b := range hot {
		raCheckGranted(t, client, base, b, "after the scan")
	}
	after := proxy.requests()
	for _, b := range hot {
		if k := raKey(storePolicyBucket, b); after[k] != before[k] {
			t.Errorf("the store saw %d reads of %s's policy after the scan, want none: the scan pushed it out", after[k]-before[k], b)
		}
	}
	metrics := storeMetrics(t, c.AdminURL())
	if n := metrics[storeSeries("bucketcors_loads_rejected_total")]; n != float64(outcomes["503 SlowDown"]) {
		t.Errorf("bucketcors_loads_rejected_total = %v, want %d, one per 503 SlowDown", n, outcomes["503 SlowDown"])
	}
}

// TestReloadWithTheSameSourcesKeepsTheCache warms 5 buckets, reloads Caddy
// with `caddy reload --force` of the same Caddyfile: no store request
// follows for those buckets. A reload that names another store bucket
// starts a fresh cache, which reads each policy from there; so does a
// reload that changes the cache block.
func TestReloadWithTheSameSourcesKeepsTheCache(t *testing.T) {
	t.Parallel()
	const otherStore = "cors-policies-next"
	buckets := raBuckets("reload", 5)
	m := testrig.StartMinIO(t)
	for _, sb := range []string{storePolicyBucket, otherStore} {
		m.CreateBucket(t, sb)
		raPutPolicies(t, m, sb, buckets)
	}
	proxy := faultStartProxy(t, m.Endpoint)
	addr := testrig.FreeAddr(t)
	base := "http://" + addr
	siteTTL := func(storeBucket, ttl string) string {
		return relGlobalOptions + raSite(addr, m, proxy.URL, storeBucket, "ttl "+ttl)
	}
	site := func(storeBucket string) string { return siteTTL(storeBucket, "10m") }
	c := testrig.StartCaddy(t, site(storePolicyBucket))
	client := relNewClient(2, 30*time.Second)
	for _, b := range buckets {
		raCheckGranted(t, client, base, b, "warming")
	}
	before := proxy.requests()

	file := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(file, []byte(site(storePolicyBucket)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := relCaddyReload(testrig.CaddyBinary(t), file, c.AdminURL()); err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets {
		raCheckGranted(t, client, base, b, "after caddy reload of the same Caddyfile")
	}
	after := proxy.requests()
	for _, b := range buckets {
		if k := raKey(storePolicyBucket, b); after[k] != before[k] {
			t.Errorf("caddy reload of the same Caddyfile: the store saw %d reads of %s's policy, want none", after[k]-before[k], b)
		}
	}

	c.Reload(t, site(otherStore))
	for _, b := range buckets {
		raCheckGranted(t, client, base, b, "after a reload with another store bucket")
	}
	seen := proxy.requests()
	for _, b := range buckets {
		if n := seen[raKey(otherStore, b)]; n != 1 {
			t.Errorf("after a reload with another store bucket: %d reads of %s, want 1", n, raKey(otherStore, b))
		}
	}

	// The same sources with another cache block: a fresh cache too.
	c.Reload(t, siteTTL(otherStore, "9m"))
	for _, b := range buckets {
		raCheckGranted(t, client, base, b, "after a reload with another ttl")
	}
	seen = proxy.requests()
	for _, b := range buckets {
		if n := seen[raKey(otherStore, b)]; n != 2 {
			t.Errorf("after a reload with another ttl: %d reads of %s in all, want 2", n, raKey(otherStore, b))
		}
	}
}

// raEmptyOriginPolicy is a policy S3 accepts whose first AllowedOrigin is
// empty: no browser sends an empty Origin, so that entry matches nothing,
// but the rule's other origin is granted.
const raEmptyOriginPolicy = `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <AllowedOrigin></AllowedOrigin>
    <AllowedOrigin>https://app.example.com</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>content-type</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>600</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>
`

// TestEmptyOriginPolicyStillGrantsItsOtherOrigin serves a policy with an
// empty AllowedOrigin, which S3 accepts, from policy_store (a MinIO object)
// and from policy_origin (a stand-in answering GetBucketCors): both grant
// the rule's other origin, and the admin API shows the policy's warning.
func TestEmptyOriginPolicyStillGrantsItsOtherOrigin(t *testing.T) {
	t.Parallel()
	const bucket = "parity-empty-origin"
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	storePutObject(t, m, bucket, raEmptyOriginPolicy)
	standIn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		if b := strings.Trim(r.URL.Path, "/"); r.Method != http.MethodGet || !r.URL.Query().Has("cors") || b != bucket {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, storeNoSuchCORS, b)
			return
		}
		fmt.Fprint(w, raEmptyOriginPolicy)
	}))
	t.Cleanup(standIn.Close)
	storeAddr, originAddr := testrig.FreeAddr(t), testrig.FreeAddr(t)
	c := testrig.StartCaddy(t, raSite(storeAddr, m, m.Endpoint, storePolicyBucket, "ttl 10m")+fmt.Sprintf(`
http://%s {
	bucket_cors {
		policy_origin {
			endpoint %s
			access_key stand-in
			secret_key stand-in-secret
		}
	}
	respond 204
}
`, originAddr, standIn.URL))
	client := relNewClient(2, 30*time.Second)

	for _, site := range []struct{ name, addr string }{{"policy_store", storeAddr}, {"policy_origin", originAddr}} {
		raCheckGranted(t, client, "http://"+site.addr, bucket, site.name)
		r, err := relPreflight(client, "http://"+site.addr+"/"+bucket+"/a.txt", relRefusedOrigin, "PUT", "content-type")
		if err != nil {
			t.Fatal(err)
		}
		relCheck(t, site.name+": another origin's preflight", relCheckRefused(r, "PUT", false))
	}

	req, _ := http.NewRequest(http.MethodGet, c.AdminURL()+"/bucket_cors/policies/"+bucket, nil)
	r := adminDo(t, req)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /bucket_cors/policies/%s: %d %s", bucket, r.Status, r.Body)
	}
	var ans struct {
		Handlers []struct {
			Source   string   `json:"source"`
			Warnings []string `json:"warnings"`
		} `json:"handlers"`
	}
	if err := json.Unmarshal([]byte(r.Body), &ans); err != nil {
		t.Fatalf("GET /bucket_cors/policies/%s: %v\n%s", bucket, err, r.Body)
	}
	var sources []string
	for _, h := range ans.Handlers {
		sources = append(sources, h.Source)
		if len(h.Warnings) == 0 || !strings.Contains(strings.Join(h.Warnings, "\n"), `""`) {
			t.Errorf("GET /bucket_cors/policies/%s, handler of %s: warnings %q, want one naming the empty origin", bucket, h.Source, h.Warnings)
		}
	}
	slices.Sort(sources)
	if !slices.Equal(sources, []string{"policy_origin", "policy_store"}) {
		t.Errorf("GET /bucket_cors/policies/%s: handlers of %v, want policy_origin and policy_store\n%s", bucket, sources, r.Body)
	}
}
