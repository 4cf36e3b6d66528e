package integration

// A fleet of three Caddy processes sharing one MinIO policy store that holds
// 10,000 bucket policies: a change made through one proxy's CORS API is
// enforced by the others within about one poll, the store's cost stays at
// about one request per poll however many buckets are in use, buckets
// without a policy cost nothing, a write that bypasses the proxies is
// caught by a resync, and an outage of the store leaves every cached bucket
// answered. Each Caddy reads the store through a testrig.StoreCounter of
// its own, which records its requests by kind.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// The fleet's shape and the settings of its Caddyfile.
const (
	fleetPolicies = 10000            // policies in the store
	fleetInUse    = 1000             // buckets browsers use: fleet-00000 to fleet-00999
	fleetPoll     = time.Second      // poll
	fleetResync   = 10 * time.Minute // resync, the default
	fleetTTL      = 10 * time.Second // cache ttl: short, so that TTL refreshes happen
	fleetMaxAge   = 600              // Max-Age of every stored policy
)

// fleetProxy is one Caddy of the fleet and the counter in front of its
// policy store.
type fleetProxy struct {
	name  string // A, B or C
	base  string // http://127.0.0.1:<port>
	caddy *testrig.Caddy
	store *testrig.StoreCounter
}

// fleetBucket is the name of the i-th bucket with a stored policy.
func fleetBucket(i int) string { return fmt.Sprintf("fleet-%05d", i) }

// fleetSite is the Caddyfile of a fleet proxy at addr: bucket_cors with
// the policy store read through storeURL, polled every second and listed
// whole every resync, the edge CORS API, and MinIO behind.
func fleetSite(addr, storeURL string, m *testrig.MinIO, resync time.Duration) string {
	return fmt.Sprintf(`http://%s {
	bucket_cors {
		policy_store s3 {
			endpoint   %s
			bucket     %s
			region     %s
			access_key %s
			secret_key %s
			poll       %v
			resync     %v
		}
		cache {
			ttl %v
		}
%s	}
	reverse_proxy %s
}
`, addr, storeURL, storePolicyBucket, m.Region, m.AccessKey, m.SecretKey, fleetPoll, resync, fleetTTL,
		apiBlock(apiAccessKey, apiSecretKey), strings.TrimPrefix(m.Endpoint, "http://"))
}

// fleetPutPolicies stores relPolicyXML(relAppOrigin, fleetMaxAge) as the
// policy of fleetBucket(0) to fleetBucket(n-1), in one batch upload.
func fleetPutPolicies(t testing.TB, m *testrig.MinIO, n int) {
	t.Helper()
	body := []byte(relPolicyXML(relAppOrigin, fleetMaxAge))
	m.PutObjects(t, storePolicyBucket, n, func(i int) (string, []byte) { return fleetBucket(i) + ".xml", body })
}

// fleetIndex is one policy store's entry of GET /bucket_cors/index.
type fleetIndex struct {
	Store          string  `json:"store"`
	Ready          bool    `json:"ready"`
	Entries        int     `json:"entries"`
	LastSync       string  `json:"last_sync"`
	LastListing    string  `json:"last_listing"`
	PollSeconds    float64 `json:"poll_seconds"`
	ResyncSeconds  float64 `json:"resync_seconds"`
	Polls          int     `json:"polls"`
	Listings       int     `json:"listings"`
	Errors         int     `json:"errors"`
	ChangesApplied int     `json:"changes_applied"`
}

// lastSync is when the index was last brought up to date; zero before.
func (x fleetIndex) lastSync() time.Time {
	at, _ := time.Parse(time.RFC3339Nano, x.LastSync)
	return at
}

// index reads the proxy's GET /bucket_cors/index, which must list one
// policy store.
func (p *fleetProxy) index(t testing.TB) fleetIndex {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.caddy.AdminURL()+"/bucket_cors/index", nil)
	r := adminDo(t, req)
	if r.Status != http.StatusOK {
		t.Fatalf("proxy %s: GET /bucket_cors/index: %d %s", p.name, r.Status, r.Body)
	}
	var all []fleetIndex
	if err := json.Unmarshal([]byte(r.Body), &all); err != nil || len(all) != 1 {
		t.Fatalf("proxy %s: GET /bucket_cors/index: want a JSON array of one store (%v): %s", p.name, err, r.Body)
	}
	return all[0]
}

// waitIndex waits until the proxy's index is ready and has been synced
// after since, and returns it.
func (p *fleetProxy) waitIndex(t testing.TB, since time.Time, timeout time.Duration) fleetIndex {
	t.Helper()
	var x fleetIndex
	storeEventually(t, timeout, "proxy "+p.name+": index ready and synced", func() (bool, string) {
		x = p.index(t)
		return x.Ready && x.lastSync().After(since), fmt.Sprintf("%+v", x)
	})
	return x
}

// preflight sends the app's preflight of a PUT with a Content-Type to
// bucket.
func (p *fleetProxy) preflight(client *http.Client, bucket string) (relResp, error) {
	return relPreflight(client, p.base+"/"+bucket+"/a.txt", relAppOrigin, "PUT", "content-type")
}

// fleetMaxAgeOf is the Access-Control-Max-Age of a granted preflight, or -1.
func fleetMaxAgeOf(r relResp) int {
	if r.status != http.StatusOK {
		return -1
	}
	n, err := strconv.Atoi(r.header.Get("Access-Control-Max-Age"))
	if err != nil {
		return -1
	}
	return n
}

// fleetStart starts the three proxies, each behind a counter of its own,
// with the given resync, and waits until each has listed the store.
func fleetStart(t *testing.T, m *testrig.MinIO, resync time.Duration) []*fleetProxy {
	t.Helper()
	var proxies []*fleetProxy
	started := time.Now()
	for _, name := range []string{"A", "B", "C"} {
		addr := testrig.FreeAddr(t)
		counter := testrig.StartStoreCounter(t, m.Endpoint)
		p := &fleetProxy{name: name, base: "http://" + addr, store: counter}
		p.caddy = testrig.StartCaddy(t, fleetSite(addr, counter.URL, m, resync))
		proxies = append(proxies, p)
	}
	for _, p := range proxies {
		p.waitIndex(t, started, time.Minute)
	}
	return proxies
}

// fleetPutRules is the policy fleetPropagate writes: relPolicyXML's rule
// with the given Max-Age, which tells the two policies apart.
func fleetPutRules(maxAge int) *types.CORSConfiguration {
	return &types.CORSConfiguration{CORSRules: apiRulesToSDK([]apiRule{{
		Origins: []string{relAppOrigin}, Methods: []string{"GET", "PUT", "HEAD"},
		Headers: []string{"content-type"}, Expose: []string{"ETag"}, MaxAge: apiInt(maxAge),
	}})}
}

// fleetPutThrough stores bucket's policy with the given Max-Age through the
// CORS API of proxy via, and checks that via enforces it at once.
func fleetPutThrough(t testing.TB, via *fleetProxy, client *http.Client, bucket string, maxAge int) {
	t.Helper()
	api := apiClient(via.base, apiAccessKey, apiSecretKey)
	if _, err := api.PutBucketCors(apiCtx(t), &s3.PutBucketCorsInput{
		Bucket: aws.String(bucket), CORSConfiguration: fleetPutRules(maxAge),
	}); err != nil {
		t.Fatalf("PutBucketCors %s through proxy %s: %v", bucket, via.name, err)
	}
	r, err := via.preflight(client, bucket)
	if err != nil {
		t.Fatal(err)
	}
	relCheck(t, fmt.Sprintf("proxy %s, right after its own PutBucketCors of %s", via.name, bucket),
		relCheckGranted(r, relPreflightGrant(relAppOrigin, maxAge)))
}

// fleetWaitEnforced sends preflights of bucket to each of proxies every
// 25 ms until each grants it with Max-Age maxAge, and returns how long each
// took from start. It fails the test after timeout.
func fleetWaitEnforced(t testing.TB, proxies []*fleetProxy, client *http.Client, bucket string, maxAge int, start time.Time, timeout time.Duration) []time.Duration {
	t.Helper()
	took := make([]time.Duration, len(proxies))
	var wg sync.WaitGroup
	errs := newRelErrors()
	for i, p := range proxies {
		wg.Go(func() {
			for {
				r, err := p.preflight(client, bucket)
				switch {
				case err != nil:
					errs.add("proxy "+p.name+": request", err)
					return
				case fleetMaxAgeOf(r) == maxAge:
					took[i] = time.Since(start)
					if err := relCheckGranted(r, relPreflightGrant(relAppOrigin, maxAge)); err != nil {
						errs.add("proxy "+p.name+": the new policy's grant", err)
					}
					return
				case r.status != http.StatusOK && r.status != http.StatusForbidden:
					errs.add("proxy "+p.name+": answer while waiting", fmt.Errorf("status %d %.200q", r.status, r.body))
					return
				case time.Since(start) > timeout:
					errs.add("proxy "+p.name+": propagation", fmt.Errorf("%s not enforced with Max-Age %d within %v; last answer %d, Max-Age %q",
						bucket, maxAge, timeout, r.status, r.header.Get("Access-Control-Max-Age")))
					return
				}
				time.Sleep(25 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	if errs.total() > 0 {
		errs.report(t)
		t.FailNow()
	}
	return took
}

// fleetWarm sends the app's preflight of every in-use bucket to every
// proxy, and checks each is granted by the stored policy.
func fleetWarm(t testing.TB, proxies []*fleetProxy, client *http.Client) {
	t.Helper()
	for _, p := range proxies {
		relParallel(t, 8, fleetInUse, func(i int) error {
			r, err := p.preflight(client, fleetBucket(i))
			if err == nil {
				err = relCheckGranted(r, relPreflightGrant(relAppOrigin, fleetMaxAge))
			}
			if err != nil {
				return fmt.Errorf("proxy %s, %s: %w", p.name, fleetBucket(i), err)
			}
			return nil
		})
	}
}

// fleetPolicyGets returns the GETs and HEADs of policy objects (keys
// ending .xml outside .changes/) among reqs.
func fleetPolicyGets(reqs []testrig.StoreRequest) []string {
	var out []string
	for _, r := range reqs {
		if r.Kind == testrig.KindGet && strings.HasSuffix(r.Key, ".xml") && !strings.HasPrefix(r.Key, ".changes/") {
			out = append(out, r.Method+" "+r.Key)
		}
	}
	return out
}

// TestFleetOfThreeProxiesSharesTenThousandPoliciesThroughTheStore runs three
// Caddy processes on one MinIO policy store of 10,000 policies, with
// poll 1s, and checks what browsers see and what the store is asked.
//
// It measures propagation delays and counts store requests over a minute,
// so it does not run in parallel with the package's other tests. It takes
// about three minutes under -race on two cores.
func TestFleetOfThreeProxiesSharesTenThousandPoliciesThroughTheStore(t *testing.T) {
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	began := time.Now()
	fleetPutPolicies(t, m, fleetPolicies)
	t.Logf("wrote %d policies in %v", fleetPolicies, time.Since(began).Round(time.Millisecond))
	proxies := fleetStart(t, m, fleetResync)
	a, b, c := proxies[0], proxies[1], proxies[2]
	client := relNewClient(24, 30*time.Second)
	t.Logf("three proxies listed the store %v after the start", time.Since(began).Round(time.Millisecond))

	t.Run("IndexEndpointShowsTheWholeStore", func(t *testing.T) {
		for _, p := range proxies {
			x := p.index(t)
			if x.Store != "s3://"+storePolicyBucket+"/" || !x.Ready || x.Entries != fleetPolicies ||
				x.PollSeconds != fleetPoll.Seconds() || x.ResyncSeconds != fleetResync.Seconds() || x.Listings < 1 {
				t.Errorf("proxy %s: GET /bucket_cors/index = %+v, want store s3://%s/, ready, %d entries, poll_seconds 1, resync_seconds %v, a listing",
					p.name, x, storePolicyBucket, fleetPolicies, fleetResync.Seconds())
			}
			if age := time.Since(x.lastSync()); age < 0 || age > fleetTTL {
				t.Errorf("proxy %s: last_sync %q is %v old, want within the ttl of %v", p.name, x.LastSync, age, fleetTTL)
			}
			if n := storeMetrics(t, p.caddy.AdminURL())[storeSeries("bucketcors_index_entries")]; n != fleetPolicies {
				t.Errorf("proxy %s: bucketcors_index_entries = %v, want %d", p.name, n, fleetPolicies)
			}
		}
	})

	// 1. A change through A is enforced by B and C within about one poll.
	changed := fleetBucket(fleetPolicies - 1) // not one of the buckets in use
	t.Run("PropagationThroughTheAPIWithinTwoSeconds", func(t *testing.T) {
		const (
			changes = 20
			most    = 2 * time.Second
		)
		// B and C hold the bucket's policy, so that each change reaches
		// them by a poll, not by a first load.
		for _, p := range []*fleetProxy{b, c} {
			r, err := p.preflight(client, changed)
			if err != nil {
				t.Fatal(err)
			}
			relCheck(t, "proxy "+p.name+": before the changes", relCheckGranted(r, relPreflightGrant(relAppOrigin, fleetMaxAge)))
		}
		var worst []time.Duration
		for i := range changes {
			maxAge := 700 + i%2 // two policies, alternating
			start := time.Now()
			fleetPutThrough(t, a, client, changed, maxAge)
			took := fleetWaitEnforced(t, []*fleetProxy{b, c}, client, changed, maxAge, start, 10*time.Second)
			worst = append(worst, max(took[0], took[1]))
			t.Logf("change %2d (Max-Age %d): B enforces it after %v, C after %v", i+1, maxAge,
				took[0].Round(time.Millisecond), took[1].Round(time.Millisecond))
			// PUTs at various points of the poll cycle.
			time.Sleep(time.Duration(i*370%1000) * time.Millisecond / 2)
		}
		slices.Sort(worst)
		p50, top := raPercentile(worst, 0.5), worst[len(worst)-1]
		t.Logf("propagation from A to both B and C over %d changes, from PutBucketCors sent to enforced: p50 %v, max %v",
			changes, p50.Round(time.Millisecond), top.Round(time.Millisecond))
		if top > most {
			t.Errorf("the slowest change took %v to reach both B and C, want at most %v (poll %v)", top, most, fleetPoll)
		}

		for _, p := range []*fleetProxy{b, c} {
			metrics := storeMetrics(t, p.caddy.AdminURL())
			if n := metrics[storeSeries("bucketcors_policy_propagation_seconds_count")]; n < changes {
				t.Errorf("proxy %s: bucketcors_policy_propagation_seconds_count = %v, want the %d changes it swapped in", p.name, n, changes)
			} else {
				t.Logf("proxy %s: bucketcors_policy_propagation_seconds: %v changes, %.3f s in all", p.name, n,
					metrics[storeSeries("bucketcors_policy_propagation_seconds_sum")])
			}
		}
		// The policy view shows the version and when the store confirmed it.
		etag := headETag(t, m, storePolicyBucket, changed+".xml")
		for _, p := range proxies {
			v := storeAdminPolicy(t, p.caddy, changed)
			checked, err := time.Parse(time.RFC3339Nano, v.CheckedAt)
			if v.ETag != etag || err != nil {
				t.Errorf("proxy %s: GET /bucket_cors/policies/%s: etag %q, checked_at %q (%v); want etag %s and a time",
					p.name, changed, v.ETag, v.CheckedAt, err, etag)
			} else if age := time.Since(checked); age < -time.Second || age > fleetTTL+2*time.Second {
				t.Errorf("proxy %s: %s was last checked %v ago (%s), want within the ttl of %v", p.name, changed, age, v.CheckedAt, fleetTTL)
			}
		}
	})

	// 2. Buckets in use cost nothing more than the polls.
	t.Run("IdleMinuteCostsAtMostSeventyStoreRequestsPerProxy", func(t *testing.T) {
		const (
			window = time.Minute
			most   = 70
		)
		fleetWarm(t, proxies, client)
		time.Sleep(2 * time.Second) // the warming loads settle
		before := make([]map[string]float64, len(proxies))
		marks := make([]int, len(proxies))
		for i, p := range proxies {
			before[i] = storeMetrics(t, p.caddy.AdminURL())
			marks[i] = p.store.Mark()
		}
		// A steady stream over the 1,000 buckets on every proxy: each
		// bucket is asked for every 20 s or so, past its ttl of 10 s, so
		// its policy is refreshed about three times in the minute.
		errs := newRelErrors()
		sent := make([]int, len(proxies))
		end := time.Now().Add(window)
		var wg sync.WaitGroup
		for i, p := range proxies {
			wg.Go(func() {
				for n := i * 333; time.Now().Before(end); n++ {
					bucket := fleetBucket(n % fleetInUse)
					r, err := p.preflight(client, bucket)
					if err == nil {
						err = relCheckGranted(r, relPreflightGrant(relAppOrigin, fleetMaxAge))
					}
					if err != nil {
						errs.add("proxy "+p.name+": preflight of a bucket in use", fmt.Errorf("%s: %w", bucket, err))
					}
					sent[i]++
					time.Sleep(15 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		errs.report(t)
		for i, p := range proxies {
			seen := p.store.Since(marks[i])
			kinds := testrig.CountKinds(seen)
			after := storeMetrics(t, p.caddy.AdminURL())
			refreshes := after[storeSeries("bucketcors_cache_refreshes_total", "result=ok")] -
				before[i][storeSeries("bucketcors_cache_refreshes_total", "result=ok")]
			t.Logf("proxy %s: %d preflights over %d buckets in %v, %v TTL refreshes; store requests: %d (%v)",
				p.name, sent[i], fleetInUse, window, refreshes, len(seen), kinds)
			if len(seen) > most {
				t.Errorf("proxy %s: %d store requests in %v (%v; GETs of policies: %.10q), want at most %d",
					p.name, len(seen), window, kinds, fleetPolicyGets(seen), most)
			}
			// The proxy's own count of its store requests agrees with the
			// counter's, give or take a request at either end of the window.
			for _, op := range []string{testrig.KindList, testrig.KindGet} {
				series := storeSeries("bucketcors_store_requests_total", "op="+op)
				if d := int(after[series] - before[i][series]); d < kinds[op]-2 || d > kinds[op]+2 {
					t.Errorf("proxy %s: %s went up by %d in the window, the store saw %d %s requests", p.name, series, d, kinds[op], op)
				}
			}
			if refreshes <= 0 {
				t.Errorf("proxy %s: no TTL refresh in %v (bucketcors_cache_refreshes_total{result=ok} +%v): the window did not test them",
					p.name, window, refreshes)
			}
		}
	})

	// 3. A bucket that is not in the index has no policy, without asking.
	t.Run("UnknownBucketsCostNoStoreRequest", func(t *testing.T) {
		const n = 1000
		for _, p := range proxies {
			mark := p.store.Mark()
			relParallel(t, 8, n, func(i int) error {
				bucket := fmt.Sprintf("fleet-unknown-%04d", i)
				r, err := p.preflight(client, bucket)
				if err == nil {
					err = relCheckRefused(r, "PUT", true)
				}
				if err != nil {
					return fmt.Errorf("proxy %s, %s: %w", p.name, bucket, err)
				}
				return nil
			})
			seen := p.store.Since(mark)
			if gets := fleetPolicyGets(seen); len(gets) != 0 {
				t.Errorf("proxy %s: %d preflights of buckets without a policy made %d reads of policy objects (%.10q), want none",
					p.name, n, len(gets), gets)
			}
			t.Logf("proxy %s: %d preflights of unknown buckets; store requests meanwhile %v", p.name, n, testrig.CountKinds(seen))
		}
	})

	// 4. A policy written straight into the store is found by a resync.
	t.Run("PolicyWrittenAroundTheProxiesIsEnforcedAfterAResync", func(t *testing.T) {
		const (
			resync   = 5 * time.Second
			bypassed = "fleet-bypass"
			maxAge   = 800
		)
		reloaded := time.Now()
		for _, p := range proxies {
			p.caddy.Reload(t, fleetSite(strings.TrimPrefix(p.base, "http://"), p.store.URL, m, resync))
		}
		// The fleet's own config again afterwards, for the outage.
		defer func() {
			back := time.Now()
			for _, p := range proxies {
				p.caddy.Reload(t, fleetSite(strings.TrimPrefix(p.base, "http://"), p.store.URL, m, fleetResync))
			}
			for _, p := range proxies {
				p.waitIndex(t, back, 30*time.Second)
			}
		}()
		listings := make([]int, len(proxies))
		for i, p := range proxies {
			x := p.waitIndex(t, reloaded, 30*time.Second)
			if x.ResyncSeconds != resync.Seconds() {
				t.Errorf("proxy %s: resync_seconds %v after the reload, want %v", p.name, x.ResyncSeconds, resync.Seconds())
			}
			listings[i] = x.Listings
		}
		file := filepath.Join(t.TempDir(), bypassed+".xml")
		if err := os.WriteFile(file, []byte(relPolicyXML(relAppOrigin, maxAge)), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := m.AWS(t, "s3", "cp", file, "s3://"+storePolicyBucket+"/"+bypassed+".xml"); err != nil {
			t.Fatalf("aws s3 cp: %v\n%s", err, out)
		}
		written := time.Now()
		// Right after the write no proxy knows the bucket, unless a resync
		// listed the store since.
		for i, p := range proxies {
			r, err := p.preflight(client, bypassed)
			if err != nil {
				t.Fatal(err)
			}
			listed := p.index(t).Listings > listings[i]
			switch {
			case relCheckRefused(r, "PUT", true) == nil:
				t.Logf("proxy %s: right after the write, %s is still refused as without a policy", p.name, bypassed)
			case !listed:
				t.Errorf("proxy %s: right after the write, before any listing, the preflight of %s got %d %v: "+
					"a bucket missing from the index was read from the store", p.name, bypassed, r.status, storeCORSHeaders(r.header))
			}
		}
		took := fleetWaitEnforced(t, proxies, client, bypassed, maxAge, written, resync+fleetPoll+2*time.Second)
		t.Logf("a policy written with aws s3 cp was enforced by A after %v, B after %v, C after %v (resync %v)",
			took[0].Round(time.Millisecond), took[1].Round(time.Millisecond), took[2].Round(time.Millisecond), resync)
		for _, p := range proxies {
			if x := p.index(t); x.Entries != fleetPolicies+1 {
				t.Errorf("proxy %s: %d index entries after the resync, want %d", p.name, x.Entries, fleetPolicies+1)
			}
		}

		// While resyncs run, each proxy loads buckets it has not cached
		// yet (each load a GET that updates the index), from 4 clients,
		// for three resync periods: every answer is the stored policy's
		// grant, and the proxies keep running.
		loadUntil := time.Now().Add(3 * resync)
		errs := newRelErrors()
		loaded := make([]atomic.Int64, len(proxies))
		var wg sync.WaitGroup
		for i, p := range proxies {
			listings[i] = p.index(t).Listings
			next := atomic.Int64{}
			next.Store(fleetInUse)
			for range 4 {
				wg.Go(func() {
					for n := int(next.Add(1)); n < fleetPolicies-1 && time.Now().Before(loadUntil); n = int(next.Add(1)) {
						r, err := p.preflight(client, fleetBucket(n))
						if err == nil {
							err = relCheckGranted(r, relPreflightGrant(relAppOrigin, fleetMaxAge))
						}
						if err != nil {
							errs.add("proxy "+p.name+": preflight of a bucket loaded while resyncs run", fmt.Errorf("%s: %w", fleetBucket(n), err))
						}
						loaded[i].Add(1)
					}
				})
			}
		}
		wg.Wait()
		errs.report(t)
		for i, p := range proxies {
			x := p.index(t)
			t.Logf("proxy %s: loaded %d buckets in %v while %d listings ran", p.name, loaded[i].Load(), 3*resync, x.Listings-listings[i])
			if x.Listings == listings[i] {
				t.Errorf("proxy %s: no listing while it loaded buckets for %v, want one at least (resync %v)", p.name, 3*resync, resync)
			}
		}
	})

	// 5. A store outage leaves every cached bucket answered; the fleet
	// catches up when the store returns.
	t.Run("StoreOutageKeepsCachedBucketsAnsweredAndChangesFlowAfter", func(t *testing.T) {
		const (
			outage = 20 * time.Second
			sample = 50 // buckets checked per proxy each second
		)
		fleetWarm(t, proxies, client)
		before := make([]fleetIndex, len(proxies))
		for i, p := range proxies {
			before[i] = p.index(t)
		}
		m.Stop(t)
		stopped := time.Now()
		errs := newRelErrors()
		checked := 0
		for round := 0; time.Since(stopped) < outage; round++ {
			for _, p := range proxies {
				relParallel(t, 4, sample, func(i int) error {
					bucket := fleetBucket((round*sample + i) % fleetInUse)
					r, err := p.preflight(client, bucket)
					if err == nil {
						err = relCheckGranted(r, relPreflightGrant(relAppOrigin, fleetMaxAge))
					}
					if err != nil {
						errs.add("proxy "+p.name+": preflight of a cached bucket during the outage",
							fmt.Errorf("%s at %v: %w", bucket, time.Since(stopped).Round(time.Millisecond), err))
					}
					return nil
				})
			}
			checked += len(proxies) * sample
			time.Sleep(time.Second)
		}
		errs.report(t)
		t.Logf("%d preflights of cached buckets over the three proxies during the %v outage", checked, outage)

		m.Start(t)
		restarted := time.Now()
		for i, p := range proxies {
			x := p.waitIndex(t, restarted, 30*time.Second)
			t.Logf("proxy %s: caught up %v after the store returned; errors %d -> %d, listings %d -> %d",
				p.name, x.lastSync().Sub(restarted).Round(time.Millisecond), before[i].Errors, x.Errors, before[i].Listings, x.Listings)
			if x.Errors <= before[i].Errors {
				t.Errorf("proxy %s: index errors %d -> %d over a %v outage, want the failed polls counted", p.name, before[i].Errors, x.Errors, outage)
			}
			if x.Entries != fleetPolicies+1 {
				t.Errorf("proxy %s: %d index entries after the outage, want %d", p.name, x.Entries, fleetPolicies+1)
			}
		}
		const bucket = "fleet-00005" // in use, cached everywhere
		start := time.Now()
		fleetPutThrough(t, a, client, bucket, 900)
		took := fleetWaitEnforced(t, []*fleetProxy{b, c}, client, bucket, 900, start, 10*time.Second)
		t.Logf("after the outage, a change through A reached B after %v, C after %v",
			took[0].Round(time.Millisecond), took[1].Round(time.Millisecond))
		for _, p := range proxies {
			t.Logf("proxy %s: index %+v", p.name, p.index(t))
		}
		if most := fleetPoll + time.Second; max(took[0], took[1]) > most {
			t.Errorf("after the outage, a change through A took %v to reach both B and C, want at most poll + 1s = %v", max(took[0], took[1]), most)
		}
	})
}
