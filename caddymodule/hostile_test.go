package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// hostilePolicy allows one exact origin and one pattern, no "*": every grant
// a hostile request gets is one the policy names.
const hostilePolicy = `bucket_cors {
	policy assets {
		rule {
			origins https://allowed.example.com https://*.example.org
			methods GET PUT
			headers content-type x-amz-*
		}
	}
}`

const allowedOrigin = "https://allowed.example.com"

// preflightGrant is what hostilePolicy grants a preflight from origin.
func preflightGrant(origin, allowHeaders string) http.Header {
	h := http.Header{
		"Access-Control-Allow-Origin":      {origin},
		"Access-Control-Allow-Credentials": {"true"},
		"Access-Control-Allow-Methods":     {"GET, PUT"},
		"Vary":                             {grantVaryLine},
	}
	if allowHeaders != "" {
		h["Access-Control-Allow-Headers"] = []string{allowHeaders}
	}
	return h
}

// refusedPreflight is the CORS header set of every refused preflight.
var refusedPreflight = http.Header{"Vary": {grantVaryLine}}

// hostileRequest builds a request whose headers are set as given, bypassing
// the client-side checks that would keep CR, LF or NUL out: what matters is
// what the handler does if such a value reaches it.
func hostileRequest(method, target string, header http.Header) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	return r
}

func TestHostileOriginsGetNoGrantTheyShouldNot(t *testing.T) {
	h := handlerFromCaddyfile(t, hostilePolicy)
	cases := []struct {
		name    string
		origin  string
		allowed bool
	}{
		{"the allowed origin", allowedOrigin, true},
		{"a host under the pattern", "https://cdn.example.org", true},
		{"null", "null", false},
		{"the allowed host as a prefix of another", "https://allowed.example.com.evil.com", false},
		{"the allowed host in a query", "https://evil.com?.allowed.example.com", false},
		{"the pattern's suffix in a path", "https://evil.com/.example.org", false},
		{"the pattern's suffix in a fragment", "https://evil.com#.example.org", false},
		{"the pattern with nothing for its star", "https://.example.org", false},
		{"the pattern's suffix alone", "https://example.org", false},
		{"a trailing dot", "https://allowed.example.com.", false},
		{"upper case", "HTTPS://ALLOWED.EXAMPLE.COM", false},
		{"an upper-case host", "https://Allowed.example.com", false},
		{"a non-default port", "https://allowed.example.com:8443", false},
		{"the default port spelled out", "https://allowed.example.com:443", false},
		{"another scheme", "http://allowed.example.com", false},
		{"userinfo", "https://user@allowed.example.com", false},
		{"userinfo under the pattern", "https://allowed.example.com@x.example.org", false},
		{"a 64 KiB origin under the pattern", "https://" + strings.Repeat("a", 64<<10) + ".example.org", false},
		{"CR LF and a header after it", allowedOrigin + "\r\nAccess-Control-Allow-Origin: *", false},
		{"a NUL byte", allowedOrigin + "\x00", false},
		{"a space", allowedOrigin + " ", false},
		{"empty", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pre := hostileRequest(http.MethodOptions, "/assets/key", http.Header{
				"Origin": {tc.origin}, "Access-Control-Request-Method": {"GET"},
			})
			rec, err := serveRecorded(h, pre, mustNotRun(t))
			if err != nil {
				t.Fatalf("preflight: %v", err)
			}
			wantStatus, wantCORS := http.StatusForbidden, refusedPreflight
			if tc.allowed {
				wantStatus, wantCORS = http.StatusOK, preflightGrant(tc.origin, "")
			}
			if rec.Code != wantStatus {
				t.Errorf("preflight status = %d, want %d", rec.Code, wantStatus)
			}
			checkCORSHeaders(t, rec.Header(), wantCORS)

			// The origin answers as MinIO does; it is not reached over HTTP,
			// since Go's client refuses to send the CR LF and NUL cases.
			get := hostileRequest(http.MethodGet, "/assets/key", http.Header{"Origin": {tc.origin}})
			rec, err = serveRecorded(h, get, upstreamNext)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			if rec.Code != http.StatusOK {
				t.Errorf("GET status = %d, want 200", rec.Code)
			}
			want := http.Header{"Vary": {"Origin, Accept-Encoding"}}
			if tc.allowed {
				want = http.Header{
					"Access-Control-Allow-Origin":      {tc.origin},
					"Access-Control-Allow-Credentials": {"true"},
					"Access-Control-Allow-Methods":     {"GET, PUT"},
					"Vary":                             {"Origin, Accept-Encoding", restOfGrantVary},
				}
			}
			checkCORSHeaders(t, rec.Header(), want)
		})
	}
}

func TestHostileRequestMethodsAndHeaders(t *testing.T) {
	h := handlerFromCaddyfile(t, hostilePolicy)
	manyNames := strings.TrimSuffix(strings.Repeat("x-amz-a,", 10000), ",")
	oneMiB := "x-amz-" + strings.Repeat("a", 1<<20)
	cases := []struct {
		name         string
		method       []string // Access-Control-Request-Method lines
		headers      []string // Access-Control-Request-Headers lines
		wantStatus   int
		allowHeaders string
		wantMethod   string // in the refusal's body
	}{
		{"an allowed method", []string{"PUT"}, nil, http.StatusOK, "", ""},
		{"lower case", []string{"get"}, nil, http.StatusForbidden, "", "get"},
		{"an unknown token", []string{"FROB"}, nil, http.StatusForbidden, "", "FROB"},
		{"CONNECT", []string{"CONNECT"}, nil, http.StatusForbidden, "", "CONNECT"},
		{"empty", []string{""}, nil, http.StatusForbidden, "", "OPTIONS"},
		{"absent", nil, nil, http.StatusForbidden, "", "OPTIONS"},
		{"XML in the method", []string{"<x>&"}, nil, http.StatusForbidden, "", "<x>&"},
		{"allowed headers", []string{"PUT"}, []string{"content-type,x-amz-date"}, http.StatusOK, "content-type, x-amz-date", ""},
		{"duplicates", []string{"PUT"}, []string{"content-type,content-type"}, http.StatusOK, "content-type, content-type", ""},
		{"odd whitespace and empty elements", []string{"PUT"}, []string{" Content-Type ,\t X-Amz-Date ,, "}, http.StatusOK, "content-type, x-amz-date", ""},
		{"several lines", []string{"PUT"}, []string{"content-type", "x-amz-date"}, http.StatusOK, "content-type, x-amz-date", ""},
		{"a header no rule allows", []string{"PUT"}, []string{"content-type,x-evil"}, http.StatusForbidden, "", "PUT"},
		{"a name that is no token", []string{"PUT"}, []string{"content-type,x-amz(date)"}, http.StatusForbidden, "", "PUT"},
		{"10,000 allowed names", []string{"PUT"}, []string{manyNames}, http.StatusForbidden, "", "PUT"},
		{"1 MiB of one name", []string{"PUT"}, []string{oneMiB}, http.StatusForbidden, "", "PUT"},
		{"1,000 lines", []string{"PUT"}, strings.Split(strings.Repeat("x-amz-a\n", 1000), "\n"), http.StatusForbidden, "", "PUT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := http.Header{"Origin": {allowedOrigin}}
			if tc.method != nil {
				header["Access-Control-Request-Method"] = tc.method
			}
			if tc.headers != nil {
				header["Access-Control-Request-Headers"] = tc.headers
			}
			rec, err := serveRecorded(h, hostileRequest(http.MethodOptions, "/assets/key", header), mustNotRun(t))
			if err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusOK {
				checkCORSHeaders(t, rec.Header(), preflightGrant(allowedOrigin, tc.allowHeaders))
				return
			}
			checkCORSHeaders(t, rec.Header(), refusedPreflight)
			checkS3Error(t, rec.Header(), rec.Body.Bytes(), notAllowedBody(tc.wantMethod))
		})
	}
}

func TestHostileBucketsAndPaths(t *testing.T) {
	const block = `bucket_cors {
	policy assets {
		rule {
			origins https://allowed.example.com
			methods GET
		}
	}
}`
	pathStyle := handlerFromCaddyfile(t, block)
	virtual := handlerFromCaddyfile(t, strings.Replace(block, "bucket_cors {", "bucket_cors {\n\tbucket {http.request.host.labels.3}", 1))
	cases := []struct {
		name    string
		h       *Handler
		host    string
		target  string
		allowed bool
	}{
		{"the bucket itself", pathStyle, "s3.example.com", "/assets/key", true},
		{"an empty bucket", pathStyle, "s3.example.com", "/", false},
		{"an empty first segment", pathStyle, "s3.example.com", "//assets/key", false},
		{"dot dot", pathStyle, "s3.example.com", "/../assets/key", false},
		{"dot", pathStyle, "s3.example.com", "/./key", false},
		// The path is decoded before the bucket is read, as the origin
		// reads it: an encoded slash ends the bucket's name.
		{"an encoded slash after the bucket", pathStyle, "s3.example.com", "/assets%2Fkey", true},
		{"an encoded slash in another name", pathStyle, "s3.example.com", "/other%2Fassets/key", false},
		{"an encoded letter", pathStyle, "s3.example.com", "/%61ssets/key", true},
		{"a 1 KiB bucket name", pathStyle, "s3.example.com", "/" + strings.Repeat("a", 1024) + "/key", false},
		{"a bucket name with a NUL", pathStyle, "s3.example.com", "/assets%00/key", false},
		{"a virtual-hosted bucket", virtual, "assets.s3.example.com", "/key", true},
		{"extra labels on the left", virtual, "evil.assets.s3.example.com", "/key", false},
		{"too few labels", virtual, "s3.example.com", "/key", false},
		{"a 1 KiB label", virtual, strings.Repeat("a", 1024) + ".s3.example.com", "/key", false},
		{"a port", virtual, "assets.s3.example.com:8443", "/key", true},
		{"upper case", virtual, "ASSETS.s3.example.com", "/key", true},
		{"a trailing dot", virtual, "assets.s3.example.com.", "/key", true},
		{"an IPv6 literal", virtual, "[::1]:8443", "/key", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := hostileRequest(http.MethodOptions, "/", http.Header{
				"Origin": {allowedOrigin}, "Access-Control-Request-Method": {"GET"},
			})
			r.Host = tc.host
			r.RequestURI = tc.target
			u, err := url.ParseRequestURI(tc.target)
			if err != nil {
				t.Fatal(err)
			}
			r.URL = u
			rec, err := serveRecorded(tc.h, r, mustNotRun(t))
			if err != nil {
				t.Fatal(err)
			}
			if tc.allowed {
				if rec.Code != http.StatusOK {
					t.Fatalf("status = %d, want 200", rec.Code)
				}
				checkCORSHeaders(t, rec.Header(), http.Header{
					"Access-Control-Allow-Origin":      {allowedOrigin},
					"Access-Control-Allow-Credentials": {"true"},
					"Access-Control-Allow-Methods":     {"GET"},
					"Vary":                             {grantVaryLine},
				})
				return
			}
			if rec.Code != http.StatusForbidden {
				t.Fatalf("status = %d, want 403", rec.Code)
			}
			checkS3Error(t, rec.Header(), rec.Body.Bytes(), notEnabledBody("GET"))
		})
	}
}
