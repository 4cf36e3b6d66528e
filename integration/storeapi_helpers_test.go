package integration

// Helpers of store_test.go and corsapi_test.go: the policy sources, the admin
// API and the edge S3 CORS API. Every name starts with store or api so that
// it cannot clash with the other files of the package.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// storePolicyBucket is the MinIO bucket that holds the policy objects.
const storePolicyBucket = "cors-policies"

// storePreflightVary is the Vary of every preflight answer.
const storePreflightVary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

// S3's messages of a refused preflight, word for word.
const (
	storeMsgNotEnabled = "CORSResponse: CORS is not enabled for this bucket."
	storeMsgNotAllowed = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
)

// storeHTTP is the client of every plain request; it never follows redirects.
var storeHTTP = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// storeResp is a response read whole.
type storeResp struct {
	Status int
	Header http.Header
	Body   string
}

// storeDo sends req and reads the whole answer.
func storeDo(t testing.TB, req *http.Request) storeResp {
	t.Helper()
	return storeDoWith(t, storeHTTP, req)
}

// adminDo sends req to Caddy's admin endpoint and reads the whole answer.
func adminDo(t testing.TB, req *http.Request) storeResp {
	t.Helper()
	return storeDoWith(t, testrig.AdminClient, req)
}

func storeDoWith(t testing.TB, client *http.Client, req *http.Request) storeResp {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return storeResp{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// storePreflight sends a browser's preflight: OPTIONS with Origin,
// Access-Control-Request-Method and, when not empty,
// Access-Control-Request-Headers (browsers send it lower case, comma-separated).
func storePreflight(t testing.TB, baseURL, path, origin, method, requestHeaders string) storeResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, baseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	if requestHeaders != "" {
		req.Header.Set("Access-Control-Request-Headers", requestHeaders)
	}
	return storeDo(t, req)
}

// storeCORSHeaders returns the Access-Control-* headers of h, each with its
// lines joined by "\n" (so a repeated header shows).
func storeCORSHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			out[http.CanonicalHeaderKey(k)] = strings.Join(v, "\n")
		}
	}
	return out
}

// storeGrant is the Access-Control-* headers a granted preflight carries.
type storeGrant map[string]string

// storeCheckGranted checks a preflight answered 200 with an empty body,
// exactly the want Access-Control-* headers (no others) and the preflight
// Vary.
func storeCheckGranted(t testing.TB, what string, r storeResp, want storeGrant) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Errorf("%s: status %d, want 200; body %q", what, r.Status, r.Body)
		return
	}
	if r.Body != "" {
		t.Errorf("%s: body %q, want none", what, r.Body)
	}
	wantCanon := map[string]string{}
	for k, v := range want {
		wantCanon[http.CanonicalHeaderKey(k)] = v
	}
	if got := storeCORSHeaders(r.Header); !reflect.DeepEqual(got, wantCanon) {
		t.Errorf("%s: Access-Control-* headers\n got %v\nwant %v", what, got, wantCanon)
	}
	if got := strings.Join(r.Header.Values("Vary"), ", "); got != storePreflightVary {
		t.Errorf("%s: Vary %q, want %q", what, got, storePreflightVary)
	}
}

// storeS3Error is the XML body of an S3 error answer.
type storeS3Error struct {
	XMLName      xml.Name `xml:"Error"`
	Code         string   `xml:"Code"`
	Message      string   `xml:"Message"`
	Method       string   `xml:"Method"`
	ResourceType string   `xml:"ResourceType"`
	Resource     string   `xml:"Resource"`
	BucketName   string   `xml:"BucketName"`
}

// storeParseS3Error decodes an S3 error body, failing the test when it is
// not one.
func storeParseS3Error(t testing.TB, what, body string) storeS3Error {
	t.Helper()
	var e storeS3Error
	if err := xml.Unmarshal([]byte(body), &e); err != nil {
		t.Errorf("%s: the body is not an S3 XML error (%v): %q", what, err, body)
	}
	return e
}

// storeCheckRefused checks a preflight refused with S3's 403: an XML
// AccessForbidden naming the method, no Access-Control-* header, the
// preflight Vary. notEnabled tells "CORS is not enabled" (the bucket has no
// policy) from "This CORS request is not allowed" (no rule matched).
func storeCheckRefused(t testing.TB, what string, r storeResp, method string, notEnabled bool) {
	t.Helper()
	msg, resource := storeMsgNotAllowed, "OBJECT"
	if notEnabled {
		msg, resource = storeMsgNotEnabled, "BUCKET"
	}
	if r.Status != http.StatusForbidden {
		t.Errorf("%s: status %d, want 403 %q; body %q", what, r.Status, msg, r.Body)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("%s: Content-Type %q, want application/xml", what, ct)
	}
	if got := storeCORSHeaders(r.Header); len(got) != 0 {
		t.Errorf("%s: a refusal carries Access-Control-* headers: %v", what, got)
	}
	if got := strings.Join(r.Header.Values("Vary"), ", "); got != storePreflightVary {
		t.Errorf("%s: Vary %q, want %q", what, got, storePreflightVary)
	}
	e := storeParseS3Error(t, what, r.Body)
	if e.Code != "AccessForbidden" || e.Message != msg || e.Method != method || e.ResourceType != resource {
		t.Errorf("%s: error %+v, want AccessForbidden %q, Method %s, ResourceType %s", what, e, msg, method, resource)
	}
}

// storeEventually calls check every 100ms until it reports true or timeout
// passes; then the test fails with what and check's last description.
func storeEventually(t testing.TB, timeout time.Duration, what string, check func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		ok, last := check()
		if ok {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// storeSite is a Caddyfile site block at addr with a bucket_cors handler
// that reads policies from MinIO's policy bucket, with the given cache ttl,
// and any extra bucket_cors subdirectives (a cors_api block), in front of
// MinIO.
func storeSite(addr string, m *testrig.MinIO, ttl, extra string) string {
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
			ttl %s
		}
%s	}
	reverse_proxy %s
}
`, addr, m.Endpoint, storePolicyBucket, m.Region, m.AccessKey, m.SecretKey, ttl, extra, strings.TrimPrefix(m.Endpoint, "http://"))
}

// apiBlock is a cors_api block with one key pair.
func apiBlock(accessKey, secretKey string) string {
	return fmt.Sprintf("\t\tcors_api {\n\t\t\taccess_key %s\n\t\t\tsecret_key %s\n\t\t}\n", accessKey, secretKey)
}

// storeLogEntries returns the JSON log lines of Caddy whose msg is msg,
// decoded; lines that are not JSON are skipped.
func storeLogEntries(logs, msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(logs, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) != nil {
			continue
		}
		if entry["msg"] == msg {
			out = append(out, entry)
		}
	}
	return out
}

// storeLogsFor returns the entries whose bucket field is bucket.
func storeLogsFor(entries []map[string]any, bucket string) []map[string]any {
	var out []map[string]any
	for _, e := range entries {
		if e["bucket"] == bucket {
			out = append(out, e)
		}
	}
	return out
}

// storeErrorLines returns Caddy's log lines at level error or above.
func storeErrorLines(logs string) []string {
	var out []string
	for _, line := range strings.Split(logs, "\n") {
		var entry struct {
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(strings.TrimSpace(line)), &entry) != nil {
			continue
		}
		switch entry.Level {
		case "error", "dpanic", "panic", "fatal":
			out = append(out, line)
		}
	}
	return out
}

// storePutObject puts a policy object straight into MinIO's policy bucket,
// as an operator (or another tool) would.
func storePutObject(t testing.TB, m *testrig.MinIO, bucket, body string) {
	t.Helper()
	m.PutObject(t, storePolicyBucket, bucket+".xml", []byte(body), "application/xml")
}

// storeDeleteObject deletes a policy object straight from MinIO.
func storeDeleteObject(t testing.TB, m *testrig.MinIO, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := m.Client(t).DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(storePolicyBucket), Key: aws.String(bucket + ".xml"),
	}); err != nil {
		t.Fatalf("deleting %s/%s.xml: %v", storePolicyBucket, bucket, err)
	}
}

// storeMinIOHasNoCORS checks that MinIO itself keeps no CORS configuration
// for bucket: its GetBucketCors answers 404 NoSuchCORSConfiguration.
func storeMinIOHasNoCORS(t testing.TB, m *testrig.MinIO, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := m.Client(t, func(o *s3.Options) { o.RetryMaxAttempts = 1 }).GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
	if err == nil {
		t.Errorf("MinIO's own GetBucketCors %s succeeded with %d rules; want NoSuchCORSConfiguration", bucket, len(out.CORSRules))
		return
	}
	code, status := storeAPIError(err)
	if code != "NoSuchCORSConfiguration" || status != http.StatusNotFound {
		t.Errorf("MinIO's own GetBucketCors %s: %d %s (%v); want 404 NoSuchCORSConfiguration", bucket, status, code, err)
	}
}

// storeAPIError returns the S3 error code and HTTP status of an SDK error.
func storeAPIError(err error) (string, int) {
	code, status := "", 0
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// apiClient is an aws-sdk-go-v2 S3 client of endpoint (path-style) with a
// key pair, making one attempt per call so that an error shows at once.
func apiClient(endpoint, accessKey, secretKey string) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		RetryMaxAttempts: 1,
	})
}

// apiCtx bounds one SDK call.
func apiCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// apiRule is a CORS rule in a form every client's answer converts to, so
// that rules compare field by field.
type apiRule struct {
	ID      string
	Origins []string
	Methods []string
	Headers []string
	Expose  []string
	MaxAge  *int
}

func apiInt(n int) *int { return &n }

// apiOrNil turns an empty list into nil, as clients tell them apart
// differently.
func apiOrNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func (r apiRule) normal() apiRule {
	r.Origins, r.Methods, r.Headers, r.Expose = apiOrNil(r.Origins), apiOrNil(r.Methods), apiOrNil(r.Headers), apiOrNil(r.Expose)
	return r
}

// apiRulesFromSDK converts the SDK's rules.
func apiRulesFromSDK(rules []types.CORSRule) []apiRule {
	var out []apiRule
	for _, r := range rules {
		rule := apiRule{
			ID: aws.ToString(r.ID), Origins: r.AllowedOrigins, Methods: r.AllowedMethods,
			Headers: r.AllowedHeaders, Expose: r.ExposeHeaders,
		}
		if r.MaxAgeSeconds != nil {
			rule.MaxAge = apiInt(int(*r.MaxAgeSeconds))
		}
		out = append(out, rule.normal())
	}
	return out
}

// apiRulesToSDK converts rules for PutBucketCors.
func apiRulesToSDK(rules []apiRule) []types.CORSRule {
	var out []types.CORSRule
	for _, r := range rules {
		rule := types.CORSRule{
			AllowedOrigins: r.Origins, AllowedMethods: r.Methods,
			AllowedHeaders: r.Headers, ExposeHeaders: r.Expose,
		}
		if r.ID != "" {
			rule.ID = aws.String(r.ID)
		}
		if r.MaxAge != nil {
			rule.MaxAgeSeconds = aws.Int32(int32(*r.MaxAge))
		}
		out = append(out, rule)
	}
	return out
}

// apiXMLConfig is an S3 CORSConfiguration document in S3's namespace; a
// document in another namespace (or none) does not decode.
type apiXMLConfig struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CORSConfiguration"`
	Rules   []struct {
		ID            string   `xml:"ID"`
		AllowedOrigin []string `xml:"AllowedOrigin"`
		AllowedMethod []string `xml:"AllowedMethod"`
		AllowedHeader []string `xml:"AllowedHeader"`
		ExposeHeader  []string `xml:"ExposeHeader"`
		MaxAgeSeconds *int     `xml:"MaxAgeSeconds"`
	} `xml:"CORSRule"`
}

// apiRulesFromXML decodes an S3 XML CORSConfiguration in S3's namespace.
func apiRulesFromXML(t testing.TB, what string, body []byte) []apiRule {
	t.Helper()
	var doc apiXMLConfig
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Errorf("%s: not an S3 CORSConfiguration in S3's namespace: %v\n%s", what, err, body)
		return nil
	}
	var out []apiRule
	for _, r := range doc.Rules {
		out = append(out, apiRule{
			ID: r.ID, Origins: r.AllowedOrigin, Methods: r.AllowedMethod,
			Headers: r.AllowedHeader, Expose: r.ExposeHeader, MaxAge: r.MaxAgeSeconds,
		}.normal())
	}
	return out
}

// apiCheckRules compares rules field by field.
func apiCheckRules(t testing.TB, what string, got, want []apiRule) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rules, want %d: %+v", what, len(got), len(want), got)
		return
	}
	for i := range want {
		g, w := got[i], want[i].normal()
		for _, f := range []struct {
			name      string
			got, want any
		}{
			{"ID", g.ID, w.ID},
			{"AllowedOrigins", g.Origins, w.Origins},
			{"AllowedMethods", g.Methods, w.Methods},
			{"AllowedHeaders", g.Headers, w.Headers},
			{"ExposeHeaders", g.Expose, w.Expose},
			{"MaxAgeSeconds", apiShowInt(g.MaxAge), apiShowInt(w.MaxAge)},
		} {
			if !reflect.DeepEqual(f.got, f.want) {
				t.Errorf("%s: rule %d %s = %v, want %v", what, i+1, f.name, f.got, f.want)
			}
		}
	}
}

func apiShowInt(p *int) string {
	if p == nil {
		return "unset"
	}
	return strconv.Itoa(*p)
}

// apiRegion is the region the cors_api calls are signed for (its default).
const apiRegion = "us-east-1"

// apiSigner returns a signer that signs as S3 clients do: the path as sent,
// not escaped again. A new one for every request: a Signer caches the key it
// derives by access key, region and day, not by secret, so one reused after
// signing with a wrong secret would go on signing with it.
func apiSigner() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

// apiSHA256 is the hex SHA-256 of body, the value of x-amz-content-sha256.
func apiSHA256(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// apiSigned builds a request signed in its Authorization header (SigV4) with
// the key pair at the time at. header is set before signing, so it is
// signed; x-amz-content-sha256 is the SHA-256 of body.
func apiSigned(t testing.TB, method, rawURL string, body []byte, accessKey, secretKey string, at time.Time, header map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(body) == 0 {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	hash := apiSHA256(body)
	req.Header.Set("X-Amz-Content-Sha256", hash)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	if err := apiSigner().SignHTTP(context.Background(), creds, req, hash, "s3", apiRegion, at); err != nil {
		t.Fatalf("signing %s %s: %v", method, rawURL, err)
	}
	return req
}

// apiPresigned returns a URL presigned (SigV4 query) for method at the time
// at, valid for expires.
func apiPresigned(t testing.TB, method, rawURL, accessKey, secretKey string, at time.Time, expires time.Duration) string {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := req.URL.Query()
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	req.URL.RawQuery = q.Encode()
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	signed, _, err := apiSigner().PresignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", apiRegion, at)
	if err != nil {
		t.Fatalf("presigning %s %s: %v", method, rawURL, err)
	}
	return signed
}

// storeSeenRequest is what a stand-in server received.
type storeSeenRequest struct {
	Method, Host, RequestURI string
	Header                   http.Header
}

// storeAuthRE reads a SigV4 Authorization header.
var storeAuthRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$`)

// storeCheckSigV4 checks that seen carries a valid SigV4 signature of the
// key pair for region: its Authorization names the key and region, and
// signing the request as received again with the secret gives the same
// signature.
func storeCheckSigV4(t testing.TB, seen storeSeenRequest, accessKey, secretKey, region string) {
	t.Helper()
	auth := seen.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		t.Errorf("%s %s: Authorization %q is not AWS4-HMAC-SHA256", seen.Method, seen.RequestURI, auth)
		return
	}
	m := storeAuthRE.FindStringSubmatch(auth)
	if m == nil {
		t.Errorf("%s %s: Authorization %q is not Credential=.../s3/aws4_request, SignedHeaders, Signature", seen.Method, seen.RequestURI, auth)
		return
	}
	key, date, gotRegion, signedHeaders := m[1], m[2], m[3], m[4]
	if key != accessKey || gotRegion != region {
		t.Errorf("%s %s: signed with key %q for region %q, want key %q, region %q", seen.Method, seen.RequestURI, key, gotRegion, accessKey, region)
	}
	at, err := time.Parse("20060102T150405Z", seen.Header.Get("X-Amz-Date"))
	if err != nil || at.Format("20060102") != date {
		t.Errorf("%s %s: X-Amz-Date %q does not match the credential's date %s", seen.Method, seen.RequestURI, seen.Header.Get("X-Amz-Date"), date)
		return
	}
	if d := time.Since(at); d < -time.Minute || d > 5*time.Minute {
		t.Errorf("%s %s: signed at %v, %v from now", seen.Method, seen.RequestURI, at, d)
	}
	payloadHash := seen.Header.Get("X-Amz-Content-Sha256")
	if seen.Method == http.MethodGet && payloadHash != apiSHA256(nil) {
		t.Errorf("%s %s: x-amz-content-sha256 %q, want the hash of an empty body", seen.Method, seen.RequestURI, payloadHash)
	}
	// Sign the request again from what was received: its method, path and
	// query as sent, and the signed headers only.
	u, err := url.Parse("http://" + seen.Host + seen.RequestURI)
	if err != nil {
		t.Fatal(err)
	}
	again := &http.Request{Method: seen.Method, URL: u, Host: seen.Host, Header: http.Header{}}
	for _, name := range strings.Split(signedHeaders, ";") {
		switch name {
		case "host":
		case "content-length":
			again.ContentLength, _ = strconv.ParseInt(seen.Header.Get("Content-Length"), 10, 64)
		default:
			again.Header[http.CanonicalHeaderKey(name)] = seen.Header.Values(name)
		}
	}
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	if err := apiSigner().SignHTTP(context.Background(), creds, again, payloadHash, "s3", region, at); err != nil {
		t.Fatal(err)
	}
	want := again.Header.Get("Authorization")
	if auth != want {
		t.Errorf("%s %s: the signature does not verify with the configured secret:\n got  %s\n want %s", seen.Method, seen.RequestURI, auth, want)
	}
}

// storeMetrics reads Caddy's Prometheus metrics from the admin endpoint:
// series (name{label="value",...}, labels sorted) to value, for the
// bucketcors_ metrics.
func storeMetrics(t testing.TB, adminURL string) map[string]float64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, adminURL+"/metrics", nil)
	r := adminDo(t, req)
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s/metrics: %d %s", adminURL, r.Status, r.Body)
	}
	out := map[string]float64{}
	line := regexp.MustCompile(`^(bucketcors_[a-z_]+)(?:\{([^}]*)\})? (\S+)$`)
	label := regexp.MustCompile(`([a-zA-Z_]+)="([^"]*)"`)
	for _, l := range strings.Split(r.Body, "\n") {
		m := line.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		var labels []string
		for _, lm := range label.FindAllStringSubmatch(m[2], -1) {
			labels = append(labels, lm[1]+"="+lm[2])
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", l, err)
		}
		out[storeSeries(m[1], labels...)] = v
	}
	return out
}

// storeSeries names a series: storeSeries("x_total", "source=a", "result=b").
func storeSeries(name string, labels ...string) string {
	labels = append([]string(nil), labels...)
	sort.Strings(labels)
	if len(labels) == 0 {
		return name
	}
	return name + "{" + strings.Join(labels, ",") + "}"
}

// storeForceReload loads the running Caddyfile again through the admin
// endpoint with Cache-Control: must-revalidate. Caddy skips a /load of an
// unchanged config ("config is unchanged") unless told so; this makes it
// provision every handler anew, as a reload of a changed file does.
func storeForceReload(t testing.TB, c *testrig.Caddy) {
	t.Helper()
	// The rig keeps the Caddyfile it runs, global options added, in c.Dir.
	file, err := os.ReadFile(filepath.Join(c.Dir, "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.AdminURL()+"/load", bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/caddyfile")
	req.Header.Set("Cache-Control", "must-revalidate")
	if r := adminDo(t, req); r.Status != http.StatusOK {
		t.Fatalf("POST /load (must-revalidate): %d %s", r.Status, r.Body)
	}
}
