//go:build loadharness

package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

var (
	flagDuration    = flag.Duration("duration", 10*time.Second, "how long wrk drives each case in each round (rounded up to whole seconds)")
	flagRounds      = flag.Int("rounds", 3, "how many times every case runs, in a new random order each round")
	flagConnections = flag.Int("connections", 50, "wrk's open connections (wrk -c)")
	flagThreads     = flag.Int("threads", 1, "wrk's threads (wrk -t)")
	flagWarmup      = flag.Duration("warmup", 2*time.Second, "an unmeasured run of every case before the first round; 0 for none")
	flagPin         = flag.Bool("pin", true, "pin the servers and wrk to separate CPUs with taskset (see -server-cpus, -store-cpus, -client-cpus)")
	flagServerCPUs  = flag.String("server-cpus", "0", "CPUs of Caddy when pinned (a taskset list); Caddy's GOMAXPROCS is their number")
	flagStoreCPUs   = flag.String("store-cpus", "", "CPUs of MinIO when pinned; default: -server-cpus, shared with Caddy")
	flagClientCPUs  = flag.String("client-cpus", "1", "CPUs of wrk when pinned")
	flagColdBuckets = flag.Int("cold-buckets", 1000, "buckets with a policy that the cold-cache cases pick from at random")
	flagColdCache   = flag.Int("cold-cache", 100, "cache size of the cold-cache sites; smaller than -cold-buckets so that most requests miss")
	flagBurst       = flag.Int("burst", coldBurst, "concurrent preflights fired at a cold bucket to count its policy loads")
	flagSeed        = flag.Uint64("seed", 0, "seed of the order of the runs; 0 takes one from the clock")
	flagOut         = flag.String("out", ".", "folder that results.md and results.svg are written to")
	flagMemory      = flag.Bool("memory", true, "also run caddymodule's TestCacheBytesPerPolicy and report its figure")
	flagPprof       = flag.String("pprof", "", "folder for CPU profiles of Caddy, taken in an extra, unreported run of some cases; empty for none")
	flagCases       = flag.String("cases", "", "comma-separated names of the cases to run; empty for all")
)

// pauseBetweenRuns lets the servers close the last run's connections and
// collect its garbage before the next run starts.
const pauseBetweenRuns = 500 * time.Millisecond

// The objects every GET case fetches, and the bucket that holds them.
const (
	assetsBucket = "assets"
	smallObject  = "small.bin" // 4 KiB
	largeObject  = "large.bin" // 1 MiB
	storeBucket  = "cors-policies"
	burstBucket  = "fresh-bucket"
)

// caddyPolicy is the typical policy of the `assets` bucket, inline: the
// same as typicalPolicyXML.
const caddyPolicy = `policy assets {
			rule {
				origins https://app.example.com https://*.example.org
				methods GET PUT HEAD
				headers content-type x-amz-*
				expose  ETag
				max_age 3600
			}
		}`

// handWrittenSnippet is the CORS snippet people paste into a Caddyfile
// today, as the issue gives it.
const handWrittenSnippet = `@preflight {
		method OPTIONS
		header Origin *
		header Access-Control-Request-Method *
	}
	handle @preflight {
		header Access-Control-Allow-Origin "{http.request.header.Origin}"
		header Access-Control-Allow-Methods "GET, PUT, POST, DELETE, HEAD"
		header Access-Control-Allow-Headers "*"
		header Access-Control-Max-Age "3600"
		respond 204
	}`

// benchCase is one thing the harness measures: a site and the request wrk
// sends it.
type benchCase struct {
	id, name, title string
	group           string // cases of a group share a scale in the chart
	baseline        bool   // not through bucket_cors
	url             string
	method          string
	headers         map[string]string
	// randomBuckets > 0 sends each request to one of that many buckets,
	// picked at random: /b0000/<object> ...
	randomBuckets int
	object        string
	// refused cases are answered 4xx, every request.
	refused bool
	// check verifies one answer before the case is measured.
	check func(resp *http.Response, body []byte) error
	// servedBy names the servers whose CPU time answers the case.
	servedBy servers
}

// servers is a set of the harness's server processes.
type servers uint8

const (
	byCaddy servers = 1 << iota
	byMinIO
)

// sites are the addresses of the Caddy sites and of MinIO.
type sites struct {
	module, plain, respond, snippet, coldStore, coldDir, minio string
}

// TestLoadHarness measures bucketcors side by side with what it replaces and
// with its ceilings, in one Caddy, and writes results.md and results.svg.
// Run it with:
//
//	go test -tags loadharness -run TestLoadHarness -v -timeout 60m ./integration/bench -args -duration 10s -rounds 3
func TestLoadHarness(t *testing.T) {
	wrk := wrkBinary(t)
	if *flagRounds < 1 || *flagDuration < time.Second || *flagConnections < *flagThreads || *flagThreads < 1 {
		t.Fatalf("need -rounds >= 1, -duration >= 1s and -connections >= -threads >= 1")
	}
	if *flagColdCache >= *flagColdBuckets {
		t.Fatalf("-cold-cache %d must be smaller than -cold-buckets %d, or the cold cases would not miss", *flagColdCache, *flagColdBuckets)
	}
	out, err := filepath.Abs(*flagOut)
	if err != nil {
		t.Fatal(err)
	}
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}

	pin := pinning(t)
	info := machineInfo(wrk)
	info.pinning = pin.describe()
	info.loadBefore = loadAverage()

	var memory string
	if *flagMemory {
		memory = cacheMemory(t)
	}

	// Each server reads GOMAXPROCS from the environment as it starts: the
	// number of CPUs it is about to be pinned to.
	if pin.enabled {
		t.Setenv("GOMAXPROCS", strconv.Itoa(pin.storeProcs))
	}
	m := testrig.StartMinIO(t)
	minio := findChild(t, "MinIO", m.Dir+"\x00")
	info.minio = firstLine(run(minio.exe(), "--version"))
	policyDir := t.TempDir()
	fillMinIO(t, m, policyDir)

	s := sites{
		module: testrig.FreeAddr(t), plain: testrig.FreeAddr(t), respond: testrig.FreeAddr(t),
		snippet: testrig.FreeAddr(t), coldStore: testrig.FreeAddr(t), coldDir: testrig.FreeAddr(t),
		minio: strings.TrimPrefix(m.Endpoint, "http://"),
	}
	if pin.enabled {
		t.Setenv("GOMAXPROCS", strconv.Itoa(pin.serverProcs))
	}
	c := testrig.StartCaddy(t, caddyfile(s, m, policyDir))
	caddy := findChild(t, "Caddy", filepath.Join(c.Dir, "Caddyfile"))
	info.caddy, _, _ = strings.Cut(firstLine(run(caddy.exe(), "version")), " ")
	if pin.enabled {
		caddy.pin(t, pin.serverCPUs)
		minio.pin(t, pin.storeCPUs)
	}

	cases := selectCases(t, allCases(s))
	for _, bc := range cases {
		checkCase(t, bc)
	}

	var cold *burstReport
	if *flagBurst > 0 {
		cold = coldBurstProbe(t, c, s, *flagBurst)
	}

	runner := &wrkRunner{
		bin: wrk, threads: *flagThreads, connections: *flagConnections,
		scriptDir: t.TempDir(), caddy: caddy, minio: minio,
	}
	if pin.enabled {
		runner.clientCPUs = pin.clientCPUs
	}
	if *flagWarmup > 0 {
		for _, bc := range cases {
			runner.run(t, bc, *flagWarmup)
			time.Sleep(pauseBetweenRuns)
		}
	}

	results := make(map[string][]wrkResult)
	rng := mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for round := 1; round <= *flagRounds; round++ {
		for _, i := range rng.Perm(len(cases)) {
			bc := cases[i]
			r := runner.run(t, bc, *flagDuration)
			checkRun(t, bc, &r)
			results[bc.name] = append(results[bc.name], r)
			t.Logf("round %d/%d %-28s %9.0f req/s  p50 %-9s p99 %-9s CPU wrk %3.0f%% Caddy %3.0f%% MinIO %3.0f%%, %6.1f µs a request",
				round, *flagRounds, bc.name, r.rps, fmtLatency(r.p50), fmtLatency(r.p99),
				100*r.clientCPU, 100*r.caddyCPU, 100*r.minioCPU, r.cpuPerRequest)
			time.Sleep(pauseBetweenRuns)
		}
	}

	if *flagPprof != "" {
		profileCases(t, runner, c, cases, *flagPprof)
	}

	info.loadAfter = loadAverage()
	if pin.enabled {
		info.affinity = fmt.Sprintf("Caddy threads on CPUs %s, MinIO threads on CPUs %s at the end",
			strings.Join(caddy.affinity(), " | "), strings.Join(minio.affinity(), " | "))
		for _, p := range []struct {
			srv  server
			want string
		}{{caddy, pin.serverCPUs}, {minio, pin.storeCPUs}} {
			if got := p.srv.affinity(); len(got) != 1 || !sameCPUs(got[0], p.want) {
				t.Errorf("%s's threads ended up on CPUs %v; want all on %s", p.srv.name, got, p.want)
			}
		}
	}
	info.seed = seed
	info.serverProcs = pin.serverProcs
	rep := buildReport(cases, results, info, cold, memory)
	t.Log("\n" + rep.markdown)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(out, "results.md"), rep.markdown)
	writeFile(t, filepath.Join(out, "results.svg"), rep.svg)
	t.Logf("wrote %s and %s", filepath.Join(out, "results.md"), filepath.Join(out, "results.svg"))
}

// caddyfile returns the harness's sites, all in one Caddy.
func caddyfile(s sites, m *testrig.MinIO, policyDir string) string {
	store := fmt.Sprintf(`policy_store s3 {
			endpoint   %s
			bucket     %s
			access_key %s
			secret_key %s
		}`, m.Endpoint, storeBucket, m.AccessKey, m.SecretKey)
	cache := fmt.Sprintf("cache {\n\t\t\tsize %d\n\t\t}", *flagColdCache)
	return fmt.Sprintf(`# (1), (5 with): bucket_cors with an inline policy, then the bucket.
http://%[1]s {
	bucket_cors {
		%[7]s
	}
	reverse_proxy %[8]s
}

# (5 without): the bucket alone.
http://%[2]s {
	reverse_proxy %[8]s
}

# (2): the ceiling of a preflight.
http://%[3]s {
	respond 204
}

# (3): the hand-written snippet, in front of the bucket.
http://%[4]s {
	%[9]s
	reverse_proxy %[8]s
}

# (1) cold: policies read from a policy store through a cache smaller than
# the set of buckets.
http://%[5]s {
	bucket_cors {
		%[10]s
		%[11]s
	}
	reverse_proxy %[8]s
}

# (1) cold: the same from a policy folder.
http://%[6]s {
	bucket_cors {
		policy_dir %[12]s
		%[11]s
	}
	reverse_proxy %[8]s
}
`, s.module, s.plain, s.respond, s.snippet, s.coldStore, s.coldDir,
		caddyPolicy, s.minio, handWrittenSnippet, store, cache, policyDir)
}

// fillMinIO makes the objects of the GET cases, readable without a
// signature as wrk sends none, and the policies of the cold buckets, in the
// policy store and in policyDir.
func fillMinIO(t *testing.T, m *testrig.MinIO, policyDir string) {
	m.CreateBucket(t, assetsBucket)
	m.PutObject(t, assetsBucket, smallObject, randomBytes(4<<10), "application/octet-stream")
	m.PutObject(t, assetsBucket, largeObject, randomBytes(1<<20), "application/octet-stream")
	public := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},`+
		`"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, assetsBucket)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := m.Client(t)
	if _, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
		Bucket: aws.String(assetsBucket), Policy: aws.String(public),
	}); err != nil {
		t.Fatalf("making %s public: %v", assetsBucket, err)
	}

	m.CreateBucket(t, storeBucket)
	names := []string{burstBucket}
	for i := range *flagColdBuckets {
		names = append(names, fmt.Sprintf(bucketFormat(*flagColdBuckets), i))
	}
	// A few writers at once: a thousand PUTs one by one take long on a
	// busy machine.
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := w; i < len(names); i += writers {
				key := names[i] + ".xml"
				if _, err := client.PutObject(ctx, &s3.PutObjectInput{
					Bucket: aws.String(storeBucket), Key: aws.String(key),
					Body: strings.NewReader(typicalPolicyXML), ContentType: aws.String("application/xml"),
				}); err != nil {
					errs[w] = fmt.Errorf("putting %s/%s: %w", storeBucket, key, err)
					return
				}
				if err := os.WriteFile(filepath.Join(policyDir, key), []byte(typicalPolicyXML), 0o644); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// allCases lists every case, in the order of the report.
func allCases(s sites) []*benchCase {
	preflight := func(origin string) map[string]string {
		return map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  preflightACRM,
			"Access-Control-Request-Headers": preflightACRH,
		}
	}
	get := map[string]string{"Origin": allowedOrigin}
	path := "/" + assetsBucket + "/" + smallObject
	return []*benchCase{
		{id: "1a", name: "preflight-module-allowed", title: "preflight, bucket_cors, allowed", group: "preflight",
			servedBy: byCaddy, url: "http://" + s.module + path, method: http.MethodOptions, headers: preflight(allowedOrigin),
			check: expectGrant(http.StatusOK, allowedOrigin)},
		{id: "1b", name: "preflight-module-refused", title: "preflight, bucket_cors, refused", group: "preflight",
			servedBy: byCaddy, url: "http://" + s.module + path, method: http.MethodOptions, headers: preflight(refusedOrigin),
			refused: true, check: expectRefusal},
		{id: "1c", name: "preflight-module-cold-store", title: "preflight, bucket_cors, cold cache, policy_store", group: "preflight",
			servedBy: byCaddy | byMinIO, url: "http://" + s.coldStore + "/", method: http.MethodOptions, headers: preflight(allowedOrigin),
			randomBuckets: *flagColdBuckets, object: "/" + smallObject, check: expectGrant(http.StatusOK, allowedOrigin)},
		{id: "1d", name: "preflight-module-cold-dir", title: "preflight, bucket_cors, cold cache, policy_dir", group: "preflight",
			servedBy: byCaddy, url: "http://" + s.coldDir + "/", method: http.MethodOptions, headers: preflight(allowedOrigin),
			randomBuckets: *flagColdBuckets, object: "/" + smallObject, check: expectGrant(http.StatusOK, allowedOrigin)},
		{id: "2", name: "preflight-respond-204", title: "preflight, Caddy respond 204", group: "preflight", baseline: true,
			servedBy: byCaddy, url: "http://" + s.respond + path, method: http.MethodOptions, headers: preflight(allowedOrigin),
			check: expectStatus(http.StatusNoContent)},
		{id: "3", name: "preflight-snippet", title: "preflight, hand-written Caddy snippet", group: "preflight", baseline: true,
			servedBy: byCaddy, url: "http://" + s.snippet + path, method: http.MethodOptions, headers: preflight(allowedOrigin),
			check: expectGrant(http.StatusNoContent, allowedOrigin)},
		{id: "4", name: "preflight-minio", title: "preflight, straight to MinIO", group: "preflight", baseline: true,
			servedBy: byMinIO, url: "http://" + s.minio + path, method: http.MethodOptions, headers: preflight(allowedOrigin),
			check: expectGrant(0, allowedOrigin)},
		{id: "5a", name: "get-4k-module", title: "GET 4 KiB, bucket_cors + reverse_proxy", group: "GET 4 KiB",
			servedBy: byCaddy | byMinIO, url: "http://" + s.module + path, method: http.MethodGet, headers: get,
			check: expectObject(4<<10, allowedOrigin)},
		{id: "5b", name: "get-4k-plain", title: "GET 4 KiB, reverse_proxy alone", group: "GET 4 KiB", baseline: true,
			servedBy: byCaddy | byMinIO, url: "http://" + s.plain + path, method: http.MethodGet, headers: get,
			check: expectObject(4<<10, "")},
		{id: "5c", name: "get-1m-module", title: "GET 1 MiB, bucket_cors + reverse_proxy", group: "GET 1 MiB",
			servedBy: byCaddy | byMinIO, url: "http://" + s.module + "/" + assetsBucket + "/" + largeObject, method: http.MethodGet, headers: get,
			check: expectObject(1<<20, allowedOrigin)},
		{id: "5d", name: "get-1m-plain", title: "GET 1 MiB, reverse_proxy alone", group: "GET 1 MiB", baseline: true,
			servedBy: byCaddy | byMinIO, url: "http://" + s.plain + "/" + assetsBucket + "/" + largeObject, method: http.MethodGet, headers: get,
			check: expectObject(1<<20, "")},
	}
}

// selectCases keeps the cases -cases names.
func selectCases(t *testing.T, all []*benchCase) []*benchCase {
	if *flagCases == "" {
		return all
	}
	byName := map[string]*benchCase{}
	var names []string
	for _, c := range all {
		byName[c.name] = c
		names = append(names, c.name)
	}
	var out []*benchCase
	for n := range strings.SplitSeq(*flagCases, ",") {
		c, ok := byName[strings.TrimSpace(n)]
		if !ok {
			t.Fatalf("-cases: no case %q; the cases are %s", n, strings.Join(names, ", "))
		}
		out = append(out, c)
	}
	return out
}

func expectStatus(status int) func(*http.Response, []byte) error {
	return func(resp *http.Response, _ []byte) error {
		if resp.StatusCode != status {
			return fmt.Errorf("status %d; want %d", resp.StatusCode, status)
		}
		return nil
	}
}

// expectGrant wants a status (any 2xx for 0) with Access-Control-Allow-Origin.
func expectGrant(status int, origin string) func(*http.Response, []byte) error {
	return func(resp *http.Response, _ []byte) error {
		if status == 0 && (resp.StatusCode < 200 || resp.StatusCode > 299) || status != 0 && resp.StatusCode != status {
			return fmt.Errorf("status %d; want %d", resp.StatusCode, status)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
			return fmt.Errorf("Access-Control-Allow-Origin %q; want %q", got, origin)
		}
		return nil
	}
}

func expectRefusal(resp *http.Response, _ []byte) error {
	if resp.StatusCode != http.StatusForbidden {
		return fmt.Errorf("status %d; want 403", resp.StatusCode)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		return fmt.Errorf("a refusal with Access-Control-Allow-Origin %q", got)
	}
	return nil
}

// expectObject wants the object whole; through bucket_cors, with the
// policy's grant.
func expectObject(size int, origin string) func(*http.Response, []byte) error {
	return func(resp *http.Response, body []byte) error {
		if resp.StatusCode != http.StatusOK || len(body) != size {
			return fmt.Errorf("status %d, %d bytes; want 200, %d bytes", resp.StatusCode, len(body), size)
		}
		if origin == "" {
			return nil
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
			return fmt.Errorf("Access-Control-Allow-Origin %q; want %q", got, origin)
		}
		if got := resp.Header.Get("Access-Control-Expose-Headers"); got != "ETag" {
			return fmt.Errorf("Access-Control-Expose-Headers %q; want ETag", got)
		}
		return nil
	}
}

// checkCase sends the case's request once and checks the answer, so that a
// site that answers the wrong thing is not measured.
func checkCase(t *testing.T, bc *benchCase) {
	t.Helper()
	url := bc.url
	if bc.randomBuckets > 0 {
		url = strings.TrimSuffix(bc.url, "/") + "/" + fmt.Sprintf(bucketFormat(bc.randomBuckets), 0) + bc.object
	}
	req, err := http.NewRequest(bc.method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range bc.headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("case %s: %v", bc.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("case %s: reading the answer: %v", bc.name, err)
	}
	if err := bc.check(resp, body); err != nil {
		t.Fatalf("case %s (%s %s): %v\n%v", bc.name, bc.method, url, err, resp.Header)
	}
}

// checkRun fails the test when a run's answers are not what the case
// expects: every one refused for a refused case, none otherwise.
func checkRun(t *testing.T, bc *benchCase, r *wrkResult) {
	t.Helper()
	answered := r.requests
	switch {
	case bc.refused && r.status != answered:
		t.Errorf("case %s: %d of %d answers were not refused", bc.name, answered-r.status, answered)
	case !bc.refused && r.status != 0:
		t.Errorf("case %s: %d of %d answers had an error status", bc.name, r.status, answered)
	}
	if n := r.socketErrors(); n > 0 {
		t.Logf("case %s: %d socket errors (connect %d, read %d, write %d, timeout %d)",
			bc.name, n, r.connect, r.read, r.write, r.timeout)
	}
}

// burstReport is what the cold-bucket probe saw.
type burstReport struct {
	n, allowed     int
	loads, waiting float64
}

// coldBurstProbe fires n preflights at once at a bucket of the policy store
// that no request has named yet, and counts the policy loads it caused.
func coldBurstProbe(t *testing.T, c *testrig.Caddy, s sites, n int) *burstReport {
	t.Helper()
	before := scrapeMetrics(t, c.AdminURL())
	b := startBurst(t, "http://"+s.coldStore+"/"+burstBucket+"/"+smallObject, n)
	res := b.wait(t)
	after := scrapeMetrics(t, c.AdminURL())
	rep := &burstReport{n: n, allowed: res.allowed, loads: after.loads - before.loads, waiting: after.misses - before.misses}
	if rep.loads != 1 {
		t.Errorf("%d concurrent preflights of a cold bucket caused %.0f policy loads; want 1", n, rep.loads)
	}
	if rep.allowed != n {
		t.Errorf("%d of %d concurrent preflights of a cold bucket were granted; statuses %v", rep.allowed, n, res.statuses)
	}
	t.Logf("cold bucket: %d concurrent preflights, %.0f policy load, %.0f waited for it", n, rep.loads, rep.waiting)
	return rep
}

// profileCases takes a CPU profile of Caddy while wrk drives some cases,
// in runs of their own that the report leaves out.
func profileCases(t *testing.T, runner *wrkRunner, c *testrig.Caddy, cases []*benchCase, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	secs := max(1, int(*flagDuration/time.Second)-1)
	for _, bc := range cases {
		var wg sync.WaitGroup
		var profile []byte
		var perr error
		wg.Go(func() {
			client := &http.Client{Timeout: time.Duration(secs+30) * time.Second}
			resp, err := client.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", c.AdminURL(), secs))
			if err != nil {
				perr = err
				return
			}
			defer resp.Body.Close()
			profile, perr = io.ReadAll(resp.Body)
			if perr == nil && resp.StatusCode != http.StatusOK {
				perr = fmt.Errorf("%s: %s", resp.Status, profile)
			}
		})
		runner.run(t, bc, *flagDuration)
		wg.Wait()
		if perr != nil {
			t.Errorf("profiling %s: %v", bc.name, perr)
			continue
		}
		path := filepath.Join(dir, bc.name+".pprof")
		writeFile(t, path, string(profile))
		t.Logf("CPU profile of Caddy during %s: %s", bc.name, path)
		time.Sleep(pauseBetweenRuns)
	}
}

// pinPlan is where the servers and wrk run.
type pinPlan struct {
	enabled                           bool
	serverCPUs, storeCPUs, clientCPUs string
	serverProcs, storeProcs           int
	why                               string // why pinning is off
}

func (p pinPlan) describe() string {
	if !p.enabled {
		return "not pinned (" + p.why + "): Caddy, MinIO and wrk share every CPU"
	}
	shared := "with Caddy"
	if p.storeCPUs != p.serverCPUs {
		shared = "alone"
	}
	return fmt.Sprintf("Caddy on CPU %s (GOMAXPROCS=%d), MinIO on CPU %s %s (GOMAXPROCS=%d), wrk on CPU %s",
		p.serverCPUs, p.serverProcs, p.storeCPUs, shared, p.storeProcs, p.clientCPUs)
}

// pinning works out the CPU plan from the flags and the machine.
func pinning(t *testing.T) pinPlan {
	p := pinPlan{serverCPUs: *flagServerCPUs, storeCPUs: *flagStoreCPUs, clientCPUs: *flagClientCPUs}
	if p.storeCPUs == "" {
		p.storeCPUs = p.serverCPUs
	}
	switch {
	case !*flagPin:
		p.why = "-pin=false"
		return p
	case runtime.NumCPU() < 2:
		p.why = "one CPU"
		return p
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		p.why = "no taskset; install util-linux"
		t.Logf("not pinning: %s", p.why)
		return p
	}
	var sets [3][]int
	for i, list := range []string{p.serverCPUs, p.storeCPUs, p.clientCPUs} {
		set, err := cpuSet(list)
		if err != nil {
			t.Fatal(err)
		}
		sets[i] = set
	}
	p.serverProcs, p.storeProcs = len(sets[0]), len(sets[1])
	p.enabled = true
	return p
}

// memoryLine matches the figure TestCacheBytesPerPolicy logs.
var memoryLine = regexp.MustCompile(`\d+ buckets cached: .*`)

// cacheMemory runs caddymodule's TestCacheBytesPerPolicy and returns the
// figure it logs.
func cacheMemory(t *testing.T) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		goBin = p
	}
	modFile, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	cmd := exec.Command(goBin, "test", "-count=1", "-run", "^TestCacheBytesPerPolicy$", "-v", "./caddymodule")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(modFile)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test -run TestCacheBytesPerPolicy ./caddymodule: %v\n%s", err, out)
	}
	line := memoryLine.Find(out)
	if line == nil {
		t.Fatalf("TestCacheBytesPerPolicy logged no figure:\n%s", out)
	}
	t.Logf("cache memory: %s", line)
	return string(line)
}

// run returns the output of a command, or "" when it cannot run.
func run(name string, args ...string) string {
	if name == "" {
		return ""
	}
	out, _ := exec.Command(name, args...).CombinedOutput() // wrk -v exits 1
	return string(out)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadAverage returns the 1-minute load average, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// machine describes where and how the harness ran.
type machine struct {
	cpus                  int
	cpuModel, kernel, goV string
	caddy, minio, wrk     string
	pinning, affinity     string
	loadBefore, loadAfter string
	seed                  uint64
	serverProcs           int // Caddy's CPUs when pinned, else 0
	started               time.Time
}

func machineInfo(wrk string) machine {
	m := machine{cpus: runtime.NumCPU(), goV: runtime.Version(), started: time.Now().UTC()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpuModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(b))
	}
	m.wrk, _, _ = strings.Cut(firstLine(run(wrk, "-v")), " Copyright")
	return m
}
