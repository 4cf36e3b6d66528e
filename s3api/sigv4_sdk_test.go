package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// sdkSigner is aws-sdk-go-v2's signer set as its S3 client sets it: S3
// paths are escaped once, by the client, not again by the signer.
var sdkSigner = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })

var sdkCredentials = aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}

// newSDKRequest builds a request to url (Host set to host when not "").
func newSDKRequest(t *testing.T, method, url, host string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	return req
}

// sdkSign signs req in its Authorization header, as the S3 client does:
// x-amz-content-sha256 set to payloadHash and signed.
func sdkSign(t *testing.T, req *http.Request, payloadHash string, at time.Time) {
	t.Helper()
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if err := sdkSigner.SignHTTP(context.Background(), sdkCredentials, req, payloadHash, "s3", testRegion, at); err != nil {
		t.Fatal(err)
	}
}

// sdkPresign returns req presigned for expires: the URL the signer returns,
// with the headers it signed, as a browser or curl would send it.
func sdkPresign(t *testing.T, req *http.Request, body []byte, expires time.Duration, at time.Time) *http.Request {
	t.Helper()
	req.URL.RawQuery += "&X-Amz-Expires=" + strconv.Itoa(int(expires/time.Second))
	uri, signed, err := sdkSigner.PresignHTTP(context.Background(), sdkCredentials, req, "UNSIGNED-PAYLOAD", "s3", testRegion, at)
	if err != nil {
		t.Fatal(err)
	}
	out := newSDKRequest(t, req.Method, uri, signed.Get("Host"), body)
	for k, v := range signed {
		if k != "Host" {
			out.Header[k] = v
		}
	}
	return out
}

func contentMD5(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestVerifyAcceptsSDKSignatures signs requests of every shape the CORS API
// sees with aws-sdk-go-v2's signer, sends them through a real server, and
// checks that Verify accepts what the server received.
func TestVerifyAcceptsSDKSignatures(t *testing.T) {
	t.Parallel()
	doc := []byte(testCORSXML)
	cases := []struct {
		name   string
		method string
		target string // path and query as sent
		// rawPath, when set, is the path as the S3 client escapes it.
		rawPath string
		host    string // the Host signed and sent; "" is the server's own, with its port
		body    []byte
		payload string // the payload hash; "" is the body's SHA-256
		header  http.Header
		presign time.Duration // when > 0, presigned with this X-Amz-Expires
		// rewrite changes the request after signing as a proxy may,
		// without changing what it means.
		rewrite    func(*http.Request)
		wantSigned []string // names that must be among the signed headers
	}{
		{name: "GetBucketCors path-style, host with port", method: "GET", target: "/uploads?cors"},
		{name: "GetBucketCors path-style, host without port", method: "GET", target: "/uploads?cors", host: "s3.example.com"},
		{name: "PutBucketCors with the body's SHA-256", method: "PUT", target: "/uploads?cors", body: doc,
			wantSigned: []string{"content-length", "x-amz-content-sha256"}},
		{name: "PutBucketCors with UNSIGNED-PAYLOAD", method: "PUT", target: "/uploads?cors", body: doc, payload: "UNSIGNED-PAYLOAD"},
		{name: "DeleteBucketCors path-style", method: "DELETE", target: "/uploads?cors"},
		{name: "GetBucketCors virtual-hosted", method: "GET", target: "/?cors", host: "uploads.s3.example.com"},
		{name: "PutBucketCors virtual-hosted, host with port", method: "PUT", target: "/?cors", host: "uploads.s3.example.com:9000", body: doc},
		{name: "DeleteBucketCors virtual-hosted", method: "DELETE", target: "/?cors", host: "uploads.s3.example.com"},
		{name: "extra query parameters", method: "GET", target: "/uploads?cors&x-id=GetBucketCors&versionId=3%2F4&empty="},
		{name: "query values needing encoding", method: "PUT", body: doc,
			target: "/uploads?cors&note=" + "a%20b%2Bc%2Fd~%C3%A9%E1%88%B4%3D%26" + "&%E2%9C%93=yes"},
		{name: "query with ~ percent-encoded on the way", method: "GET", target: "/uploads?cors&v=a~b",
			rewrite: func(r *http.Request) { r.URL.RawQuery = strings.ReplaceAll(r.URL.RawQuery, "~", "%7E") }},
		{name: "query in another order on the way", method: "GET", target: "/uploads?cors&b=2&a=1",
			rewrite: func(r *http.Request) {
				parts := strings.Split(r.URL.RawQuery, "&")
				slices.Reverse(parts)
				r.URL.RawQuery = strings.Join(parts, "&")
			}},
		{name: "path needing encoding", method: "GET", target: "/uploads/a b/é~+!$ሴ",
			rawPath: "/uploads/a%20b/%C3%A9~%2B%21%24%E1%88%B4"},
		{name: "path with double slashes", method: "GET", target: "/uploads//key", rawPath: "/uploads//key"},
		{name: "Content-MD5 signed", method: "PUT", target: "/uploads?cors", body: doc,
			header: http.Header{"Content-Md5": {contentMD5(doc)}}, wantSigned: []string{"content-md5"}},
		// Verify checks the signature over these headers; whether they
		// match the body is the API's part (TestCheckBodyDigests).
		{name: "x-amz-checksum-* signed", method: "PUT", target: "/uploads?cors", body: doc,
			header: http.Header{
				"X-Amz-Checksum-Crc32":         {"AAAAAA=="},
				"X-Amz-Checksum-Crc32c":        {"AAAAAA=="},
				"X-Amz-Checksum-Crc64nvme":     {"AAAAAAAAAAA="},
				"X-Amz-Checksum-Sha1":          {"2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
				"X-Amz-Checksum-Sha256":        {"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
				"X-Amz-Sdk-Checksum-Algorithm": {"CRC32"},
			},
			wantSigned: []string{"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme", "x-amz-checksum-sha1", "x-amz-checksum-sha256"}},
		{name: "presigned GetBucketCors", method: "GET", target: "/uploads?cors", presign: 5 * time.Minute},
		{name: "presigned GetBucketCors, host without port", method: "GET", target: "/uploads?cors", host: "s3.example.com", presign: time.Hour},
		{name: "presigned PutBucketCors with Content-MD5 signed", method: "PUT", target: "/uploads?cors", body: doc,
			header: http.Header{"Content-Md5": {contentMD5(doc)}}, presign: 7 * 24 * time.Hour,
			wantSigned: []string{"content-md5"}},
		{name: "presigned DeleteBucketCors virtual-hosted", method: "DELETE", target: "/?cors", host: "uploads.s3.example.com", presign: time.Second},
		{name: "presigned with query values needing encoding", method: "GET",
			target: "/uploads?cors&response-content-type=text%2Fxml%3B%20charset%3Dutf-8&t=%E2%9C%93~", presign: time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLoopback(t)
			req := newSDKRequest(t, tc.method, l.url(tc.target), tc.host, tc.body)
			if tc.rawPath != "" {
				req.URL.RawPath = tc.rawPath
				if req.URL.EscapedPath() != tc.rawPath {
					t.Fatalf("the test's raw path %q does not encode %q", tc.rawPath, req.URL.Path)
				}
			}
			for k, v := range tc.header {
				req.Header[k] = v
			}
			payload := tc.payload
			if payload == "" {
				payload = sha256Hex(tc.body)
			}
			if tc.presign > 0 {
				req = sdkPresign(t, req, tc.body, tc.presign, testSignedAt)
				payload = "UNSIGNED-PAYLOAD"
			} else {
				sdkSign(t, req, payload, testSignedAt)
			}
			if tc.rewrite != nil {
				tc.rewrite(req)
			}
			got := l.send(t, req)
			sig, err := testVerifier(testSignedAt.Add(time.Second)).Verify(got)
			if err != nil {
				t.Fatalf("Verify refused the SDK's signature: %v\nreceived %s %s, Host %s, header %v\nour canonical request:\n%s",
					err, got.Method, got.RequestURI, got.Host, got.Header, CanonicalRequest(got, sig.SignedHeaders, sig.PayloadHash))
			}
			if sig.AccessKey != testAccessKey || sig.Presigned != (tc.presign > 0) || sig.PayloadHash != payload {
				t.Errorf("claims: access key %q, presigned %v, payload hash %q; want %q, %v, %q",
					sig.AccessKey, sig.Presigned, sig.PayloadHash, testAccessKey, tc.presign > 0, payload)
			}
			if tc.presign > 0 && sig.Expires != tc.presign {
				t.Errorf("Expires = %v, want %v", sig.Expires, tc.presign)
			}
			for _, name := range append([]string{"host"}, tc.wantSigned...) {
				if !slices.Contains(sig.SignedHeaders, name) {
					t.Errorf("signed headers %v lack %s", sig.SignedHeaders, name)
				}
			}
		})
	}
}
