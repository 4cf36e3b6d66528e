package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBucketOfARequestPicksItsPolicy: the bucket placeholder (path-style by
// default, a host label for virtual-hosted buckets, or a literal) decides
// which policy answers; an unknown bucket gets the `*` policy, and a request
// that names no valid bucket gets no policy at all, not even the default.
func TestBucketOfARequestPicksItsPolicy(t *testing.T) {
	const policies = assetsPolicy + `
	policy * {
		rule {
			origins *
			methods GET
		}
	}`
	// Which policy answered a preflight for GET from the app's origin.
	const (
		wantAssets  = "assets"
		wantDefault = "default"
		wantNone    = "none"
		hostLabel3  = "{http.request.host.labels.3}"
		pathDefault = ""
	)
	tests := []struct {
		name   string
		bucket string // the bucket subdirective; "" for the default
		host   string
		path   string
		want   string
	}{
		{"path-style bucket", pathDefault, "s3.example.com", "/assets/img/a.png", wantAssets},
		{"path-style bucket without key", pathDefault, "s3.example.com", "/assets", wantAssets},
		{"path-style bucket with trailing slash", pathDefault, "s3.example.com", "/assets/", wantAssets},
		{"path-style bucket without own policy gets *", pathDefault, "s3.example.com", "/photos/a.png", wantDefault},
		{"empty path names no bucket", pathDefault, "s3.example.com", "/", wantNone},
		{"empty first segment names no bucket", pathDefault, "s3.example.com", "//assets/a.png", wantNone},
		{"dot-dot names no bucket", pathDefault, "s3.example.com", "/../assets/a.png", wantNone},
		{"a single dot names no bucket", pathDefault, "s3.example.com", "/./a.png", wantNone},
		{"characters no bucket has", pathDefault, "s3.example.com", "/assets x/a.png", wantNone},
		{"a name too long for any bucket", pathDefault, "s3.example.com", "/" + strings.Repeat("a", 256) + "/k", wantNone},
		{"the longest name a store allows", pathDefault, "s3.example.com", "/" + strings.Repeat("a", 255) + "/k", wantDefault},

		// Host labels count from the right: for assets.s3.example.com,
		// 0 is com, 1 example, 2 s3 and 3 the bucket.
		{"virtual-hosted bucket", hostLabel3, "assets.s3.example.com", "/img/a.png", wantAssets},
		{"virtual-hosted bucket, upper case and port", hostLabel3, "ASSETS.s3.example.com:8443", "/img/a.png", wantAssets},
		{"virtual-hosted bucket without own policy gets *", hostLabel3, "photos.s3.example.com", "/a.png", wantDefault},
		{"virtual-hosted: the path does not matter", hostLabel3, "photos.s3.example.com", "/assets/a.png", wantDefault},
		{"host without a bucket label names no bucket", hostLabel3, "s3.example.com", "/assets/a.png", wantNone},

		{"literal bucket", "assets", "s3.example.com", "/photos/a.png", wantAssets},
		{"literal bucket, empty path", "assets", "s3.example.com", "/", wantAssets},
		{"placeholder and literal together", "{http.request.host.labels.3}-archive", "assets.s3.example.com", "/a.png", wantDefault},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			block := "bucket_cors {\n"
			if tc.bucket != "" {
				block += "\tbucket " + tc.bucket + "\n"
			}
			h := handlerFromCaddyfile(t, block+"\t"+policies+"\n}")

			req := httptest.NewRequest(http.MethodOptions, "http://"+tc.host+"/", nil)
			req.URL.Path = tc.path // as the server decoded it, dot segments kept
			req.Header.Set("Origin", appOrigin)
			req.Header.Set("Access-Control-Request-Method", "GET")
			rec, err := serveRecorded(h, req, mustNotRun(t))
			if err != nil {
				t.Fatalf("ServeHTTP: %v", err)
			}

			vary := preflightVaryLine.Get("Vary")
			switch tc.want {
			case wantAssets:
				checkCORSHeaders(t, rec.Header(), with(appGrant, "Vary", vary))
			case wantDefault:
				checkCORSHeaders(t, rec.Header(), with(publicGrant, "Vary", vary))
			case wantNone:
				if rec.Code != http.StatusForbidden {
					t.Errorf("status = %d, want 403", rec.Code)
				}
				checkS3Error(t, rec.Header(), rec.Body.Bytes(), notEnabledBody("GET"))
			}
		})
	}
}

// TestRequestWithoutBucketGetsVaryOriginOnly: an actual request that names
// no bucket has no policy: its answer loses the origin's CORS headers and
// gets Vary: Origin, as every answer does.
func TestRequestWithoutBucketGetsVaryOriginOnly(t *testing.T) {
	h := handlerFromCaddyfile(t, `bucket_cors {
	policy * {
		rule {
			origins *
			methods GET
		}
	}
}`)
	upstream := newMinioLike(t)
	srv := frontServer(t, h, proxyTo(upstream.URL))
	resp, _ := do(t, srv.Client(), newRequest(t, http.MethodGet, srv.URL+"/", "Origin", appOrigin, "X-Test-Upstream-Vary", ""))
	checkCORSHeaders(t, resp.Header, varyOrigin)
}
