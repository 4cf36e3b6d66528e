package s3api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/bucketcors/bucketcors/policy"
)

// apiCall describes one call of the CORS API for TestCORSAPIRefusals.
type apiCall struct {
	method string
	bucket string
	body   []byte
	// payload is the signed x-amz-content-sha256; "" is the body's SHA-256,
	// "-" sends none.
	payload string
	header  http.Header
	// prepare changes the signed request before it is served.
	prepare func(*http.Request)
}

func (c apiCall) request(t *testing.T) *http.Request {
	t.Helper()
	r := httptest.NewRequest(c.method, "http://s3.example.com/"+c.bucket+"?cors", bytes.NewReader(c.body))
	for k, v := range c.header {
		r.Header[k] = v
	}
	switch c.payload {
	case "":
		testSigner.sign(r, testSignedAt, sha256Hex(c.body))
	case "-":
		testSigner.sign(r, testSignedAt, "")
	default:
		testSigner.sign(r, testSignedAt, c.payload)
	}
	if c.prepare != nil {
		c.prepare(r)
	}
	return r
}

// TestCORSAPIRefusals checks every refusal of the CORS API as a client
// reads it (status, Code, Message) and as the log records it (Call).
func TestCORSAPIRefusals(t *testing.T) {
	t.Parallel()
	doc := []byte(testCORSXML)
	storeDown := errors.New("dial tcp 10.0.0.1:9000: connect: connection refused")
	big := append(bytes.Repeat([]byte(" "), policy.MaxDocumentSize+1-len(doc)), doc...)
	const storeDownMessage = "The policy store cannot be reached now. Please try again."
	cases := []struct {
		name string
		call apiCall
		// stored is the bucket's stored document, if any; down makes the
		// store fail; fixed makes the configuration set the policy.
		stored []byte
		down   bool
		fixed  bool

		status  int
		code    string
		message string // the Message, or its start when prefix is set
		prefix  bool
		action  string
		key     string // the access key the call records
	}{
		{name: "no signature", call: apiCall{method: "GET", bucket: "uploads", prepare: func(r *http.Request) { r.Header.Del("Authorization") }},
			status: 403, code: "AccessDenied", message: "Access Denied.", action: "GetBucketCors"},
		{name: "no x-amz-content-sha256", call: apiCall{method: "PUT", bucket: "uploads", body: doc, payload: "-"},
			status: 400, code: "InvalidRequest", message: "Missing required header for this request: x-amz-content-sha256", action: "PutBucketCors", key: testAccessKey},
		{name: "the body is not the one signed", call: apiCall{method: "PUT", bucket: "uploads", body: doc, payload: emptySHA256},
			status: 400, code: "XAmzContentSHA256Mismatch", message: "The provided 'x-amz-content-sha256' header does not match what was computed.", action: "PutBucketCors", key: testAccessKey},
		{name: "a wrong Content-MD5", call: apiCall{method: "PUT", bucket: "uploads", body: doc, header: http.Header{"Content-Md5": {contentMD5([]byte("other"))}}},
			status: 400, code: "BadDigest", message: "The Content-MD5 you specified did not match what we received.", action: "PutBucketCors", key: testAccessKey},
		{name: "a wrong x-amz-checksum-crc32c", call: apiCall{method: "PUT", bucket: "uploads", body: doc, header: http.Header{"X-Amz-Checksum-Crc32c": {"AAAAAA=="}}},
			status: 400, code: "BadDigest", message: "The x-amz-checksum-crc32c you specified did not match the calculated checksum.", action: "PutBucketCors", key: testAccessKey},
		{name: "an aws-chunked body", call: apiCall{method: "PUT", bucket: "uploads", body: doc, payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
			status: 501, code: "NotImplemented", message: "Chunked (aws-chunked) uploads are not supported for the CORS API; send the configuration in one piece.", action: "PutBucketCors", key: testAccessKey},
		{name: "Content-Length over 64 KiB", call: apiCall{method: "PUT", bucket: "uploads", body: big},
			status: 400, code: "MaxMessageLengthExceeded", message: "Your request was too big: a CORS configuration is at most 65536 bytes.", action: "PutBucketCors", key: testAccessKey},
		{name: "a body over 64 KiB without Content-Length", call: apiCall{method: "PUT", bucket: "uploads", body: big, payload: "UNSIGNED-PAYLOAD",
			prepare: func(r *http.Request) { r.ContentLength = -1 }},
			status: 400, code: "MaxMessageLengthExceeded", message: "Your request was too big: a CORS configuration is at most 65536 bytes.", action: "PutBucketCors", key: testAccessKey},
		{name: "a body cut short", call: apiCall{method: "PUT", bucket: "uploads", body: doc, prepare: func(r *http.Request) {
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(doc[:100]), iotest.ErrReader(io.ErrUnexpectedEOF)))
		}},
			status: 400, code: "IncompleteBody", message: "You did not provide the number of bytes specified by the Content-Length HTTP header.", action: "PutBucketCors", key: testAccessKey},
		{name: "no bucket", call: apiCall{method: "GET", bucket: ""},
			status: 400, code: "InvalidBucketName", message: "The specified bucket is not valid.", action: "GetBucketCors", key: testAccessKey},
		{name: "POST", call: apiCall{method: "POST", bucket: "uploads", body: doc},
			status: 405, code: "MethodNotAllowed", message: "The specified method is not allowed against this resource.", action: "POST ?cors", key: testAccessKey},
		{name: "PUT on a bucket the configuration sets", call: apiCall{method: "PUT", bucket: "uploads", body: doc}, fixed: true,
			status: 409, code: "InvalidRequest", message: "The CORS configuration of bucket uploads is set in the Caddy configuration; change it there.", action: "PutBucketCors", key: testAccessKey},
		{name: "DELETE on a bucket the configuration sets", call: apiCall{method: "DELETE", bucket: "uploads"}, fixed: true,
			status: 409, code: "InvalidRequest", message: "The CORS configuration of bucket uploads is set in the Caddy configuration; change it there.", action: "DeleteBucketCors", key: testAccessKey},
		{name: "XML that is not well-formed", call: apiCall{method: "PUT", bucket: "uploads", body: []byte("<CORSConfiguration><CORSRule>")},
			status: 400, code: "MalformedXML", message: msgMalformedXML + ": ", prefix: true, action: "PutBucketCors", key: testAccessKey},
		{name: "JSON instead of XML", call: apiCall{method: "PUT", bucket: "uploads",
			body: []byte(`{"CORSRules": [{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}]}`)},
			status: 400, code: "MalformedXML", message: msgMalformedXML + ": the CORS configuration must be S3 XML (CORSConfiguration)", action: "PutBucketCors", key: testAccessKey},
		{name: "an empty body", call: apiCall{method: "PUT", bucket: "uploads"},
			status: 400, code: "MalformedXML", message: msgMalformedXML + ": ", prefix: true, action: "PutBucketCors", key: testAccessKey},
		{name: "a method S3 does not allow in a rule", call: apiCall{method: "PUT", bucket: "uploads",
			body: []byte(strings.Replace(testCORSXML, "<AllowedMethod>PUT</AllowedMethod>", "<AllowedMethod>PATCH</AllowedMethod>", 1))},
			status: 400, code: "InvalidRequest", message: `PutBucketCors uploads: rule 1 (ID "web"): AllowedMethod[2] "PATCH"`, prefix: true, action: "PutBucketCors", key: testAccessKey},
		{name: "no configuration", call: apiCall{method: "GET", bucket: "uploads"},
			status: 404, code: "NoSuchCORSConfiguration", message: "The CORS configuration does not exist", action: "GetBucketCors", key: testAccessKey},
		{name: "a stored configuration that does not validate", call: apiCall{method: "GET", bucket: "uploads"},
			stored: []byte(strings.Replace(testCORSXML, "<AllowedMethod>PUT</AllowedMethod>", "<AllowedMethod>PATCH</AllowedMethod>", 1)),
			status: 500, code: "InternalError", message: "The stored CORS configuration of this bucket does not validate; put a new one. stored uploads: rule 1", prefix: true, action: "GetBucketCors", key: testAccessKey},
		{name: "GET while the store is down", call: apiCall{method: "GET", bucket: "uploads"}, down: true,
			status: 503, code: "ServiceUnavailable", message: storeDownMessage, action: "GetBucketCors", key: testAccessKey},
		{name: "PUT while the store is down", call: apiCall{method: "PUT", bucket: "uploads", body: doc}, down: true,
			status: 503, code: "ServiceUnavailable", message: storeDownMessage, action: "PutBucketCors", key: testAccessKey},
		{name: "DELETE while the store is down", call: apiCall{method: "DELETE", bucket: "uploads"}, down: true,
			status: 503, code: "ServiceUnavailable", message: storeDownMessage, action: "DeleteBucketCors", key: testAccessKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store, log := newMemStore(), &changeLog{}
			if tc.stored != nil {
				store.docs[tc.call.bucket] = tc.stored
			}
			if tc.down {
				store.err = storeDown
			}
			api := &CORSAPI{Verifier: testVerifier(testSignedAt), Store: store, Changed: log.changed}
			if tc.fixed {
				fixed, err := policy.Parse("Caddyfile", []byte(testCORSXML))
				if err != nil {
					t.Fatal(err)
				}
				api.Fixed = func(string) (*policy.Policy, bool) { return fixed, true }
			}
			rec := httptest.NewRecorder()
			call := api.Serve(rec, tc.call.request(t), tc.call.bucket)

			status, e := decodeAnswer(t, rec)
			okMessage := e.Message == tc.message || tc.prefix && strings.HasPrefix(e.Message, tc.message)
			if status != tc.status || e.Code != tc.code || !okMessage {
				t.Errorf("answered %d %s %q\nwant     %d %s %q (prefix %v)", status, e.Code, e.Message, tc.status, tc.code, tc.message, tc.prefix)
			}
			if e.Resource != "/"+tc.call.bucket || e.BucketName != tc.call.bucket {
				t.Errorf("Resource %q, BucketName %q; want /%s, %s", e.Resource, e.BucketName, tc.call.bucket, tc.call.bucket)
			}
			if call.Status != tc.status || call.Action != tc.action || call.AccessKey != tc.key || call.Err == nil || AsError(call.Err).Code != tc.code {
				t.Errorf("call = %+v\nwant status %d, action %q, access key %q, error %s", call, tc.status, tc.action, tc.key, tc.code)
			}
			if tc.down && !errors.Is(call.Err, storeDown) {
				t.Errorf("call.Err = %v, want the store's own error for the log", call.Err)
			}
			if changes := log.take(); len(changes) != 0 {
				t.Errorf("a refused call told Changed: %+v", changes)
			}
			if _, ok := store.stored(tc.call.bucket); ok != (tc.stored != nil) {
				t.Errorf("a refused call changed the store")
			}
		})
	}
}

// TestCORSAPIAcceptsAtTheSizeLimit: a document of exactly 64 KiB is read.
func TestCORSAPIAcceptsAtTheSizeLimit(t *testing.T) {
	t.Parallel()
	doc := []byte(testCORSXML)
	body := append(bytes.Repeat([]byte(" "), policy.MaxDocumentSize-len(doc)), doc...)
	for _, length := range []int64{int64(len(body)), -1} {
		r := apiCall{method: "PUT", bucket: "uploads", body: body}.request(t)
		r.ContentLength = length
		rec := httptest.NewRecorder()
		if call := (&CORSAPI{Verifier: testVerifier(testSignedAt), Store: newMemStore()}).Serve(rec, r, "uploads"); call.Err != nil {
			t.Errorf("Content-Length %d: a 64 KiB document was refused: %v", length, call.Err)
		}
	}
}
