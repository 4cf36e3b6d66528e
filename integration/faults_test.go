package integration

// What the proxy does when what is behind it fails: MinIO stopped, a policy
// store that is slow or stalls, a policy store that answers errors,
// garbage, a document too large to read, or a policy that no longer
// validates. Each test starts its own MinIO (or stand-in) and Caddy.

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// TestMinIODownPoliciesServedForStaleWindowErrorsCarryCORSAndAllRecoversOnRestart
// stops MinIO, which is both the policy store and the origin. For the
// cache's stale window, preflights of buckets whose policy is cached (or
// set in the Caddyfile) are answered as before; real requests get Caddy's
// 502 with the headers the policy gives, so that a page can read the
// error. Past the window, a stored policy is no longer trusted (503). Once
// MinIO is back, everything works again without touching Caddy.
func TestMinIODownPoliciesServedForStaleWindowErrorsCarryCORSAndAllRecoversOnRestart(t *testing.T) {
	t.Parallel()
	const (
		stored = "down-stored" // policy in the policy store
		static = "down-static" // policy in the Caddyfile
		bare   = "down-bare"   // no policy anywhere
		ttl    = time.Second
		stale  = 10 * time.Second
	)
	maxAge := map[string]int{stored: 600, static: 300}
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	for _, b := range []string{stored, static, bare} {
		m.CreateBucket(t, b)
		m.PutObject(t, b, "a.txt", []byte("object of "+b), "text/plain")
	}
	storePutObject(t, m, stored, relPolicyXML(relAppOrigin, maxAge[stored]))
	addr := testrig.FreeAddr(t)
	base := "http://" + addr
	c := testrig.StartCaddy(t, fmt.Sprintf(`http://%s {
	bucket_cors {
		%s
		policy_store s3 {
			endpoint %s
			bucket %s
			access_key %s
			secret_key %s
		}
		cache {
			ttl %v
			stale %v
			load_timeout 1s
		}
	}
	reverse_proxy %s
}
`, addr, relInlinePolicy(static, relAppOrigin, maxAge[static]), m.Endpoint, storePolicyBucket, m.AccessKey, m.SecretKey,
		ttl, stale, hostPort(t, m.Endpoint)))
	client := relNewClient(4, 30*time.Second)

	// URLs presigned for the proxy's address; presigning needs no server.
	getURL := map[string]string{}
	for _, b := range []string{stored, static} {
		getURL[b] = presignGet(t, m, base, b, "a.txt")
	}
	must := func(r relResp, err error) relResp {
		t.Helper()
		if err != nil {
			t.Fatalf("request to the proxy failed: %v", err)
		}
		return r
	}
	preflight := func(bucket, origin string) relResp {
		t.Helper()
		return must(relPreflight(client, base+"/"+bucket+"/a.txt", origin, "PUT", "content-type"))
	}
	get := func(bucket, origin string) relResp {
		t.Helper()
		return must(relSend(client, http.MethodGet, getURL[bucket], map[string]string{"Origin": origin}, nil))
	}
	checkAsBefore := func(when, bucket string) {
		t.Helper()
		relCheck(t, when+": "+bucket+": the app's preflight", relCheckGranted(preflight(bucket, relAppOrigin), relPreflightGrant(relAppOrigin, maxAge[bucket])))
		relCheck(t, when+": "+bucket+": a refused origin's preflight", relCheckRefused(preflight(bucket, relRefusedOrigin), "PUT", false))
	}
	checkObject := func(when, bucket string) {
		t.Helper()
		r := get(bucket, relAppOrigin)
		if r.status != http.StatusOK || string(r.body) != "object of "+bucket {
			t.Errorf("%s: GET %s/a.txt: %d %q, want 200 and the object", when, bucket, r.status, r.body)
		}
		relCheck(t, when+": GET "+bucket+"/a.txt", relCheckActual(r, relActualGrant(relAppOrigin, maxAge[bucket])))
	}

	for _, b := range []string{stored, static} {
		checkAsBefore("MinIO up", b)
		checkObject("MinIO up", b)
	}
	relCheck(t, "MinIO up: a bucket without policy", relCheckRefused(preflight(bare, relAppOrigin), "PUT", true))

	// Read the cached policies again just before MinIO stops, so that the
	// stale window is known from here: it ends no earlier than
	// loaded+ttl+stale.
	loaded := time.Now()
	req, _ := http.NewRequest(http.MethodDelete, c.AdminURL()+"/bucket_cors/cache", nil)
	if r := adminDo(t, req); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE /bucket_cors/cache: %d %s", r.Status, r.Body)
	}
	checkAsBefore("MinIO up, policies read again", stored)
	relCheck(t, "MinIO up, policies read again: a bucket without policy", relCheckRefused(preflight(bare, relAppOrigin), "PUT", true))
	m.Stop(t)
	stopped := time.Now()
	windowEnd := loaded.Add(ttl + stale)
	t.Logf("MinIO stopped %v after the policies were read; the stale window ends %v after that", stopped.Sub(loaded).Round(time.Millisecond), windowEnd.Sub(stopped).Round(time.Millisecond))

	putURL, putSigned := presignPut(t, m, base, static, "during-outage.txt", "")
	putHeader := map[string]string{"Origin": relAppOrigin}
	for k := range putSigned {
		if !strings.EqualFold(k, "Host") {
			putHeader[k] = putSigned.Get(k)
		}
	}
	// Until the stale window is over (and a ttl more), everything is
	// checked again and again. An answer that arrived before the window's
	// end was decided within it, and must be as before; later ones may be
	// the 503 of a policy that can no longer be read.
	rounds, strictRounds := 0, 0
	for time.Now().Before(windowEnd.Add(ttl)) {
		rounds++
		// The Caddyfile's policy does not depend on MinIO at all.
		checkAsBefore("MinIO down", static)
		// Caddy's 502, with the policy's headers for the app and none for
		// a refused origin (but Vary: Origin, as the answer depends on it).
		r := get(static, relAppOrigin)
		if r.status != http.StatusBadGateway {
			t.Errorf("MinIO down: GET %s/a.txt: %d %q, want Caddy's 502", static, r.status, r.body)
		}
		relCheck(t, "MinIO down: the app's GET", relCheckActual(r, relActualGrant(relAppOrigin, maxAge[static])))
		r = get(static, relRefusedOrigin)
		if r.status != http.StatusBadGateway {
			t.Errorf("MinIO down: a refused origin's GET %s/a.txt: %d %q, want Caddy's 502", static, r.status, r.body)
		}
		relCheck(t, "MinIO down: a refused origin's GET", relCheckActual(r, nil))
		r = must(relSend(client, http.MethodPut, putURL, putHeader, []byte("lost")))
		if r.status != http.StatusBadGateway {
			t.Errorf("MinIO down: PUT %s: %d %q, want Caddy's 502", static, r.status, r.body)
		}
		relCheck(t, "MinIO down: the app's PUT", relCheckActual(r, relActualGrant(relAppOrigin, maxAge[static])))

		granted := preflight(stored, relAppOrigin)
		refused := preflight(stored, relRefusedOrigin)
		none := preflight(bare, relAppOrigin)
		got := get(stored, relAppOrigin)
		if time.Now().Before(windowEnd) {
			strictRounds++
			relCheck(t, "MinIO down, within the stale window: the stored policy grants the app", relCheckGranted(granted, relPreflightGrant(relAppOrigin, maxAge[stored])))
			relCheck(t, "MinIO down, within the stale window: the stored policy refuses another origin", relCheckRefused(refused, "PUT", false))
			relCheck(t, "MinIO down, within the stale window: a bucket known to have no policy", relCheckRefused(none, "PUT", true))
			if got.status != http.StatusBadGateway {
				t.Errorf("MinIO down: GET %s/a.txt: %d, want Caddy's 502", stored, got.status)
			}
			relCheck(t, "MinIO down, within the stale window: the app's GET of the stored bucket", relCheckActual(got, relActualGrant(relAppOrigin, maxAge[stored])))
		} else if granted.status == http.StatusOK {
			// The policy was read a moment after the window's start was
			// taken: its window may end a moment later.
			relCheck(t, "MinIO down, at the end of the stale window: the stored policy grants the app", relCheckGranted(granted, relPreflightGrant(relAppOrigin, maxAge[stored])))
		} else {
			relCheck(t, "MinIO down, past the stale window: the stored bucket's preflight", relCheckUnavailable(granted))
		}
		time.Sleep(250 * time.Millisecond) // pacing, not waiting for anything
	}
	if strictRounds == 0 {
		t.Fatalf("none of %d rounds ran within the stale window: the machine is too slow for this test's %v window", rounds, stale)
	}
	// The stale answers were stale serves, not fresh entries: the cache
	// asked the stopped store, failed, and served what it had.
	if n := storeMetrics(t, c.AdminURL())[storeSeries("bucketcors_cache_stale_serves_total")]; n < 1 {
		t.Errorf("bucketcors_cache_stale_serves_total = %v, want at least 1", n)
	}

	// Past the window the stored policy is no longer used: its preflights
	// get 503, a bucket not known to be without policy too, and a GET goes
	// on without CORS headers. The Caddyfile's policy still holds.
	storeEventually(t, 30*time.Second, "the stored policy given up past the stale window", func() (bool, string) {
		r := preflight(stored, relAppOrigin)
		return r.status == http.StatusServiceUnavailable, fmt.Sprintf("%d %s", r.status, r.body)
	})
	relCheck(t, "past the stale window: the stored bucket's preflight", relCheckUnavailable(preflight(stored, relAppOrigin)))
	// The bucket without policy was read a moment after the other: its
	// window may end a moment later.
	storeEventually(t, 30*time.Second, "the bucket without policy no longer known past the stale window", func() (bool, string) {
		r := preflight(bare, relAppOrigin)
		if r.status != http.StatusServiceUnavailable {
			relCheck(t, "at the end of the stale window: the bucket without policy", relCheckRefused(r, "PUT", true))
		}
		return r.status == http.StatusServiceUnavailable, fmt.Sprintf("%d %s", r.status, r.body)
	})
	relCheck(t, "past the stale window: the bucket without policy", relCheckUnavailable(preflight(bare, relAppOrigin)))
	r := get(stored, relAppOrigin)
	if r.status != http.StatusBadGateway || len(storeCORSHeaders(r.header)) != 0 {
		t.Errorf("past the stale window: GET %s/a.txt: %d with %v, want 502 without Access-Control-* headers", stored, r.status, storeCORSHeaders(r.header))
	}
	checkAsBefore("past the stale window", static)

	// The failure is logged once per bucket and ttl, not per request.
	lines := relLogLines(c, storeLoadFailed, stored)
	if most := int(time.Since(stopped)/ttl) + 2; len(lines) == 0 || len(lines) > most {
		t.Errorf("%d %q lines for %s in %v, want 1 to %d", len(lines), storeLoadFailed, stored, time.Since(stopped).Round(time.Millisecond), most)
	}

	// MinIO back on its address: no restart or reload of Caddy.
	m.Start(t)
	storeEventually(t, 30*time.Second, "the stored policy read again after MinIO's restart", func() (bool, string) {
		r := preflight(stored, relAppOrigin)
		return r.status == http.StatusOK, fmt.Sprintf("%d %s", r.status, r.body)
	})
	for _, b := range []string{stored, static} {
		checkAsBefore("MinIO back", b)
		checkObject("MinIO back", b)
	}
	relCheck(t, "MinIO back: a bucket without policy", relCheckRefused(preflight(bare, relAppOrigin), "PUT", true))
	body := []byte("written after the outage\n")
	putURL, putSigned = presignPut(t, m, base, stored, "after-outage.txt", "")
	for k := range putSigned {
		if !strings.EqualFold(k, "Host") {
			putHeader[k] = putSigned.Get(k)
		}
	}
	r = must(relSend(client, http.MethodPut, putURL, putHeader, body))
	if r.status != http.StatusOK {
		t.Errorf("MinIO back: PUT %s/after-outage.txt: %d %s", stored, r.status, r.body)
	}
	relCheck(t, "MinIO back: the app's PUT", relCheckActual(r, relActualGrant(relAppOrigin, maxAge[stored])))
	if got, ok := m.GetObject(t, stored, "after-outage.txt"); !ok || !bytes.Equal(got, body) {
		t.Errorf("MinIO holds %q (exists %v), want %q", got, ok, body)
	}
	if _, ok := m.GetObject(t, static, "during-outage.txt"); ok {
		t.Errorf("a PUT answered 502 during the outage was stored")
	}
}

// TestSlowPolicyStoreLoadsTimeOutEveryRequestIsAnsweredAndNothingStaysBehind
// puts a TCP proxy that delays or stalls between Caddy's policy_store and
// MinIO. A load that the store does not answer ends on the load timeout
// (1s here); the requests that waited for it get the last policy read, or
// S3's 503 when there is none; Caddy closes the connections the store
// left hanging and its goroutines go back to where they were.
func TestSlowPolicyStoreLoadsTimeOutEveryRequestIsAnsweredAndNothingStaysBehind(t *testing.T) {
	t.Parallel()
	const (
		kept       = "slow-kept"    // read before the stall: served stale
		delayed    = "slow-delayed" // first read through a short delay
		late       = "slow-late"    // first read through a delay past the timeout
		cold       = 20             // buckets first asked for during the stall
		perCold    = 3              // concurrent preflights of each
		perKept    = 10             // concurrent preflights of kept, per round
		maxAge     = 600
		answeredIn = 15 * time.Second // far beyond the 1s load timeout, far below the client's
	)
	coldBucket := func(i int) string { return fmt.Sprintf("slow-cold-%02d", i) }
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	m.CreateBucket(t, kept)
	m.PutObject(t, kept, "a.txt", []byte("object of "+kept), "text/plain")
	for _, b := range []string{kept, delayed, late} {
		storePutObject(t, m, b, relPolicyXML(relAppOrigin, maxAge))
	}
	for i := range cold {
		storePutObject(t, m, coldBucket(i), relPolicyXML(relAppOrigin, maxAge))
	}
	proxy := relStartSlowProxy(t, hostPort(t, m.Endpoint))
	addr := testrig.FreeAddr(t)
	base := "http://" + addr
	c := testrig.StartCaddy(t, fmt.Sprintf(`http://%s {
	bucket_cors {
		policy_store s3 {
			endpoint http://%s
			bucket %s
			access_key %s
			secret_key %s
		}
		cache {
			ttl 1s
			stale 1m
			load_timeout 1s
		}
	}
	reverse_proxy %s
}
`, addr, proxy.Addr, storePolicyBucket, m.AccessKey, m.SecretKey, hostPort(t, m.Endpoint)))
	client := relNewClient(cold*perCold+perKept, 30*time.Second)
	grant := relPreflightGrant(relAppOrigin, maxAge)
	preflight := func(bucket string) (relResp, time.Duration, error) {
		start := time.Now()
		r, err := relPreflight(client, base+"/"+bucket+"/a.txt", relAppOrigin, "PUT", "content-type")
		return r, time.Since(start), err
	}
	mustGrant := func(what, bucket string) {
		t.Helper()
		r, _, err := preflight(bucket)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		relCheck(t, what, relCheckGranted(r, grant))
	}

	mustGrant("store answering: "+kept, kept)
	r, err := relSend(client, http.MethodGet, presignGet(t, m, base, kept, "a.txt"), map[string]string{"Origin": relAppOrigin}, nil)
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("GET %s/a.txt: %d %v", kept, r.status, err)
	}
	// A delay below the load timeout only slows the load down.
	proxy.set(relDelay, 300*time.Millisecond)
	mustGrant("store delayed 300ms: "+delayed, delayed)
	proxy.set(relPass, 0)
	mustGrant("store answering: "+kept, kept)

	client.CloseIdleConnections()
	baseline := relSettledGoroutines(t, c.AdminURL())
	t.Logf("Caddy's goroutines before the stall: %d", baseline)

	proxy.set(relStall, 0)
	errs := newRelErrors()
	var wg sync.WaitGroup
	ask := func(bucket string, check func(relResp) error) {
		defer wg.Done()
		r, took, err := preflight(bucket)
		switch {
		case err != nil:
			errs.add("preflights during the stall", err)
		case took > answeredIn:
			errs.add("preflights during the stall", fmt.Errorf("%s answered after %v", bucket, took))
		default:
			if err := check(r); err != nil {
				errs.add("preflights of "+bucket+" during the stall", err)
			}
		}
	}
	// Buckets never read before: nothing to fall back on.
	for i := range cold {
		for range perCold {
			wg.Add(1)
			go ask(coldBucket(i), relCheckUnavailable)
		}
	}
	// The bucket read before: its policy, stale once the ttl is out.
	// Rounds go on until the cache has served it stale at least once,
	// which means a load of it timed out on the stalled store.
	staleServes := func() float64 {
		return storeMetrics(t, c.AdminURL())[storeSeries("bucketcors_cache_stale_serves_total")]
	}
	storeEventually(t, 30*time.Second, "the kept policy served stale while the store stalls", func() (bool, string) {
		for range perKept {
			wg.Add(1)
			go ask(kept, func(r relResp) error { return relCheckGranted(r, grant) })
		}
		wg.Wait()
		n := staleServes()
		return n > 0, fmt.Sprintf("%v stale serves", n)
	})
	wg.Wait()
	errs.report(t)

	// A delay past the load timeout is a stall to the request waiting.
	proxy.set(relDelay, 3*time.Second)
	if r, took, err := preflight(late); err != nil || took > answeredIn {
		t.Errorf("store delayed 3s: preflight of %s: %v after %v", late, err, took)
	} else {
		relCheck(t, "store delayed 3s: a bucket never read", relCheckUnavailable(r))
	}

	_, _, stalledEver := proxy.counts()
	if stalledEver < 1 {
		t.Fatalf("no connection to the store stalled")
	}
	// Every connection the store left unanswered is closed by Caddy, on
	// the load's deadline, while the store still stalls.
	proxy.set(relStall, 0)
	storeEventually(t, 20*time.Second, "Caddy closing the stalled connections to the store", func() (bool, string) {
		open, stalledOpen, _ := proxy.counts()
		return stalledOpen == 0, fmt.Sprintf("%d connections open, %d of them stalled", open, stalledOpen)
	})

	proxy.set(relPass, 0)
	// A bucket whose load failed is read again once its backoff (from 1s,
	// doubling up to the ttl) is over: within a ttl and a bit, every bucket
	// is granted again.
	grantedAgain := func(bucket string) {
		t.Helper()
		storeEventually(t, 10*time.Second, "store answering again: "+bucket, func() (bool, string) {
			r, _, err := preflight(bucket)
			if err != nil {
				return false, err.Error()
			}
			if err := relCheckGranted(r, grant); err != nil {
				return false, err.Error()
			}
			return true, ""
		})
	}
	for i := range cold {
		grantedAgain(coldBucket(i))
	}
	grantedAgain(late)
	mustGrant("store answering again: "+kept, kept)

	client.CloseIdleConnections()
	// Within a few of the baseline: an idle connection to the store or to
	// MinIO holds two.
	n := relWaitGoroutines(t, c.AdminURL(), baseline, 5, 30*time.Second)
	t.Logf("Caddy's goroutines after the stall: %d (baseline %d); %d connections to the store stalled", n, baseline, stalledEver)
	if _, stalledOpen, _ := proxy.counts(); stalledOpen != 0 {
		t.Errorf("%d stalled connections to the store still open", stalledOpen)
	}
}

// TestPolicyStoreFailuresKeepLastGoodPolicyAndAreLoggedOncePerTTL has a
// stand-in policy store serve a good policy, then fail for one bucket in
// one way: a 500, garbage, a 10 MiB document, a policy that no longer
// validates. Every preflight is answered by the last good policy, the
// failure is logged at most once per ttl however many requests come, and a
// fixed document is enforced within a ttl.
func TestPolicyStoreFailuresKeepLastGoodPolicyAndAreLoggedOncePerTTL(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	store, srv := relStartFaultyStore(t)
	addr := testrig.FreeAddr(t)
	base := "http://" + addr
	c := testrig.StartCaddy(t, fmt.Sprintf(`http://%s {
	bucket_cors {
		policy_store s3 {
			endpoint %s
			bucket %s
			access_key standinkey
			secret_key standinsecret
		}
		cache {
			ttl %v
			stale 1h
			load_timeout 5s
		}
	}
}
`, addr, srv.URL, storePolicyBucket, ttl))
	client := relNewClient(8, 30*time.Second)

	for i, tc := range []struct {
		mode relStoreMode
		// why lists what the logged error may say; one is enough.
		why []string
	}{
		{relStore500, []string{"StatusCode: 500", "timed out"}},
		{relStoreGarbage, []string{"not a policy document", "XML", "JSON"}},
		{relStoreHuge, []string{"larger than 65536 bytes"}},
		{relStoreNotValid, []string{`"PATCH"`}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			t.Parallel()
			bucket := "fault-" + string(tc.mode)
			maxAge, fixedAge := 100+i, 200+i
			const fixedOrigin = "https://fixed.example.com"
			url := base + "/" + bucket + "/a.txt"
			granted := func() error {
				r, err := relPreflight(client, url, relAppOrigin, "PUT", "content-type")
				if err != nil {
					return err
				}
				return relCheckGranted(r, relPreflightGrant(relAppOrigin, maxAge))
			}
			refused := func() error {
				r, err := relPreflight(client, url, relRefusedOrigin, "PUT", "content-type")
				if err != nil {
					return err
				}
				return relCheckRefused(r, "PUT", false)
			}

			store.set(bucket, relStoreGood, relPolicyXML(relAppOrigin, maxAge))
			relCheck(t, "the good policy", granted())
			relCheck(t, "the good policy", refused())

			store.set(bucket, tc.mode, "")
			requests := 0
			var first map[string]any
			storeEventually(t, 4*ttl+10*time.Second, "the store's failure logged", func() (bool, string) {
				relCheck(t, "while the store fails, before the failure is logged", granted())
				requests++
				if lines := relLogLines(c, storeLoadFailed, bucket); len(lines) > 0 {
					first = lines[0]
					return true, ""
				}
				return false, "nothing logged"
			})
			// Requests keep coming for two and a half ttls: each is
			// answered by the last good policy; the store is asked again
			// once per ttl and each failure is logged at most once per ttl.
			firstAt := relLogTime(first)
			for requests < 40 || time.Now().Before(firstAt.Add(2*ttl+ttl/2)) {
				relCheck(t, "while the store fails", granted())
				relCheck(t, "while the store fails", refused())
				requests += 2
				time.Sleep(50 * time.Millisecond) // pacing
			}
			elapsed := time.Since(firstAt)
			lines := relLogLines(c, storeLoadFailed, bucket)
			// A line's time is taken a little after the cache decided to
			// log it; a quarter of a ttl covers that on a busy machine.
			if most := int((elapsed+ttl/4)/ttl) + 1; len(lines) > most {
				t.Errorf("%d %q lines in %v of %d requests, want at most %d (one per ttl of %v)", len(lines), storeLoadFailed, elapsed.Round(time.Millisecond), requests, most, ttl)
			}
			for j, l := range lines {
				if j > 0 {
					if gap := relLogTime(l).Sub(relLogTime(lines[j-1])); gap < ttl*3/4 {
						t.Errorf("two %q lines %v apart, want a ttl (%v) at least", storeLoadFailed, gap.Round(time.Millisecond), ttl)
					}
				}
				msg, _ := l["error"].(string)
				if !strings.Contains(msg, "s3://"+storePolicyBucket+"/"+bucket+".xml") || !relContainsAny(msg, tc.why) {
					t.Errorf("logged error %q: want it to name the object and say one of %q", msg, tc.why)
				}
				if l["level"] != "warn" || l["previous_policy_kept"] != true {
					t.Errorf("log line %v: want level warn and previous_policy_kept true", l)
				}
			}
			t.Logf("%d requests, %d lines logged in %v; the first: %v", requests, len(lines), elapsed.Round(time.Millisecond), first["error"])

			if tc.mode == relStoreHuge {
				written, cutShort := store.huge()
				if len(written) == 0 || cutShort != len(written) {
					t.Errorf("the huge document was sent %d times, cut short by Caddy %d times; want every time", len(written), cutShort)
				}
				for _, w := range written {
					if w >= relHugeSize {
						t.Errorf("the huge document was sent whole (%d bytes)", w)
					}
				}
				if rss := relRSSOf(t, c.Pid()); rss > 100<<20 {
					t.Errorf("Caddy's resident memory after the huge documents: %s, want under 100 MiB", relMiB(rss))
				}
			}

			// A fixed document is read within a ttl.
			store.set(bucket, relStoreGood, relPolicyXML(fixedOrigin, fixedAge))
			storeEventually(t, 2*ttl+10*time.Second, "the fixed policy enforced", func() (bool, string) {
				r, err := relPreflight(client, url, fixedOrigin, "PUT", "content-type")
				if err != nil {
					return false, err.Error()
				}
				err = relCheckGranted(r, relPreflightGrant(fixedOrigin, fixedAge))
				return err == nil, fmt.Sprint(err)
			})
			relCheck(t, "the fixed policy: the app's origin is no longer in it", relCheckOriginRefused(client, url, relAppOrigin))
		})
	}
}
