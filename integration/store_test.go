package integration

// Where a bucket's policy comes from, end to end: policy_store (objects of a
// MinIO bucket) and policy_origin (the bucket's own GetBucketCors, from MinIO
// and from a stand-in for R2/S3), enforced by a real Caddy; the admin API
// and the metrics of the policy cache.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// The origins the policies below name.
const (
	storeAppOrigin  = "https://app.example.com"
	storeBetaOrigin = "https://beta.example.com"
)

// storePolicyV1 lets the app upload: PUT and GET, two request headers.
const storePolicyV1 = `<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <ID>app-uploads</ID>
    <AllowedOrigin>https://app.example.com</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedHeader>content-type</AllowedHeader>
    <AllowedHeader>x-amz-*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>600</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>
`

// storeGrantV1 is what storePolicyV1 grants the app's upload preflight
// (Access-Control-Request-Headers: content-type,x-amz-date).
var storeGrantV1 = storeGrant{
	"Access-Control-Allow-Origin":      storeAppOrigin,
	"Access-Control-Allow-Credentials": "true",
	"Access-Control-Allow-Methods":     "PUT, GET",
	"Access-Control-Allow-Headers":     "content-type, x-amz-date",
	"Access-Control-Expose-Headers":    "ETag",
	"Access-Control-Max-Age":           "600",
}

// storePolicyV2 replaces it: only beta may read, without the namespace
// (S3 XML is accepted with or without it).
const storePolicyV2 = `<CORSConfiguration>
  <CORSRule>
    <ID>beta-read</ID>
    <AllowedOrigin>https://beta.example.com</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <MaxAgeSeconds>60</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>
`

// storeGrantV2 is what storePolicyV2 grants beta's GET preflight.
var storeGrantV2 = storeGrant{
	"Access-Control-Allow-Origin":      storeBetaOrigin,
	"Access-Control-Allow-Credentials": "true",
	"Access-Control-Allow-Methods":     "GET, HEAD",
	"Access-Control-Max-Age":           "60",
}

// storePolicyBad is well-formed XML with a rule S3 refuses: PATCH is no CORS
// method.
const storePolicyBad = `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <ID>beta-edit</ID>
    <AllowedOrigin>https://beta.example.com</AllowedOrigin>
    <AllowedMethod>PATCH</AllowedMethod>
  </CORSRule>
</CORSConfiguration>
`

// storeLoadFailed is the module's log message for a failed policy read.
const storeLoadFailed = "reading bucket policy failed"

// TestPolicySourcesOnMinIO runs the policy sources against one real MinIO,
// each subtest with its own Caddy and buckets.
func TestPolicySourcesOnMinIO(t *testing.T) {
	t.Parallel()
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)

	t.Run("StoreObjectIsEnforcedChangesAreSeenAfterTTLBadObjectKeepsPreviousPolicyDeletionRemovesIt", func(t *testing.T) {
		t.Parallel()
		const bucket = "photos"
		m.CreateBucket(t, bucket)
		addr := testrig.FreeAddr(t)
		// poll off: this is about reading each policy again at its ttl;
		// with the index, a write straight into the store is seen at the
		// next resync (TestIndexedStoreThroughCaddy).
		c := testrig.StartCaddy(t, storeSiteIndexed(addr, m, "1s", "poll off"))
		base := "http://" + addr
		appUpload := func() storeResp {
			return storePreflight(t, base, "/photos/uploads/a.jpg", storeAppOrigin, "PUT", "content-type,x-amz-date")
		}
		betaRead := func() storeResp {
			return storePreflight(t, base, "/photos/uploads/a.jpg", storeBetaOrigin, "GET", "")
		}

		storeCheckRefused(t, "before the object exists", appUpload(), "PUT", true)

		// The object, put straight into MinIO, is read once the cached
		// "no policy" is older than the ttl.
		storePutObject(t, m, bucket, storePolicyV1)
		storeEventually(t, 15*time.Second, "the stored policy enforced", func() (bool, string) {
			r := appUpload()
			return r.Status == http.StatusOK, fmt.Sprintf("%d %s", r.Status, r.Body)
		})
		storeCheckGranted(t, "v1: app upload", appUpload(), storeGrantV1)
		storeCheckRefused(t, "v1: DELETE, which no rule allows", storePreflight(t, base, "/photos/a.jpg", storeAppOrigin, "DELETE", ""), "DELETE", false)
		storeCheckRefused(t, "v1: beta, which no rule allows", betaRead(), "GET", false)

		// A changed object replaces the policy after the ttl.
		storePutObject(t, m, bucket, storePolicyV2)
		storeEventually(t, 15*time.Second, "the changed policy enforced", func() (bool, string) {
			r := betaRead()
			return r.Status == http.StatusOK, fmt.Sprintf("%d %s", r.Status, r.Body)
		})
		storeCheckGranted(t, "v2: beta read", betaRead(), storeGrantV2)
		storeCheckRefused(t, "v2: the app's upload, no longer allowed", appUpload(), "PUT", false)

		// An object that does not validate: the previous policy stays in
		// force, and the error is logged, naming the bucket and the mistake.
		if n := len(storeLogsFor(storeLogEntries(c.Logs(), storeLoadFailed), bucket)); n != 0 {
			t.Fatalf("%d load failures logged before any bad object", n)
		}
		storePutObject(t, m, bucket, storePolicyBad)
		badAt := time.Now()
		reported := false
		storeEventually(t, 15*time.Second, "the bad object's error logged", func() (bool, string) {
			if r := betaRead(); r.Status != http.StatusOK && !reported {
				reported = true
				t.Errorf("while the bad object is read: beta's preflight %d %s, want the previous policy's 200", r.Status, r.Body)
			}
			n := len(storeLogsFor(storeLogEntries(c.Logs(), storeLoadFailed), bucket))
			return n > 0, fmt.Sprintf("%d lines", n)
		})
		const requests = 25
		for range requests {
			storeCheckGranted(t, "beta read while the stored object is bad", betaRead(), storeGrantV2)
		}
		elapsed := time.Since(badAt)
		lines := storeLogsFor(storeLogEntries(c.Logs(), storeLoadFailed), bucket)
		// The store is read again once per ttl (1s) and a failure is logged
		// at most once per ttl, not once per request.
		if most := int(elapsed/time.Second) + 2; len(lines) > most || len(lines) >= requests {
			t.Errorf("%d %q lines for %s in %v of %d+ requests, want at most %d (one per ttl)", len(lines), storeLoadFailed, bucket, elapsed.Round(time.Millisecond), requests, most)
		}
		for _, l := range lines {
			msg, _ := l["error"].(string)
			for _, want := range []string{"s3://" + storePolicyBucket + "/photos.xml", `"PATCH"`, "unsupported HTTP method"} {
				if !strings.Contains(msg, want) {
					t.Errorf("logged error %q does not mention %s", msg, want)
				}
			}
			if l["previous_policy_kept"] != true || l["level"] != "warn" {
				t.Errorf("log line %v: want level warn and previous_policy_kept true", l)
			}
		}
		storeCheckGranted(t, "beta read after the bad object", betaRead(), storeGrantV2)

		// Deleted: the bucket has no policy again.
		storeDeleteObject(t, m, bucket)
		storeEventually(t, 15*time.Second, "the deletion seen", func() (bool, string) {
			r := betaRead()
			return r.Status == http.StatusForbidden, fmt.Sprintf("%d %s", r.Status, r.Body)
		})
		storeCheckRefused(t, "after the deletion", betaRead(), "GET", true)
		storeCheckRefused(t, "after the deletion", appUpload(), "PUT", true)
	})

	t.Run("StorePolicyPutThroughOneProxyIsEnforcedByItAtOnceAndByAnotherWithinItsTTL", func(t *testing.T) {
		t.Parallel()
		const (
			bucket    = "shared-assets"
			accessKey = "AKIASHAREDSTOREWRITER"
			secretKey = "shared/store/writer+secret/0123456789ab"
		)
		m.CreateBucket(t, bucket)
		writerAddr, readerAddr := testrig.FreeAddr(t), testrig.FreeAddr(t)
		// The writer's ttl is an hour: only the PUT itself can change what
		// it enforces. The reader sees the store within its 2s ttl.
		w := testrig.StartCaddy(t, storeSite(writerAddr, m, "1h", apiBlock(accessKey, secretKey)))
		rd := testrig.StartCaddy(t, storeSite(readerAddr, m, "2s", ""))
		writer, reader := "http://"+writerAddr, "http://"+readerAddr
		upload := func(base string) storeResp {
			return storePreflight(t, base, "/shared-assets/x.bin", storeAppOrigin, "PUT", "content-type,x-amz-date")
		}
		// Both cache "no policy" first.
		storeCheckRefused(t, "writer before the PUT", upload(writer), "PUT", true)
		storeCheckRefused(t, "reader before the PUT", upload(reader), "PUT", true)

		client := apiClient(writer, accessKey, secretKey)
		_, err := client.PutBucketCors(apiCtx(t), &s3.PutBucketCorsInput{
			Bucket: aws.String(bucket),
			CORSConfiguration: &types.CORSConfiguration{CORSRules: apiRulesToSDK([]apiRule{{
				ID: "app-uploads", Origins: []string{storeAppOrigin}, Methods: []string{"PUT", "GET"},
				Headers: []string{"content-type", "x-amz-*"}, Expose: []string{"ETag"}, MaxAge: apiInt(600),
			}})},
		})
		if err != nil {
			t.Fatalf("PutBucketCors through the writer: %v", err)
		}
		storeCheckGranted(t, "writer right after its PUT", upload(writer), storeGrantV1)
		took := storeEventually(t, 12*time.Second, "the reader enforces the PUT", func() (bool, string) {
			r := upload(reader)
			return r.Status == http.StatusOK, fmt.Sprintf("%d %s", r.Status, r.Body)
		})
		t.Logf("the reader enforced the new policy %v after the PUT", took.Round(time.Millisecond))
		storeCheckGranted(t, "reader after its ttl", upload(reader), storeGrantV1)

		if _, err := client.DeleteBucketCors(apiCtx(t), &s3.DeleteBucketCorsInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatalf("DeleteBucketCors through the writer: %v", err)
		}
		storeCheckRefused(t, "writer right after its DELETE", upload(writer), "PUT", true)
		storeEventually(t, 12*time.Second, "the reader drops the deleted policy", func() (bool, string) {
			r := upload(reader)
			return r.Status == http.StatusForbidden, fmt.Sprintf("%d %s", r.Status, r.Body)
		})
		storeCheckRefused(t, "reader after its ttl", upload(reader), "PUT", true)
		for _, c := range []*testrig.Caddy{w, rd} {
			if logs := c.Logs(); strings.Contains(logs, secretKey) || strings.Contains(logs, m.SecretKey) {
				t.Errorf("Caddy %s logged a secret key", c.AdminURL())
			}
		}
	})

	t.Run("AdminAPIShowsPolicySourceAgeAndDropsCacheMetricsCountLoadsAndSurviveReload", func(t *testing.T) {
		t.Parallel()
		const bucket = "admin-docs"
		m.CreateBucket(t, bucket)
		addr := testrig.FreeAddr(t)
		// v1 is in the store before Caddy starts, so its index lists it.
		storePutObject(t, m, bucket, storePolicyV1)
		// A ttl of an hour: only the admin API's DELETE makes the handler
		// read the store again (and its index check the bucket there).
		c := testrig.StartCaddy(t, storeSite(addr, m, "1h", ""))
		base := "http://" + addr
		appUpload := func() storeResp {
			return storePreflight(t, base, "/admin-docs/a.pdf", storeAppOrigin, "PUT", "content-type,x-amz-date")
		}
		betaRead := func() storeResp {
			return storePreflight(t, base, "/admin-docs/a.pdf", storeBetaOrigin, "GET", "")
		}

		loadedBefore := time.Now()
		storeCheckGranted(t, "v1", appUpload(), storeGrantV1)
		loadedAfter := time.Now()

		got := storeAdminPolicy(t, c, bucket)
		if got.Source != "policy_store" || got.Stale {
			t.Errorf("admin: source %q stale %v, want policy_store, not stale", got.Source, got.Stale)
		}
		if most := time.Since(loadedBefore).Seconds(); got.AgeSeconds < 0 || got.AgeSeconds > most {
			t.Errorf("admin: age %vs, want between 0 and %vs (the policy was loaded %v ago at most)", got.AgeSeconds, most, time.Since(loadedAfter))
		}
		apiCheckRules(t, "admin policy (v1)", got.rules(t), []apiRule{{
			ID: "app-uploads", Origins: []string{storeAppOrigin}, Methods: []string{"PUT", "GET"},
			Headers: []string{"content-type", "x-amz-*"}, Expose: []string{"ETag"}, MaxAge: apiInt(600),
		}})

		// Changed in the store: the cached v1 stays for the ttl...
		storePutObject(t, m, bucket, storePolicyV2)
		storeCheckGranted(t, "v1 still cached", appUpload(), storeGrantV1)
		storeCheckRefused(t, "v2 not yet read", betaRead(), "GET", false)

		// ...until the admin API drops the bucket's entry.
		req, _ := http.NewRequest(http.MethodDelete, c.AdminURL()+"/bucket_cors/cache/"+bucket, nil)
		if r := adminDo(t, req); r.Status != http.StatusNoContent {
			t.Fatalf("DELETE /bucket_cors/cache/%s: %d %s, want 204", bucket, r.Status, r.Body)
		}
		storeCheckGranted(t, "v2 right after the cache DELETE", betaRead(), storeGrantV2)
		got = storeAdminPolicy(t, c, bucket)
		if got.Source != "policy_store" {
			t.Errorf("admin after the DELETE: source %q, want policy_store", got.Source)
		}
		apiCheckRules(t, "admin policy (v2)", got.rules(t), []apiRule{{
			ID: "beta-read", Origins: []string{storeBetaOrigin}, Methods: []string{"GET", "HEAD"}, MaxAge: apiInt(60),
		}})

		none := storeAdminPolicy(t, c, "admin-nothing")
		if none.Source != "none" || string(none.Policy) != "null" {
			t.Errorf("admin of a bucket without policy: source %q policy %s, want none and null", none.Source, none.Policy)
		}

		// Every lookup above is counted: two reads of the store that found
		// a policy (v1, then v2 after the DELETE), one that found nothing
		// anywhere (admin-nothing); four answers from the cache.
		want := map[string]float64{
			storeSeries("bucketcors_policy_loads_total", "source=policy_store", "result=found"): 2,
			storeSeries("bucketcors_policy_loads_total", "source=none", "result=not_found"):     1,
			storeSeries("bucketcors_cache_hits_total"):                                          4,
			storeSeries("bucketcors_cache_misses_total"):                                        3,
			storeSeries("bucketcors_cache_stale_serves_total"):                                  0,
			storeSeries("bucketcors_cache_evictions_total"):                                     0,
			storeSeries("bucketcors_cache_entries"):                                             2,
		}
		before := storeMetrics(t, c.AdminURL())
		storeCheckMetrics(t, "after the requests", before, want)

		// Reload the same Caddyfile. Caddy skips a reload of an unchanged
		// config, so the rig's Reload changes nothing...
		logsBefore := len(c.Logs())
		c.Reload(t, storeSite(addr, m, "1h", ""))
		// Caddy's log reaches the rig through a pipe: wait for the line.
		storeEventually(t, 10*time.Second, "Caddy reporting the same Caddyfile as unchanged", func() (bool, string) {
			return strings.Contains(c.Logs()[logsBefore:], `"config is unchanged"`), ""
		})
		// ...and a forced one provisions new handlers: the counters go on.
		storeForceReload(t, c)
		after := storeMetrics(t, c.AdminURL())
		for series, v := range before {
			if strings.HasSuffix(series, "_total") || strings.Contains(series, "_total{") {
				if after[series] < v {
					t.Errorf("after the reload %s = %v, was %v", series, after[series], v)
				}
			}
		}
		// The new handler shares the old one's cache, since its sources are
		// the same: the next request is answered from it, with no store read.
		storeCheckGranted(t, "v2 after the reload", betaRead(), storeGrantV2)
		want[storeSeries("bucketcors_cache_hits_total")] = 5
		storeCheckMetrics(t, "after the reload and one request", storeMetrics(t, c.AdminURL()), want)
		if errs := storeErrorLines(c.Logs()[logsBefore:]); len(errs) > 0 {
			t.Errorf("errors logged by the reload:\n%s", strings.Join(errs, "\n"))
		}
	})

	t.Run("OriginMinIOAnswersNoSuchCORSConfigurationWhichIsNoPolicy", func(t *testing.T) {
		t.Parallel()
		const bucket = "origin-plain"
		m.CreateBucket(t, bucket)
		// What the free MinIO server answers to GetBucketCors.
		storeMinIOHasNoCORS(t, m, bucket)

		addr := testrig.FreeAddr(t)
		c := testrig.StartCaddy(t, storeOriginSite(addr, m))
		base := "http://" + addr
		// NoSuchCORSConfiguration (and NoSuchBucket) are "no policy": S3's
		// 403, not the 503 of a source that fails.
		storeCheckRefused(t, "a MinIO bucket without CORS", storePreflight(t, base, "/origin-plain/a.txt", storeAppOrigin, "GET", ""), "GET", true)
		storeCheckRefused(t, "a bucket MinIO does not have", storePreflight(t, base, "/origin-missing/a.txt", storeAppOrigin, "GET", ""), "GET", true)
		if lines := storeLogEntries(c.Logs(), storeLoadFailed); len(lines) > 0 {
			t.Errorf("MinIO's answer was logged as a failure: %v", lines)
		}
		storeCheckMetrics(t, "policy_origin on MinIO", storeMetrics(t, c.AdminURL()), map[string]float64{
			storeSeries("bucketcors_policy_loads_total", "source=none", "result=not_found"):      2,
			storeSeries("bucketcors_policy_loads_total", "source=policy_origin", "result=error"): 0,
		})
	})

	// A name the module takes for a bucket (capitals, "_", under 3
	// characters) but MinIO refuses: MinIO answers GetBucketCors with 400
	// InvalidBucketName, which says as surely as NoSuchBucket that the
	// bucket has no CORS. It is "no policy", cached like any other answer,
	// not a failing source (503, a warning, and a GetBucketCors per request).
	t.Run("OriginMinIOInvalidBucketNameIsNoPolicyNotAFailingSource", func(t *testing.T) {
		t.Parallel()
		const bucket = "Not_A_MinIO_Bucket"
		_, err := m.Client(t, func(o *s3.Options) { o.RetryMaxAttempts = 1 }).GetBucketCors(apiCtx(t), &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
		if code, status := storeAPIError(err); code != "InvalidBucketName" || status != http.StatusBadRequest {
			t.Errorf("MinIO's own GetBucketCors %s: %d %s (%v), want 400 InvalidBucketName", bucket, status, code, err)
		}

		addr := testrig.FreeAddr(t)
		c := testrig.StartCaddy(t, storeOriginSite(addr, m))
		base := "http://" + addr
		for i := range 3 {
			storeCheckRefused(t, fmt.Sprintf("preflight %d for %s", i+1, bucket), storePreflight(t, base, "/"+bucket+"/a.txt", storeAppOrigin, "GET", ""), "GET", true)
		}
		if lines := storeLogEntries(c.Logs(), storeLoadFailed); len(lines) > 0 {
			t.Errorf("MinIO's InvalidBucketName was logged as a failure: %v", lines)
		}
		storeCheckMetrics(t, "policy_origin on MinIO, invalid bucket name", storeMetrics(t, c.AdminURL()), map[string]float64{
			storeSeries("bucketcors_policy_loads_total", "source=none", "result=not_found"):      1,
			storeSeries("bucketcors_policy_loads_total", "source=policy_origin", "result=error"): 0,
		})
	})
}

// storeOriginSite is a site at addr whose bucket policies are MinIO's own
// GetBucketCors, in front of MinIO.
func storeOriginSite(addr string, m *testrig.MinIO) string {
	return fmt.Sprintf(`http://%s {
	bucket_cors {
		policy_origin {
			endpoint %s
			access_key %s
			secret_key %s
		}
	}
	reverse_proxy %s
}
`, addr, m.Endpoint, m.AccessKey, m.SecretKey, strings.TrimPrefix(m.Endpoint, "http://"))
}

// storeR2Policy is a recorded S3 GetBucketCors answer body, as R2 and S3
// send it: S3's namespace, two rules with IDs.
const storeR2Policy = `<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><ID>app-uploads</ID><AllowedHeader>content-type</AllowedHeader><AllowedHeader>x-amz-meta-*</AllowedHeader><AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod><AllowedOrigin>https://app.example.com</AllowedOrigin><ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule><CORSRule><ID>public-read</ID><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>300</MaxAgeSeconds></CORSRule></CORSConfiguration>`

// storeNoSuchCORS is S3's answer for a bucket without CORS configuration.
const storeNoSuchCORS = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchCORSConfiguration</Code><Message>The CORS configuration does not exist</Message><BucketName>%s</BucketName><RequestId>4442587FB7D0A2F9</RequestId></Error>`

// storeStandIn stands in for R2 or S3: it answers GetBucketCors (GET
// /<bucket>?cors) with recorded bodies, and records every request. It
// answers nothing else.
type storeStandIn struct {
	mu       sync.Mutex
	corsGets []storeSeenRequest
	others   []string
}

func (s *storeStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != http.MethodGet || !r.URL.Query().Has("cors") {
		s.others = append(s.others, r.Method+" "+r.RequestURI)
		http.Error(w, "the stand-in answers GetBucketCors only", http.StatusNotImplemented)
		return
	}
	s.corsGets = append(s.corsGets, storeSeenRequest{Method: r.Method, Host: r.Host, RequestURI: r.RequestURI, Header: r.Header.Clone()})
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", "4442587FB7D0A2F9")
	w.Header().Set("Server", "AmazonS3")
	switch bucket := strings.Trim(r.URL.Path, "/"); bucket {
	case "r2-photos":
		fmt.Fprint(w, storeR2Policy)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, storeNoSuchCORS, bucket)
	}
}

func (s *storeStandIn) seen() ([]storeSeenRequest, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]storeSeenRequest(nil), s.corsGets...), append([]string(nil), s.others...)
}

// TestPolicyOriginEnforcesGetBucketCorsOfStandInSignedWithSigV4 has Caddy
// read each bucket's policy from a stand-in for R2 with GetBucketCors, and
// enforce it rule by rule.
func TestPolicyOriginEnforcesGetBucketCorsOfStandInSignedWithSigV4(t *testing.T) {
	t.Parallel()
	const (
		accessKey = "r2accesskey0000000000000000000000"
		secretKey = "r2secretkey/0000000000000000000000000000000000000000000000000000"
	)
	standIn := &storeStandIn{}
	srv := httptest.NewServer(standIn)
	t.Cleanup(srv.Close)
	addr := testrig.FreeAddr(t)
	c := testrig.StartCaddy(t, fmt.Sprintf(`http://%s {
	bucket_cors {
		policy_origin {
			endpoint %s
			region auto
			access_key %s
			secret_key %s
		}
	}
	reverse_proxy %s
}
`, addr, srv.URL, accessKey, secretKey, srv.Listener.Addr()))
	base := "http://" + addr

	// Rule 1 (app-uploads): the app's upload with metadata headers.
	storeCheckGranted(t, "app PUT", storePreflight(t, base, "/r2-photos/u/a.jpg", storeAppOrigin, "PUT", "content-type,x-amz-meta-owner"), storeGrant{
		"Access-Control-Allow-Origin":      storeAppOrigin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "PUT, POST",
		"Access-Control-Allow-Headers":     "content-type, x-amz-meta-owner",
		"Access-Control-Expose-Headers":    "ETag, x-amz-request-id",
		"Access-Control-Max-Age":           "3000",
	})
	// Rule 2 (public-read): any origin may GET, answered with *.
	storeCheckGranted(t, "any origin GET", storePreflight(t, base, "/r2-photos/u/a.jpg", "https://elsewhere.example.org", "GET", ""), storeGrant{
		"Access-Control-Allow-Origin":  "*",
		"Access-Control-Allow-Methods": "GET, HEAD",
		"Access-Control-Max-Age":       "300",
	})
	// The first rule that matches wins: the app's GET is rule 2's.
	storeCheckGranted(t, "app GET", storePreflight(t, base, "/r2-photos/u/a.jpg", storeAppOrigin, "GET", ""), storeGrant{
		"Access-Control-Allow-Origin":  "*",
		"Access-Control-Allow-Methods": "GET, HEAD",
		"Access-Control-Max-Age":       "300",
	})
	for _, tc := range []struct{ what, origin, method, headers string }{
		{"app DELETE", storeAppOrigin, "DELETE", ""},
		{"another origin's PUT", "https://elsewhere.example.org", "PUT", "content-type"},
		{"app PUT with a header no rule allows", storeAppOrigin, "PUT", "authorization,content-type"},
	} {
		storeCheckRefused(t, tc.what, storePreflight(t, base, "/r2-photos/u/a.jpg", tc.origin, tc.method, tc.headers), tc.method, false)
	}
	// A bucket the stand-in has no CORS for: no policy.
	storeCheckRefused(t, "a bucket without CORS", storePreflight(t, base, "/r2-empty/a.jpg", storeAppOrigin, "GET", ""), "GET", true)

	gets, others := standIn.seen()
	if len(others) > 0 {
		t.Errorf("the stand-in received requests other than GetBucketCors: %v", others)
	}
	// One read per bucket within the cache's ttl (default 30s), however many
	// preflights.
	var calls []string
	for _, g := range gets {
		path, query, _ := strings.Cut(g.RequestURI, "?")
		if query != "cors" && query != "cors=" { // the SDK sends "cors="
			t.Errorf("GetBucketCors %s: query %q, want cors alone", path, query)
		}
		calls = append(calls, g.Method+" "+path)
		storeCheckSigV4(t, g, accessKey, secretKey, "auto")
	}
	if strings.Join(calls, ", ") != "GET /r2-photos, GET /r2-empty" {
		t.Errorf("the stand-in received GetBucketCors %v, want one for r2-photos then one for r2-empty", calls)
	}
	if strings.Contains(c.Logs(), secretKey) {
		t.Error("Caddy's log holds the policy_origin secret key")
	}
}

// storeAdminAnswer is one handler's answer of GET /bucket_cors/policies/<b>.
type storeAdminAnswer struct {
	Source     string          `json:"source"`
	AgeSeconds float64         `json:"age_seconds"`
	Stale      bool            `json:"stale"`
	Policy     json.RawMessage `json:"policy"`
	// ETag is the store object's ETag, for a policy_store policy; CheckedAt
	// (RFC 3339) is when the store last confirmed that version.
	ETag      string `json:"etag"`
	CheckedAt string `json:"checked_at"`
}

// rules decodes the answer's policy, R2 JSON.
func (a storeAdminAnswer) rules(t testing.TB) []apiRule {
	t.Helper()
	var rules []struct {
		ID             string
		AllowedOrigins []string
		AllowedMethods []string
		AllowedHeaders []string
		ExposeHeaders  []string
		MaxAgeSeconds  *int
	}
	if err := json.Unmarshal(a.Policy, &rules); err != nil {
		t.Errorf("admin policy %s is not R2 JSON: %v", a.Policy, err)
	}
	var out []apiRule
	for _, r := range rules {
		out = append(out, apiRule{ID: r.ID, Origins: r.AllowedOrigins, Methods: r.AllowedMethods,
			Headers: r.AllowedHeaders, Expose: r.ExposeHeaders, MaxAge: r.MaxAgeSeconds}.normal())
	}
	return out
}

// storeAdminPolicy reads GET {admin}/bucket_cors/policies/<bucket> of a
// Caddy with one bucket_cors handler.
func storeAdminPolicy(t testing.TB, c *testrig.Caddy, bucket string) storeAdminAnswer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.AdminURL()+"/bucket_cors/policies/"+bucket, nil)
	r := adminDo(t, req)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /bucket_cors/policies/%s: %d %s %s", bucket, r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	var ans struct {
		Bucket   string             `json:"bucket"`
		Handlers []storeAdminAnswer `json:"handlers"`
	}
	if err := json.Unmarshal([]byte(r.Body), &ans); err != nil {
		t.Fatalf("GET /bucket_cors/policies/%s: %v\n%s", bucket, err, r.Body)
	}
	if ans.Bucket != bucket || len(ans.Handlers) != 1 {
		t.Fatalf("GET /bucket_cors/policies/%s: bucket %q, %d handlers, want 1: %s", bucket, ans.Bucket, len(ans.Handlers), r.Body)
	}
	return ans.Handlers[0]
}

// storeCheckMetrics checks each wanted series; a wanted 0 may also be
// absent.
func storeCheckMetrics(t testing.TB, what string, got, want map[string]float64) {
	t.Helper()
	for series, v := range want {
		g, ok := got[series]
		if (!ok && v != 0) || g != v {
			t.Errorf("%s: %s = %v (present %v), want %v", what, series, g, ok, v)
		}
	}
}
