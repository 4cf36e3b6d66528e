package integration

// Load, as bounded stress tests rather than timed assertions: many clients
// over many buckets with a cache far smaller than them, and one object of
// 1 GiB through the proxy. Neither runs in parallel with other tests, so
// that the memory they watch is theirs.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// The load test's figures, as the issue gives them; duration and clients
// can be changed through the environment.
const (
	relLoadBuckets   = 1000
	relLoadCacheSize = 100
	relLoadMaxBody   = 64 << 10
)

// relLoadBucket names bucket i of the load test, and relLoadOrigin the one
// origin its policy lets in: every bucket lets in another origin, so a
// policy served for the wrong bucket shows as a wrong answer.
func relLoadBucket(i int) string { return fmt.Sprintf("load-%04d", i) }
func relLoadOrigin(i int) string { return fmt.Sprintf("https://app-%04d.example.com", i) }
func relLoadMaxAge(i int) int    { return 1000 + i }

// relLoadObject is an object a client PUT, with the digest of its bytes.
type relLoadObject struct {
	bucket int
	key    string
	size   int
	sum    [sha256.Size]byte
}

// The kinds of request of the load test.
const (
	relOpGranted = iota // the bucket's origin's preflight of a PUT
	relOpRefused        // another bucket's origin's preflight
	relOpPut            // a PUT of random bytes
	relOpGet            // a GET of an object the client PUT
	relOpKinds
)

var relOpNames = [relOpKinds]string{"granted preflights", "refused preflights", "PUTs", "GETs"}

// TestLoadManyClientsOverThousandBucketsWithSmallCacheGetExactAnswersAndEveryPutReadsBackIdentical
// drives 200 clients for 30 s (BUCKETCORS_LOAD_CLIENTS,
// BUCKETCORS_LOAD_DURATION) with preflights, PUTs and GETs over 1,000
// buckets whose policies are in a policy store, through a cache of 100
// entries, so that most requests load a policy. Every answer must be the
// one the bucket's policy gives, the only 403s those of the refused
// preflights sent on purpose, and every object read back must have the
// bytes that were PUT.
func TestLoadManyClientsOverThousandBucketsWithSmallCacheGetExactAnswersAndEveryPutReadsBackIdentical(t *testing.T) {
	duration := relEnvDuration(t, "BUCKETCORS_LOAD_DURATION", 30*time.Second)
	clients := int(relEnvInt(t, "BUCKETCORS_LOAD_CLIENTS", 200))
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	setupStart := time.Now()
	setup := relNewClient(16, callTimeout)
	relParallel(t, 16, relLoadBuckets, func(i int) error {
		b := relLoadBucket(i)
		// Anyone may read and write the bucket's objects: the clients send
		// no signature, which keeps the test's own work small.
		open := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},`+
			`"Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, b)
		for _, call := range []struct{ path, body string }{
			{"/" + b, ""},
			{"/" + b + "?policy", open},
			{"/" + storePolicyBucket + "/" + b + ".xml", relPolicyXML(relLoadOrigin(i), relLoadMaxAge(i))},
		} {
			if err := relS3Put(setup, m, call.path, call.body); err != nil {
				return err
			}
		}
		return nil
	})
	t.Logf("%d buckets, their policies and access set up in %v", relLoadBuckets, time.Since(setupStart).Round(time.Millisecond))
	// The policy reads' timeout is long: on a busy machine, a read queued
	// behind the clients' PUTs and GETs may take seconds, and this test is
	// about the answers, not how fast they come (the fault tests cover the
	// timeout).
	addr := testrig.FreeAddr(t)
	base := "http://" + addr
	c := testrig.StartCaddy(t, fmt.Sprintf(`http://%s {
	bucket_cors {
		policy_store s3 {
			endpoint %s
			bucket %s
			access_key %s
			secret_key %s
		}
		cache {
			size %d
			load_timeout 30s
			# every client may wait on a load at once: this test counts
			# exact answers, not SlowDown
			max_loads 256
		}
	}
	reverse_proxy %s {
		transport http {
			keepalive_idle_conns_per_host %d
		}
	}
}
`, addr, m.Endpoint, storePolicyBucket, m.AccessKey, m.SecretKey, relLoadCacheSize, hostPort(t, m.Endpoint), clients))
	client := relNewClient(clients, 2*time.Minute)

	var sent, answered [relOpKinds]atomic.Int64
	errs := newRelErrors()
	objects := make([][]relLoadObject, clients)
	deadline := time.Now().Add(duration)
	seed := uint64(time.Now().UnixNano())
	t.Logf("%d clients for %v, seed %d", clients, duration, seed)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			bytesRNG := rand.NewChaCha8([32]byte{byte(w), byte(w >> 8), byte(seed), byte(seed >> 8)})
			body := make([]byte, relLoadMaxBody)
			for n := 0; time.Now().Before(deadline); n++ {
				i := rng.IntN(relLoadBuckets)
				op := relOpGranted
				switch r := rng.IntN(100); {
				case r < 35:
				case r < 50:
					op = relOpRefused
				case r < 75 || len(objects[w]) == 0:
					op = relOpPut
				default:
					op = relOpGet
				}
				sent[op].Add(1)
				var err error
				switch op {
				case relOpGranted, relOpRefused:
					origin := relLoadOrigin(i)
					if op == relOpRefused {
						origin = relLoadOrigin((i + 1 + rng.IntN(relLoadBuckets-1)) % relLoadBuckets)
					}
					var r relResp
					if r, err = relPreflight(client, base+"/"+relLoadBucket(i)+"/any", origin, "PUT", "content-type"); err == nil {
						if op == relOpGranted {
							err = relCheckGranted(r, relPreflightGrant(origin, relLoadMaxAge(i)))
						} else {
							err = relCheckRefused(r, "PUT", false)
						}
					}
				case relOpPut:
					obj := relLoadObject{bucket: i, key: fmt.Sprintf("c%03d/%06d", w, n), size: 1 + rng.IntN(relLoadMaxBody)}
					bytesRNG.Read(body[:obj.size])
					obj.sum = sha256.Sum256(body[:obj.size])
					var r relResp
					r, err = relSend(client, http.MethodPut, base+"/"+relLoadBucket(i)+"/"+obj.key,
						map[string]string{"Origin": relLoadOrigin(i), "Content-Type": "application/octet-stream"}, body[:obj.size])
					if err == nil && r.status != http.StatusOK {
						err = fmt.Errorf("PUT %s/%s: %d %.300q", relLoadBucket(i), obj.key, r.status, r.body)
					}
					if err == nil {
						err = relCheckActual(r, relActualGrant(relLoadOrigin(i), relLoadMaxAge(i)))
						objects[w] = append(objects[w], obj)
					}
				case relOpGet:
					obj := objects[w][rng.IntN(len(objects[w]))]
					var r relResp
					r, err = relSend(client, http.MethodGet, base+"/"+relLoadBucket(obj.bucket)+"/"+obj.key,
						map[string]string{"Origin": relLoadOrigin(obj.bucket)}, nil)
					switch {
					case err != nil:
					case r.status != http.StatusOK:
						err = fmt.Errorf("GET %s/%s: %d %.300q", relLoadBucket(obj.bucket), obj.key, r.status, r.body)
					case len(r.body) != obj.size || sha256.Sum256(r.body) != obj.sum:
						err = fmt.Errorf("GET %s/%s: %d bytes that are not the %d PUT", relLoadBucket(obj.bucket), obj.key, len(r.body), obj.size)
					default:
						err = relCheckActual(r, relActualGrant(relLoadOrigin(obj.bucket), relLoadMaxAge(obj.bucket)))
					}
				}
				if err != nil {
					errs.add(relOpNames[op], err)
				} else {
					answered[op].Add(1)
				}
			}
		}()
	}
	wg.Wait()
	total := int64(0)
	for op := range relOpKinds {
		total += sent[op].Load()
		t.Logf("%s: %d sent, %d answered as the policy says", relOpNames[op], sent[op].Load(), answered[op].Load())
	}
	t.Logf("%d requests in %v (%.0f/s)", total, duration, float64(total)/duration.Seconds())
	errs.report(t)
	for op := range relOpKinds {
		if sent[op].Load() == 0 || answered[op].Load() != sent[op].Load() {
			t.Errorf("%s: %d sent, %d answered as the policy says", relOpNames[op], sent[op].Load(), answered[op].Load())
		}
	}

	// The cache churned: most lookups loaded a policy from the store.
	metrics := storeMetrics(t, c.AdminURL())
	loads := metrics[storeSeries("bucketcors_policy_loads_total", "source=policy_store", "result=found")]
	t.Logf("policy loads %v, cache hits %v, evictions %v", loads, metrics[storeSeries("bucketcors_cache_hits_total")], metrics[storeSeries("bucketcors_cache_evictions_total")])
	if metrics[storeSeries("bucketcors_cache_evictions_total")] == 0 || loads <= relLoadCacheSize {
		t.Errorf("the cache of %d did not churn: %v loads, %v evictions", relLoadCacheSize, loads, metrics[storeSeries("bucketcors_cache_evictions_total")])
	}
	if n := metrics[storeSeries("bucketcors_cache_entries")]; n > relLoadCacheSize {
		t.Errorf("bucketcors_cache_entries = %v, more than the cache's size %d", n, relLoadCacheSize)
	}
	if n := metrics[storeSeries("bucketcors_policy_loads_total", "source=policy_store", "result=error")]; n != 0 {
		t.Errorf("%v policy loads failed", n)
	}

	// Every object PUT reads back, through the proxy, with its bytes.
	var all []relLoadObject
	for _, objs := range objects {
		all = append(all, objs...)
	}
	readStart := time.Now()
	readBack := relNewClient(16, 2*time.Minute)
	relParallel(t, 16, len(all), func(k int) error {
		obj := all[k]
		r, err := relSend(readBack, http.MethodGet, base+"/"+relLoadBucket(obj.bucket)+"/"+obj.key, nil, nil)
		switch {
		case err != nil:
			return err
		case r.status != http.StatusOK:
			return fmt.Errorf("reading back %s/%s: %d %.300q", relLoadBucket(obj.bucket), obj.key, r.status, r.body)
		case len(r.body) != obj.size || sha256.Sum256(r.body) != obj.sum:
			return fmt.Errorf("reading back %s/%s: %d bytes that are not the %d PUT", relLoadBucket(obj.bucket), obj.key, len(r.body), obj.size)
		}
		return nil
	})
	t.Logf("%d objects read back identical in %v", len(all), time.Since(readStart).Round(time.Millisecond))
}

// relParallel calls f(0) to f(n-1) from workers goroutines and fails the
// test with the errors it returns (the first few).
func relParallel(t testing.TB, workers, n int, f func(i int) error) {
	t.Helper()
	errs := newRelErrors()
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := f(i); err != nil {
					errs.add("calls", err)
				}
			}
		}()
	}
	wg.Wait()
	if errs.total() > 0 {
		errs.report(t)
		t.FailNow()
	}
}

// TestOneGiBPutAndGetStreamThroughProxyInBoundedMemoryAndArriveIntact
// streams one object of 1 GiB (BUCKETCORS_BIG_OBJECT_SIZE) of
// pseudo-random bytes, made as they are sent, through the proxy to MinIO
// with a single PUT, and reads it back through the proxy, hashing both on
// the fly. Caddy's resident memory, read every 100 ms, must stay under
// 100 MiB, and the digests must match.
func TestOneGiBPutAndGetStreamThroughProxyInBoundedMemoryAndArriveIntact(t *testing.T) {
	size := relEnvInt(t, "BUCKETCORS_BIG_OBJECT_SIZE", 1<<30)
	const (
		bucket = "big"
		key    = "one.bin"
		limit  = 100 << 20
	)
	m := testrig.StartMinIO(t)
	// MinIO writes the object to its data directory, with room to spare.
	need := max(int64(3<<30), 3*size)
	if free := relFreeBytes(t, m.Dir); free < need {
		t.Fatalf("the file system of %s has %s free; this test needs %s (3 GiB, or 3 times BUCKETCORS_BIG_OBJECT_SIZE=%d): free some space or set a smaller size",
			m.Dir, relMiB(free), relMiB(need), size)
	}
	m.CreateBucket(t, bucket)
	addr := testrig.FreeAddr(t)
	base := "http://" + addr
	c := testrig.StartCaddy(t, fmt.Sprintf(`http://%s {
	bucket_cors {
		%s
	}
	reverse_proxy %s
}
`, addr, relInlinePolicy(bucket, relAppOrigin, 600), hostPort(t, m.Endpoint)))
	grant := relActualGrant(relAppOrigin, 600)
	client := relNewClient(1, 30*time.Minute)
	idle := relRSSOf(t, c.Pid())

	putURL, signed := presignPut(t, m, base, bucket, key, "")
	sent := sha256.New()
	req, err := http.NewRequest(http.MethodPut, putURL, io.TeeReader(io.LimitReader(relPatternReader(t), size), sent))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	for k := range signed {
		if !strings.EqualFold(k, "Host") {
			req.Header.Set(k, signed.Get(k))
		}
	}
	req.Header.Set("Origin", relAppOrigin)
	sampler := relSampleRSS(c.Pid(), 100*time.Millisecond)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		sampler.stop()
		t.Fatalf("PUT of %d bytes: %v", size, err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	putTook := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		sampler.stop()
		t.Fatalf("PUT of %d bytes: %d %s", size, resp.StatusCode, answer)
	}
	relCheck(t, "the PUT's answer", relCheckActual(relResp{status: resp.StatusCode, header: resp.Header}, grant))

	start = time.Now()
	resp, err = client.Do(relMustRequest(t, http.MethodGet, presignGet(t, m, base, bucket, key), map[string]string{"Origin": relAppOrigin}))
	if err != nil {
		sampler.stop()
		t.Fatalf("GET: %v", err)
	}
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	resp.Body.Close()
	getTook := time.Since(start)
	most, samples, serr := sampler.stop()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d, %d bytes read, %v", resp.StatusCode, n, err)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.FormatInt(size, 10) || n != size {
		t.Errorf("GET: Content-Length %q, %d bytes read; want %d", cl, n, size)
	}
	relCheck(t, "the GET's answer", relCheckActual(relResp{status: resp.StatusCode, header: resp.Header}, grant))
	if sent, got := sent.Sum(nil), got.Sum(nil); string(sent) != string(got) {
		t.Errorf("the object read back has SHA-256 %x, the one sent %x", got, sent)
	}
	t.Logf("%s PUT in %v, GET in %v; Caddy's resident memory: %s idle, %s at most over %d samples",
		relMiB(size), putTook.Round(time.Millisecond), getTook.Round(time.Millisecond), relMiB(idle), relMiB(most), samples)
	if serr != nil {
		t.Errorf("reading Caddy's resident memory: %v", serr)
	}
	if samples < 2 {
		t.Errorf("only %d samples of Caddy's resident memory", samples)
	}
	if most >= limit {
		t.Errorf("Caddy's resident memory reached %s while streaming %s, want under %s", relMiB(most), relMiB(size), relMiB(limit))
	}
}

// relPatternReader returns an endless reader of deterministic
// pseudo-random bytes (an AES-CTR key stream), made as they are read.
func relPatternReader(t testing.TB) io.Reader {
	t.Helper()
	block, err := aes.NewCipher([]byte("bucketcors big object key 32 b.."))
	if err != nil {
		t.Fatal(err)
	}
	return &relKeyStream{s: cipher.NewCTR(block, make([]byte, aes.BlockSize))}
}

type relKeyStream struct{ s cipher.Stream }

func (k *relKeyStream) Read(p []byte) (int, error) {
	clear(p)
	k.s.XORKeyStream(p, p)
	return len(p), nil
}

// relMustRequest builds a request without a body.
func relMustRequest(t testing.TB, method, rawURL string, header map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}

// relS3Put sends MinIO a PUT of path (with its query) and body, signed with
// its root credentials, and checks that it succeeds. It costs the test far
// less than an SDK call.
func relS3Put(client *http.Client, m *testrig.MinIO, path, body string) error {
	req, err := http.NewRequest(http.MethodPut, m.Endpoint+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	if body == "" {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	hash := apiSHA256([]byte(body))
	req.Header.Set("X-Amz-Content-Sha256", hash)
	creds := aws.Credentials{AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey}
	if err := apiSigner().SignHTTP(context.Background(), creds, req, hash, "s3", m.Region, time.Now()); err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("PUT %s: %d %.300s", path, resp.StatusCode, answer)
	}
	return nil
}
