package s3api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// signedHeaderCases are requests whose signatures cover headers that real
// clients sign (the AWS CLI and boto3 sign User-Agent and X-Amzn-Trace-Id,
// curl --aws-sigv4 and some SDKs Expect) but aws-sdk-go-v2's signer would
// leave out, so refSigner signs them. Verify must take exactly the names the
// client listed.
var signedHeaderCases = []struct {
	name   string
	method string
	body   []byte
	// chunked sends the body without Content-Length.
	chunked bool
	header  http.Header
	signed  []string // besides host, x-amz-date and x-amz-content-sha256
}{
	{
		name:   "GetBucketCors from the AWS CLI",
		method: "GET",
		header: http.Header{
			"User-Agent":      {"aws-cli/2.15.0 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.6 cfg/retry-mode#standard md/command#s3api.get-bucket-cors"},
			"X-Amzn-Trace-Id": {"Root=1-65a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"},
		},
		signed: []string{"user-agent", "x-amzn-trace-id"},
	},
	{
		name:   "PutBucketCors with Expect: 100-continue",
		method: "PUT",
		body:   []byte(testCORSXML),
		header: http.Header{
			"Expect":       {"100-continue"},
			"User-Agent":   {"curl/8.5.0"},
			"Content-Type": {"application/xml"},
			"Content-Md5":  {contentMD5([]byte(testCORSXML))},
		},
		signed: []string{"content-length", "content-md5", "content-type", "expect", "user-agent"},
	},
	{
		name:    "PutBucketCors chunked, Transfer-Encoding signed",
		method:  "PUT",
		body:    []byte(testCORSXML),
		chunked: true,
		header:  http.Header{"User-Agent": {"Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.5.0"}},
		signed:  []string{"transfer-encoding", "user-agent"},
	},
}

// headerTampering changes one signed header of a request on its way, as
// an attacker replaying it would; body is the body to send.
var headerTampering = map[string]func(r *http.Request, body *[]byte){
	"host": func(r *http.Request, _ *[]byte) { r.Host = "other.example.com" },
	"x-amz-date": func(r *http.Request, _ *[]byte) {
		r.Header.Set("X-Amz-Date", testSignedAt.Add(time.Second).Format("20060102T150405Z"))
	},
	"x-amz-content-sha256": func(r *http.Request, _ *[]byte) {
		r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	},
	"user-agent": func(r *http.Request, _ *[]byte) { r.Header.Set("User-Agent", r.Header.Get("User-Agent")+" evil/1.0") },
	"x-amzn-trace-id": func(r *http.Request, _ *[]byte) {
		r.Header.Set("X-Amzn-Trace-Id", "Root=1-00000000-000000000000000000000000")
	},
	// The Go server reads the expectation case-insensitively, so it
	// still honours it, but the signed value has changed.
	"expect":         func(r *http.Request, _ *[]byte) { r.Header.Set("Expect", "100-Continue") },
	"content-type":   func(r *http.Request, _ *[]byte) { r.Header.Set("Content-Type", "text/plain") },
	"content-md5":    func(r *http.Request, _ *[]byte) { r.Header.Set("Content-Md5", contentMD5([]byte("other"))) },
	"content-length": func(_ *http.Request, body *[]byte) { *body = append(*body, ' ') },
	// Sent with a Content-Length instead: the signed "chunked" is gone.
	"transfer-encoding": func(r *http.Request, _ *[]byte) { r.TransferEncoding = nil },
}

// buildSignedHeaderRequest returns the case's request to url, signed by
// refSigner, then changed by tamper when not nil.
func buildSignedHeaderRequest(t *testing.T, url string, i int, tamper func(*http.Request, *[]byte)) *http.Request {
	t.Helper()
	tc := signedHeaderCases[i]
	req := newSDKRequest(t, tc.method, url, "", nil)
	for k, v := range tc.header {
		req.Header[k] = slices.Clone(v)
	}
	req.ContentLength = int64(len(tc.body))
	if tc.chunked {
		req.ContentLength = -1
		req.TransferEncoding = []string{"chunked"}
	}
	testSigner.sign(req, testSignedAt, sha256Hex(tc.body), tc.signed...)
	body := slices.Clone(tc.body)
	if tamper != nil {
		tamper(req, &body)
	}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		if req.ContentLength >= 0 {
			req.ContentLength = int64(len(body))
		}
	}
	if tc.chunked && req.TransferEncoding == nil {
		req.ContentLength = int64(len(body))
	}
	return req
}

// TestVerifyHeadersTheSDKDoesNotSign checks that such requests verify
// intact, through a real server, and fail when any one signed header is
// changed.
func TestVerifyHeadersTheSDKDoesNotSign(t *testing.T) {
	t.Parallel()
	for i, tc := range signedHeaderCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLoopback(t)
			got := l.send(t, buildSignedHeaderRequest(t, l.url("/uploads?cors"), i, nil))
			sig, err := testVerifier(testSignedAt).Verify(got)
			if err != nil {
				t.Fatalf("Verify refused an intact request: %v\ncanonical request:\n%s", err, CanonicalRequest(got, sig.SignedHeaders, sig.PayloadHash))
			}
			for _, name := range tc.signed {
				if !slices.Contains(sig.SignedHeaders, name) {
					t.Errorf("signed headers %v lack %s", sig.SignedHeaders, name)
				}
			}
		})
		for _, name := range refSignedHeaders(append([]string{"host", "x-amz-date", "x-amz-content-sha256"}, tc.signed...)) {
			t.Run(tc.name+"/"+name+" changed", func(t *testing.T) {
				t.Parallel()
				tamper, ok := headerTampering[name]
				if !ok {
					t.Fatalf("no way to change %s is written", name)
				}
				l := newLoopback(t)
				got := l.send(t, buildSignedHeaderRequest(t, l.url("/uploads?cors"), i, tamper))
				_, err := testVerifier(testSignedAt).Verify(got)
				if !errors.Is(err, errSignatureMismatch) {
					t.Fatalf("Verify answered %v to a request whose %s changed, want SignatureDoesNotMatch", err, name)
				}
				status, e := answered(t, err)
				if status != http.StatusForbidden || e.Code != "SignatureDoesNotMatch" {
					t.Errorf("answered %d %s, want 403 SignatureDoesNotMatch", status, e.Code)
				}
			})
		}
	}
}

// TestVerifyIgnoresUnsignedHeaders: a header the client did not sign may
// change on the way (proxies add and rewrite them) without failing the
// signature, as with S3.
func TestVerifyIgnoresUnsignedHeaders(t *testing.T) {
	t.Parallel()
	l := newLoopback(t)
	req := buildSignedHeaderRequest(t, l.url("/uploads?cors"), 0, nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	req.Header.Set("Accept", "*/*")
	got := l.send(t, req)
	if _, err := testVerifier(testSignedAt).Verify(got); err != nil {
		t.Fatalf("Verify refused a request with unsigned headers added: %v", err)
	}
	if !strings.Contains(got.Header.Get("Authorization"), "SignedHeaders=host;user-agent;x-amz-content-sha256;x-amz-date;x-amzn-trace-id,") {
		t.Errorf("the request signed other headers than the test means: %s", got.Header.Get("Authorization"))
	}
}
