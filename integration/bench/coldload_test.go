// Package bench measures bucketcors through a real Caddy: the load harness
// (harness_test.go and the files next to it, built with -tags loadharness)
// and, in every test run, the check that a cold bucket costs one policy load
// however many requests arrive for it at once.
package bench

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// The preflight every harness case and the cold-load check send: a page on
// an allowed origin asking to PUT with a Content-Type.
const (
	allowedOrigin = "https://app.example.com"
	refusedOrigin = "https://evil.example.net"
	preflightACRM = "PUT"
	preflightACRH = "content-type"
)

// typicalPolicyXML is the policy of every bucket the tests load from a
// source: 1 rule, 2 origins, 3 methods, 2 headers, ETag exposed, a max age
// (the typical policy of caddymodule's benchmarks, as S3 XML).
const typicalPolicyXML = `<CORSConfiguration>
	<CORSRule>
		<AllowedOrigin>https://app.example.com</AllowedOrigin>
		<AllowedOrigin>https://*.example.org</AllowedOrigin>
		<AllowedMethod>GET</AllowedMethod>
		<AllowedMethod>PUT</AllowedMethod>
		<AllowedMethod>HEAD</AllowedMethod>
		<AllowedHeader>content-type</AllowedHeader>
		<AllowedHeader>x-amz-*</AllowedHeader>
		<ExposeHeader>ETag</ExposeHeader>
		<MaxAgeSeconds>3600</MaxAgeSeconds>
	</CORSRule>
</CORSConfiguration>
`

// coldBurst is how many preflights arrive at once for a bucket whose policy
// is not cached.
const coldBurst = 1000

// TestColdBucketOneLoad fires coldBurst preflights at once at a bucket whose
// policy is not cached yet, through a real Caddy whose policy_store is a
// stand-in S3 server. The stand-in holds the one GET of that policy until
// Caddy's bucketcors_cache_misses_total says every request is waiting for
// it, so all of them are in flight together; then exactly one policy load
// must have happened (bucketcors_policy_loads_total +1, one GET seen) and
// every preflight must be answered from it.
func TestColdBucketOneLoad(t *testing.T) {
	store := newHeldStore("policies", "fresh-bucket")
	srv := httptest.NewServer(store)
	t.Cleanup(srv.Close)
	t.Cleanup(store.releaseOnce) // never leave Caddy's load hanging

	edge := testrig.FreeAddr(t)
	c := testrig.StartCaddy(t, fmt.Sprintf(`http://%s {
	bucket_cors {
		policy_store s3 {
			endpoint   %s
			bucket     policies
			access_key stand-in
			secret_key stand-in-secret
		}
		cache {
			size         100
			load_timeout 2m
		}
	}
	respond 204
}
`, edge, srv.URL))

	before := scrapeMetrics(t, c.AdminURL())
	burst := startBurst(t, "http://"+edge+"/fresh-bucket/object.bin", coldBurst)

	// Every request counts a miss before it waits for the load.
	deadline := time.Now().Add(time.Minute)
	waiting := 0.0
	for time.Now().Before(deadline) {
		now := scrapeMetrics(t, c.AdminURL())
		waiting = now.misses - before.misses
		if waiting >= coldBurst {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if waiting < coldBurst {
		t.Errorf("only %.0f of %d preflights were waiting for the held policy load after a minute", waiting, coldBurst)
	}
	store.releaseOnce()

	res := burst.wait(t)
	after := scrapeMetrics(t, c.AdminURL())
	if res.allowed != coldBurst {
		t.Errorf("%d of %d preflights were answered 200 with Access-Control-Allow-Origin %s; statuses: %v",
			res.allowed, coldBurst, allowedOrigin, res.statuses)
	}
	if d := after.loads - before.loads; d != 1 {
		t.Errorf("bucketcors_policy_loads_total went up by %.0f for %d concurrent preflights of one cold bucket; want 1", d, coldBurst)
	}
	if n := store.gets("fresh-bucket.xml"); n != 1 {
		t.Errorf("the policy store saw %d GETs of fresh-bucket.xml; want 1", n)
	}
	t.Logf("%d concurrent preflights of a cold bucket: %.0f policy load, %.0f waited for it",
		coldBurst, after.loads-before.loads, after.misses-before.misses)
}

// heldStore is a stand-in for an S3 policy store: GET /<bucket>/<key>.xml
// answers typicalPolicyXML for every key, and for the held key only once
// released. Every other request is S3's NoSuchKey.
type heldStore struct {
	bucket, heldKey string
	release         chan struct{}
	once            sync.Once

	mu    sync.Mutex
	count map[string]int
}

func newHeldStore(bucket, heldBucket string) *heldStore {
	return &heldStore{
		bucket:  bucket,
		heldKey: heldBucket + ".xml",
		release: make(chan struct{}),
		count:   make(map[string]int),
	}
}

func (s *heldStore) releaseOnce() { s.once.Do(func() { close(s.release) }) }

func (s *heldStore) gets(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count[key]
}

func (s *heldStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.URL.Path, "/"+s.bucket+"/")
	if r.Method != http.MethodGet || !ok || !strings.HasSuffix(key, ".xml") {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
		return
	}
	s.mu.Lock()
	s.count[key]++
	s.mu.Unlock()
	if key == s.heldKey {
		select {
		case <-s.release:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(typicalPolicyXML)))
	io.WriteString(w, typicalPolicyXML)
}

// cacheMetrics are bucketcors' counters of one Caddy, summed over labels.
type cacheMetrics struct {
	loads, misses, hits float64
}

// scrapeMetrics reads bucketcors' counters from Caddy's admin /metrics.
func scrapeMetrics(t testing.TB, adminURL string) cacheMetrics {
	t.Helper()
	resp, err := testrig.AdminClient.Get(adminURL + "/metrics")
	if err != nil {
		t.Fatalf("GET %s/metrics: %v", adminURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/metrics: %s", adminURL, resp.Status)
	}
	var m cacheMetrics
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, " ")
		name, _, _ = strings.Cut(name, "{")
		var dst *float64
		switch name {
		case "bucketcors_policy_loads_total":
			dst = &m.loads
		case "bucketcors_cache_misses_total":
			dst = &m.misses
		case "bucketcors_cache_hits_total":
			dst = &m.hits
		default:
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		*dst += v
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s/metrics: %v", adminURL, err)
	}
	return m
}

// burst is a set of preflights sent at once, each on its own connection.
type burst struct {
	wg     sync.WaitGroup
	mu     sync.Mutex
	result burstResult
}

// burstResult counts the answers of a burst.
type burstResult struct {
	// allowed counts 200 answers that name allowedOrigin.
	allowed int
	// statuses counts answers by status; 0 stands for a failed request.
	statuses map[int]int
	errs     []error
}

// startBurst sends n allowed preflights to url at once and returns without
// waiting for the answers.
func startBurst(t testing.TB, url string, n int) *burst {
	t.Helper()
	client := &http.Client{
		Timeout: 3 * time.Minute,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: n,
			DisableCompression:  true,
		},
	}
	t.Cleanup(client.CloseIdleConnections)
	b := &burst{result: burstResult{statuses: make(map[int]int)}}
	start := make(chan struct{})
	for range n {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			<-start
			status, ok, err := sendPreflight(client, url)
			b.mu.Lock()
			defer b.mu.Unlock()
			b.result.statuses[status]++
			if ok {
				b.result.allowed++
			}
			if err != nil && len(b.result.errs) < 5 {
				b.result.errs = append(b.result.errs, err)
			}
		}()
	}
	close(start)
	return b
}

// wait returns the burst's answers once every request has one.
func (b *burst) wait(t testing.TB) burstResult {
	t.Helper()
	b.wg.Wait()
	for _, err := range b.result.errs {
		t.Errorf("preflight: %v", err)
	}
	return b.result
}

// sendPreflight sends one allowed preflight and says whether it was granted.
func sendPreflight(client *http.Client, url string) (status int, granted bool, err error) {
	req, err := http.NewRequest(http.MethodOptions, url, nil)
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Origin", allowedOrigin)
	req.Header.Set("Access-Control-Request-Method", preflightACRM)
	req.Header.Set("Access-Control-Request-Headers", preflightACRH)
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	granted = resp.StatusCode == http.StatusOK && resp.Header.Get("Access-Control-Allow-Origin") == allowedOrigin
	return resp.StatusCode, granted, nil
}
