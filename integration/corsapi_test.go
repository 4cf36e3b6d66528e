package integration

// The S3 bucket CORS API at the edge: PutBucketCors, GetBucketCors and
// DeleteBucketCors answered by Caddy (cors_api) and kept in a policy_store
// on a real MinIO, called by aws-sdk-go-v2, the AWS CLI and hand-signed
// requests.

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// The key pair of the cors_api.
const (
	apiAccessKey = "AKIAEDGECORSAPI00001"
	apiSecretKey = "edge+cors/api/secret/0123456789abcdefABCD"
)

// apiCallLog is the module's log message of a CORS API call.
const apiCallLog = "cors_api call"

// TestCORSAPIOnMinIO runs the edge CORS API of one Caddy, in front of one
// MinIO that also holds the policy store. A second site of the same Caddy
// has bucket_cors without cors_api.
func TestCORSAPIOnMinIO(t *testing.T) {
	t.Parallel()
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	apiAddr, plainAddr := testrig.FreeAddr(t), testrig.FreeAddr(t)
	c := testrig.StartCaddy(t, storeSite(apiAddr, m, "1h", apiBlock(apiAccessKey, apiSecretKey))+"\n"+storeSite(plainAddr, m, "1h", ""))
	api, plain := "http://"+apiAddr, "http://"+plainAddr
	t.Cleanup(func() {
		// After every subtest: no secret reached the log.
		logs := c.Logs()
		for what, secret := range map[string]string{"the cors_api secret": apiSecretKey, "the policy store's secret": m.SecretKey} {
			if strings.Contains(logs, secret) {
				t.Errorf("Caddy's log holds %s", what)
			}
		}
	})

	t.Run("SDKPutGetDeleteRoundTripIsEnforcedStoredAndNeverReachesMinIO", func(t *testing.T) {
		t.Parallel()
		const bucket = "sdk-uploads"
		m.CreateBucket(t, bucket)
		rules := []apiRule{
			{ID: "browser-uploads", Origins: []string{"https://app.example.com", "https://*.preview.example.com"},
				Methods: []string{"PUT", "POST"}, Headers: []string{"content-type", "x-amz-*"},
				Expose: []string{"ETag", "x-amz-version-id"}, MaxAge: apiInt(3000)},
			{ID: "public-read", Origins: []string{"*"}, Methods: []string{"GET", "HEAD"}},
		}
		client := apiClient(api, apiAccessKey, apiSecretKey)
		upload := func() storeResp {
			return storePreflight(t, api, "/sdk-uploads/photos/cat.jpg", "https://app.example.com", "PUT", "content-type,x-amz-meta-author")
		}
		storeCheckRefused(t, "before the PUT", upload(), "PUT", true)
		_, err := client.GetBucketCors(apiCtx(t), &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
		if code, status := storeAPIError(err); code != "NoSuchCORSConfiguration" || status != http.StatusNotFound {
			t.Errorf("GetBucketCors before the PUT: %d %s (%v), want 404 NoSuchCORSConfiguration", status, code, err)
		}

		if _, err := client.PutBucketCors(apiCtx(t), &s3.PutBucketCorsInput{
			Bucket:            aws.String(bucket),
			CORSConfiguration: &types.CORSConfiguration{CORSRules: apiRulesToSDK(rules)},
		}); err != nil {
			t.Fatalf("PutBucketCors: %v", err)
		}
		got, err := client.GetBucketCors(apiCtx(t), &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("GetBucketCors: %v", err)
		}
		apiCheckRules(t, "GetBucketCors after the PUT", apiRulesFromSDK(got.CORSRules), rules)
		apiCheckStored(t, m, bucket, rules)
		// The PUT was answered here: MinIO, which has no bucket CORS, still
		// has none for the bucket.
		storeMinIOHasNoCORS(t, m, bucket)

		storeCheckGranted(t, "the app's upload", upload(), storeGrant{
			"Access-Control-Allow-Origin":      "https://app.example.com",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "PUT, POST",
			"Access-Control-Allow-Headers":     "content-type, x-amz-meta-author",
			"Access-Control-Expose-Headers":    "ETag, x-amz-version-id",
			"Access-Control-Max-Age":           "3000",
		})
		storeCheckGranted(t, "a preview's upload (wildcard origin)", storePreflight(t, api, "/sdk-uploads/a", "https://pr-7.preview.example.com", "POST", "content-type"), storeGrant{
			"Access-Control-Allow-Origin":      "https://pr-7.preview.example.com",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "PUT, POST",
			"Access-Control-Allow-Headers":     "content-type",
			"Access-Control-Expose-Headers":    "ETag, x-amz-version-id",
			"Access-Control-Max-Age":           "3000",
		})
		storeCheckGranted(t, "any origin's read", storePreflight(t, api, "/sdk-uploads/a", "https://elsewhere.example.org", "GET", ""), storeGrant{
			"Access-Control-Allow-Origin":  "*",
			"Access-Control-Allow-Methods": "GET, HEAD",
		})
		storeCheckRefused(t, "a DELETE", storePreflight(t, api, "/sdk-uploads/a", "https://app.example.com", "DELETE", ""), "DELETE", false)

		if _, err := client.DeleteBucketCors(apiCtx(t), &s3.DeleteBucketCorsInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatalf("DeleteBucketCors: %v", err)
		}
		storeCheckRefused(t, "after the DELETE", upload(), "PUT", true)
		if body, ok := m.GetObject(t, storePolicyBucket, bucket+".xml"); ok {
			t.Errorf("after the DELETE the store still holds %s.xml:\n%s", bucket, body)
		}
		_, err = client.GetBucketCors(apiCtx(t), &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
		if code, status := storeAPIError(err); code != "NoSuchCORSConfiguration" || status != http.StatusNotFound {
			t.Errorf("GetBucketCors after the DELETE: %d %s (%v), want 404 NoSuchCORSConfiguration", status, code, err)
		}

		apiCheckCallLogs(t, c, bucket, []apiLoggedCall{
			{apiAccessKey, "GetBucketCors", 404, "NoSuchCORSConfiguration"},
			{apiAccessKey, "PutBucketCors", 200, "ok"},
			{apiAccessKey, "GetBucketCors", 200, "ok"},
			{apiAccessKey, "DeleteBucketCors", 204, "ok"},
			{apiAccessKey, "GetBucketCors", 404, "NoSuchCORSConfiguration"},
		})
	})

	t.Run("AWSCLIPutGetDeleteRoundTrip", func(t *testing.T) {
		t.Parallel()
		const bucket = "cli-uploads"
		m.CreateBucket(t, bucket)
		file := filepath.Join(t.TempDir(), "cors.json")
		// The AWS CLI's own JSON dialect, as its documentation shows it.
		if err := os.WriteFile(file, []byte(`{
  "CORSRules": [
    {
      "ID": "cli-uploads",
      "AllowedOrigins": ["https://cli.example.com"],
      "AllowedMethods": ["PUT", "GET"],
      "AllowedHeaders": ["*"],
      "ExposeHeaders": ["ETag"],
      "MaxAgeSeconds": 1200
    }
  ]
}
`), 0o644); err != nil {
			t.Fatal(err)
		}
		rules := []apiRule{{ID: "cli-uploads", Origins: []string{"https://cli.example.com"}, Methods: []string{"PUT", "GET"},
			Headers: []string{"*"}, Expose: []string{"ETag"}, MaxAge: apiInt(1200)}}
		creds := testrig.Credentials{AccessKey: apiAccessKey, SecretKey: apiSecretKey, Region: apiRegion}
		upload := func() storeResp {
			return storePreflight(t, api, "/cli-uploads/a.bin", "https://cli.example.com", "PUT", "content-type,x-amz-acl")
		}

		if out, err := testrig.AWS(t, api, creds, "s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", "file://"+file); err != nil {
			t.Fatalf("put-bucket-cors: %v\n%s", err, out)
		}
		out, err := testrig.AWS(t, api, creds, "s3api", "get-bucket-cors", "--bucket", bucket, "--output", "json")
		if err != nil {
			t.Fatalf("get-bucket-cors: %v", err)
		}
		var answer struct {
			CORSRules []struct {
				ID             string
				AllowedOrigins []string
				AllowedMethods []string
				AllowedHeaders []string
				ExposeHeaders  []string
				MaxAgeSeconds  *int
			}
		}
		if err := json.Unmarshal([]byte(out), &answer); err != nil {
			t.Fatalf("get-bucket-cors printed %q: %v", out, err)
		}
		var gotRules []apiRule
		for _, r := range answer.CORSRules {
			gotRules = append(gotRules, apiRule{ID: r.ID, Origins: r.AllowedOrigins, Methods: r.AllowedMethods,
				Headers: r.AllowedHeaders, Expose: r.ExposeHeaders, MaxAge: r.MaxAgeSeconds}.normal())
		}
		apiCheckRules(t, "get-bucket-cors", gotRules, rules)
		apiCheckStored(t, m, bucket, rules)
		storeMinIOHasNoCORS(t, m, bucket)
		storeCheckGranted(t, "after put-bucket-cors", upload(), storeGrant{
			"Access-Control-Allow-Origin":      "https://cli.example.com",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "PUT, GET",
			"Access-Control-Allow-Headers":     "content-type, x-amz-acl",
			"Access-Control-Expose-Headers":    "ETag",
			"Access-Control-Max-Age":           "1200",
		})

		if out, err := testrig.AWS(t, api, creds, "s3api", "delete-bucket-cors", "--bucket", bucket); err != nil {
			t.Fatalf("delete-bucket-cors: %v\n%s", err, out)
		}
		storeCheckRefused(t, "after delete-bucket-cors", upload(), "PUT", true)
		if body, ok := m.GetObject(t, storePolicyBucket, bucket+".xml"); ok {
			t.Errorf("after delete-bucket-cors the store still holds %s.xml:\n%s", bucket, body)
		}
		// The CLI takes seconds to start; the SDK checks the last answer.
		_, err = apiClient(api, apiAccessKey, apiSecretKey).GetBucketCors(apiCtx(t), &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
		if code, status := storeAPIError(err); code != "NoSuchCORSConfiguration" || status != http.StatusNotFound {
			t.Errorf("GetBucketCors after delete-bucket-cors: %d %s (%v), want 404 NoSuchCORSConfiguration", status, code, err)
		}

		apiCheckCallLogs(t, c, bucket, []apiLoggedCall{
			{apiAccessKey, "PutBucketCors", 200, "ok"},
			{apiAccessKey, "GetBucketCors", 200, "ok"},
			{apiAccessKey, "DeleteBucketCors", 204, "ok"},
			{apiAccessKey, "GetBucketCors", 404, "NoSuchCORSConfiguration"},
		})
	})

	t.Run("RefusalsAnswerS3ErrorsLogOneLineAndLeaveTheStoredPolicyUnchanged", func(t *testing.T) {
		t.Parallel()
		const bucket = "refusals"
		m.CreateBucket(t, bucket)
		callURL := api + "/" + bucket + "?cors"
		// Two documents of one length: what the owner signs, and what an
		// attacker would rather store.
		good := apiDoc("https://good.example", "GET")
		evil := apiDoc("https://evil.example", "GET")
		if len(good) != len(evil) {
			t.Fatal("the two documents differ in length")
		}
		xmlType := map[string]string{"Content-Type": "application/xml"}

		// A hand-signed PUT and a presigned GET are answered: the signing
		// below is right, and what is refused is refused for its flaw.
		if r := storeDo(t, apiSigned(t, http.MethodPut, callURL, []byte(good), apiAccessKey, apiSecretKey, time.Now(), xmlType)); r.Status != http.StatusOK || r.Body != "" {
			t.Fatalf("signed PUT: %d %q, want 200 and no body", r.Status, r.Body)
		}
		stored, ok := m.GetObject(t, storePolicyBucket, bucket+".xml")
		if !ok {
			t.Fatalf("the signed PUT stored no %s.xml", bucket)
		}
		apiCheckRules(t, "stored after the signed PUT", apiRulesFromXML(t, "stored", stored), []apiRule{{Origins: []string{"https://good.example"}, Methods: []string{"GET"}}})
		presignedGet := apiPresigned(t, http.MethodGet, callURL, apiAccessKey, apiSecretKey, time.Now(), 5*time.Minute)
		getReq, _ := http.NewRequest(http.MethodGet, presignedGet, nil)
		if r := storeDo(t, getReq); r.Status != http.StatusOK || r.Body != string(stored) || r.Header.Get("Content-Type") != "application/xml" {
			t.Errorf("presigned GetBucketCors: %d %s %q, want 200 application/xml with the stored document %q", r.Status, r.Header.Get("Content-Type"), r.Body, stored)
		}
		logged := len(apiWaitCallLogs(t, c, bucket, 2)) // the PUT and the GET

		expiredAt := time.Now().Add(-10 * time.Minute)
		tooLarge := good + strings.Repeat(" ", 65<<10-len(good))
		for _, tc := range []struct {
			name       string
			req        func(t testing.TB) *http.Request
			status     int
			code       string
			message    []string // parts of the message
			loggedKey  string
			action     string
			ownMessage string // the exact message, when S3's is fixed
		}{
			{name: "NoSignatureIsAccessDenied", status: 403, code: "AccessDenied", action: "PutBucketCors", ownMessage: "Access Denied.",
				req: func(t testing.TB) *http.Request {
					req, _ := http.NewRequest(http.MethodPut, callURL, strings.NewReader(evil))
					return req
				}},
			{name: "UnknownKeyIsInvalidAccessKeyId", status: 403, code: "InvalidAccessKeyId", action: "PutBucketCors", loggedKey: "AKIANOTACORSAPIKEY01",
				req: func(t testing.TB) *http.Request {
					return apiSigned(t, http.MethodPut, callURL, []byte(evil), "AKIANOTACORSAPIKEY01", apiSecretKey, time.Now(), xmlType)
				}},
			{name: "WrongSecretIsSignatureDoesNotMatch", status: 403, code: "SignatureDoesNotMatch", action: "PutBucketCors", loggedKey: apiAccessKey,
				req: func(t testing.TB) *http.Request {
					return apiSigned(t, http.MethodPut, callURL, []byte(evil), apiAccessKey, "not/the+secret/0123456789abcdefABCDEFGH", time.Now(), xmlType)
				}},
			{name: "BodySwappedAfterSigningIsXAmzContentSHA256Mismatch", status: 400, code: "XAmzContentSHA256Mismatch", action: "PutBucketCors", loggedKey: apiAccessKey,
				req: func(t testing.TB) *http.Request {
					req := apiSigned(t, http.MethodPut, callURL, []byte(good), apiAccessKey, apiSecretKey, time.Now(), xmlType)
					apiSetBody(req, evil) // same length, so Content-Length still matches the signature
					return req
				}},
			{name: "ParameterAddedAfterSigningIsSignatureDoesNotMatch", status: 403, code: "SignatureDoesNotMatch", action: "PutBucketCors", loggedKey: apiAccessKey,
				req: func(t testing.TB) *http.Request {
					req := apiSigned(t, http.MethodPut, callURL, []byte(evil), apiAccessKey, apiSecretKey, time.Now(), xmlType)
					req.URL.RawQuery += "&versionId=1"
					return req
				}},
			{name: "ClockTwentyMinutesBehindIsRequestTimeTooSkewed", status: 403, code: "RequestTimeTooSkewed", action: "PutBucketCors", loggedKey: apiAccessKey,
				req: func(t testing.TB) *http.Request {
					return apiSigned(t, http.MethodPut, callURL, []byte(evil), apiAccessKey, apiSecretKey, time.Now().Add(-20*time.Minute), xmlType)
				}},
			{name: "ExpiredPresignedPutIsAccessDenied", status: 403, code: "AccessDenied", action: "PutBucketCors", loggedKey: apiAccessKey, ownMessage: "Request has expired",
				req: func(t testing.TB) *http.Request {
					u := apiPresigned(t, http.MethodPut, callURL, apiAccessKey, apiSecretKey, expiredAt, time.Minute)
					req, _ := http.NewRequest(http.MethodPut, u, strings.NewReader(evil))
					return req
				}},
			{name: "ExpiredPresignedGetIsAccessDenied", status: 403, code: "AccessDenied", action: "GetBucketCors", loggedKey: apiAccessKey, ownMessage: "Request has expired",
				req: func(t testing.TB) *http.Request {
					u := apiPresigned(t, http.MethodGet, callURL, apiAccessKey, apiSecretKey, expiredAt, time.Minute)
					req, _ := http.NewRequest(http.MethodGet, u, nil)
					return req
				}},
			{name: "BodyOf65KiBIsMaxMessageLengthExceeded", status: 400, code: "MaxMessageLengthExceeded", action: "PutBucketCors", loggedKey: apiAccessKey,
				req: func(t testing.TB) *http.Request {
					return apiSigned(t, http.MethodPut, callURL, []byte(tooLarge), apiAccessKey, apiSecretKey, time.Now(), xmlType)
				}},
			{name: "UnclosedXMLIsMalformedXML", status: 400, code: "MalformedXML", action: "PutBucketCors", loggedKey: apiAccessKey,
				message: []string{"The XML you provided was not well-formed"},
				req: func(t testing.TB) *http.Request {
					return apiSigned(t, http.MethodPut, callURL, []byte(`<CORSConfiguration><CORSRule><AllowedOrigin>https://evil.example</AllowedOrigin>`), apiAccessKey, apiSecretKey, time.Now(), xmlType)
				}},
			{name: "PATCHMethodIsInvalidRequest", status: 400, code: "InvalidRequest", action: "PutBucketCors", loggedKey: apiAccessKey,
				message: []string{"unsupported HTTP method", `"PATCH"`},
				req: func(t testing.TB) *http.Request {
					return apiSigned(t, http.MethodPut, callURL, []byte(apiDoc("https://good.example", "PATCH")), apiAccessKey, apiSecretKey, time.Now(), xmlType)
				}},
			// S3 accepts an origin with a path (no browser sends one: it is
			// stored with a warning), but not one with two *.
			{name: "OriginWithTwoStarsIsInvalidRequest", status: 400, code: "InvalidRequest", action: "PutBucketCors", loggedKey: apiAccessKey,
				message: []string{`"https://*.*.good.example"`},
				req: func(t testing.TB) *http.Request {
					return apiSigned(t, http.MethodPut, callURL, []byte(apiDoc("https://*.*.good.example", "GET")), apiAccessKey, apiSecretKey, time.Now(), xmlType)
				}},
			{name: "ContentMD5OfAnotherBodyIsBadDigest", status: 400, code: "BadDigest", action: "PutBucketCors", loggedKey: apiAccessKey,
				message: []string{"Content-MD5"},
				req: func(t testing.TB) *http.Request {
					sum := md5.Sum([]byte(good))
					return apiSigned(t, http.MethodPut, callURL, []byte(evil), apiAccessKey, apiSecretKey, time.Now(), map[string]string{
						"Content-Type": "application/xml", "Content-MD5": base64.StdEncoding.EncodeToString(sum[:]),
					})
				}},
			{name: "ChecksumCRC32OfAnotherBodyIsBadDigest", status: 400, code: "BadDigest", action: "PutBucketCors", loggedKey: apiAccessKey,
				message: []string{"x-amz-checksum-crc32"},
				req: func(t testing.TB) *http.Request {
					sum := crc32.ChecksumIEEE([]byte(good))
					b := []byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)}
					return apiSigned(t, http.MethodPut, callURL, []byte(evil), apiAccessKey, apiSecretKey, time.Now(), map[string]string{
						"Content-Type": "application/xml", "X-Amz-Checksum-Crc32": base64.StdEncoding.EncodeToString(b),
					})
				}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := storeDo(t, tc.req(t))
				if r.Status != tc.status || r.Header.Get("Content-Type") != "application/xml" {
					t.Errorf("status %d %s, want %d application/xml; body %s", r.Status, r.Header.Get("Content-Type"), tc.status, r.Body)
				}
				e := storeParseS3Error(t, tc.name, r.Body)
				if e.Code != tc.code || e.BucketName != bucket || e.Resource != "/"+bucket {
					t.Errorf("error %+v, want Code %s, BucketName %s, Resource /%s", e, tc.code, bucket, bucket)
				}
				if tc.ownMessage != "" && e.Message != tc.ownMessage {
					t.Errorf("message %q, want %q", e.Message, tc.ownMessage)
				}
				for _, part := range tc.message {
					if !strings.Contains(e.Message, part) {
						t.Errorf("message %q does not mention %s", e.Message, part)
					}
				}
				if now, ok := m.GetObject(t, storePolicyBucket, bucket+".xml"); !ok || string(now) != string(stored) {
					t.Errorf("the stored policy changed:\n%s\nwas\n%s", now, stored)
				}
				logged++
				lines := apiWaitCallLogs(t, c, bucket, logged)
				last := lines[len(lines)-1]
				wantResult := tc.code + ": " + e.Message
				if last["access_key"] != tc.loggedKey || last["action"] != tc.action || last["status"] != float64(tc.status) || last["result"] != wantResult {
					t.Errorf("logged %v, want access_key %q, action %s, status %d, result %q", last, tc.loggedKey, tc.action, tc.status, wantResult)
				}
			})
		}

		// The policy in force is still the one first put.
		storeCheckGranted(t, "the stored policy's origin", storePreflight(t, api, "/refusals/a", "https://good.example", "GET", ""), storeGrant{
			"Access-Control-Allow-Origin":      "https://good.example",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET",
		})
		storeCheckRefused(t, "the refused policies' origin", storePreflight(t, api, "/refusals/a", "https://evil.example", "GET", ""), "GET", false)
	})

	t.Run("WithoutCORSAPIPutBucketCorsReachesMinIOWhichAnswers501NotImplemented", func(t *testing.T) {
		t.Parallel()
		const bucket = "plain-bucket"
		m.CreateBucket(t, bucket)
		doc := apiDoc("https://app.example.com", "GET")
		sum := md5.Sum([]byte(doc))
		// Signed with MinIO's own key for the proxy's address: Caddy passes
		// the Host through, so MinIO checks the signature and answers.
		put := apiSigned(t, http.MethodPut, plain+"/"+bucket+"?cors", []byte(doc), m.AccessKey, m.SecretKey, time.Now(), map[string]string{
			"Content-Type": "application/xml", "Content-MD5": base64.StdEncoding.EncodeToString(sum[:]),
		})
		r := storeDo(t, put)
		e := storeParseS3Error(t, "PUT ?cors", r.Body)
		if r.Status != http.StatusNotImplemented || e.Code != "NotImplemented" || e.Message != "A header you provided implies functionality that is not implemented" || e.BucketName != bucket {
			t.Errorf("PUT /%s?cors without cors_api: %d %+v, want MinIO's 501 NotImplemented", bucket, r.Status, e)
		}
		get := apiSigned(t, http.MethodGet, plain+"/"+bucket+"?cors", nil, m.AccessKey, m.SecretKey, time.Now(), nil)
		r = storeDo(t, get)
		e = storeParseS3Error(t, "GET ?cors", r.Body)
		if r.Status != http.StatusNotFound || e.Code != "NoSuchCORSConfiguration" || e.Message != "The CORS configuration does not exist" {
			t.Errorf("GET /%s?cors without cors_api: %d %+v, want MinIO's 404 NoSuchCORSConfiguration", bucket, r.Status, e)
		}
		if body, ok := m.GetObject(t, storePolicyBucket, bucket+".xml"); ok {
			t.Errorf("without cors_api, the store got %s.xml:\n%s", bucket, body)
		}
		storeMinIOHasNoCORS(t, m, bucket)
		if lines := storeLogsFor(storeLogEntries(c.Logs(), apiCallLog), bucket); len(lines) > 0 {
			t.Errorf("without cors_api, calls were logged as cors_api calls: %v", lines)
		}
	})
}

// apiDoc is an S3 XML CORSConfiguration of one rule, without namespace or
// XML declaration, as short clients send it.
func apiDoc(origin, method string) string {
	return "<CORSConfiguration><CORSRule><AllowedOrigin>" + origin + "</AllowedOrigin><AllowedMethod>" + method + "</AllowedMethod></CORSRule></CORSConfiguration>"
}

// apiSetBody replaces a request's body, keeping every header.
func apiSetBody(req *http.Request, body string) {
	req.Body = io.NopCloser(strings.NewReader(body))
	req.GetBody = nil
}

// apiCheckStored checks that the policy store holds <bucket>.xml as S3 XML,
// in S3's namespace, with the rules, and with an XML content type.
func apiCheckStored(t testing.TB, m *testrig.MinIO, bucket string, rules []apiRule) {
	t.Helper()
	body, ok := m.GetObject(t, storePolicyBucket, bucket+".xml")
	if !ok {
		t.Errorf("the policy store has no %s.xml", bucket)
		return
	}
	if !strings.HasPrefix(string(body), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("%s.xml does not start with an XML declaration:\n%s", bucket, body)
	}
	apiCheckRules(t, "the stored "+bucket+".xml", apiRulesFromXML(t, bucket+".xml", body), rules)
	head, err := m.Client(t).HeadObject(apiCtx(t), &s3.HeadObjectInput{Bucket: aws.String(storePolicyBucket), Key: aws.String(bucket + ".xml")})
	if err != nil {
		t.Errorf("HeadObject %s.xml: %v", bucket, err)
	} else if ct := aws.ToString(head.ContentType); ct != "application/xml" {
		t.Errorf("%s.xml has Content-Type %q, want application/xml", bucket, ct)
	}
}

// apiLoggedCall is what the log line of one call says.
type apiLoggedCall struct {
	accessKey, action string
	status            int
	// result is "ok" or the S3 error code that starts it.
	result string
}

// apiWaitCallLogs waits until Caddy has logged n CORS API calls for
// bucket (a line is written just after the answer), and returns them.
func apiWaitCallLogs(t testing.TB, c *testrig.Caddy, bucket string, n int) []map[string]any {
	t.Helper()
	var lines []map[string]any
	storeEventually(t, 10*time.Second, fmt.Sprintf("%d %q lines for %s", n, apiCallLog, bucket), func() (bool, string) {
		lines = storeLogsFor(storeLogEntries(c.Logs(), apiCallLog), bucket)
		return len(lines) >= n, fmt.Sprintf("%d lines", len(lines))
	})
	if len(lines) != n {
		t.Errorf("%d %q lines for %s, want %d (one per call): %v", len(lines), apiCallLog, bucket, n, lines)
	}
	return lines
}

// apiCheckCallLogs checks that every call of the bucket logged one line
// with its key, action, status and result.
func apiCheckCallLogs(t testing.TB, c *testrig.Caddy, bucket string, want []apiLoggedCall) {
	t.Helper()
	lines := apiWaitCallLogs(t, c, bucket, len(want))
	for i, w := range want {
		if i >= len(lines) {
			break
		}
		l := lines[i]
		result, _ := l["result"].(string)
		okResult := result == w.result || (w.result != "ok" && strings.HasPrefix(result, w.result+": "))
		if l["access_key"] != w.accessKey || l["action"] != w.action || l["status"] != float64(w.status) || !okResult || l["level"] != "info" {
			t.Errorf("call %d logged %v, want access_key %s, action %s, status %d, result %s", i+1, l, w.accessKey, w.action, w.status, w.result)
		}
	}
}
