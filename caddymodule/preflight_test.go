package caddymodule

import (
	"net/http"
	"testing"
)

// grantVaryLine is the Vary line of a grant and of every preflight answer
// but S3's 400, as S3 writes it.
const grantVaryLine = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

// preflightVaryLine is the Vary of every preflight answer but S3's 400.
var preflightVaryLine = http.Header{"Vary": {"Origin, Access-Control-Request-Headers, Access-Control-Request-Method"}}

// TestPreflightAnswersFollowS3 walks DESIGN.md's preflight table: each
// answer's status, its whole set of CORS headers and its S3 error body,
// and that no preflight reaches the origin.
func TestPreflightAnswersFollowS3(t *testing.T) {
	h := handlerFromCaddyfile(t, `bucket_cors {
	`+assetsPolicy+`
}`)
	upstream := newMinioLike(t)
	srv := frontServer(t, h, proxyTo(upstream.URL))

	tests := []struct {
		name       string
		path       string
		header     []string
		wantStatus int
		wantCORS   http.Header
		wantError  *s3ErrorBody // nil: an empty body
	}{
		{
			name:       "OPTIONS without Origin is S3's 400",
			path:       "/assets/photo.jpg",
			header:     []string{"Access-Control-Request-Method", "GET"},
			wantStatus: http.StatusBadRequest,
			wantError:  badRequestBody(),
		},
		{
			name:       "OPTIONS without Origin on a bucket without policy is S3's 400 too",
			path:       "/nopolicy/photo.jpg",
			wantStatus: http.StatusBadRequest,
			wantError:  badRequestBody(),
		},
		{
			name:       "Origin without Access-Control-Request-Method asks for OPTIONS, which no rule allows",
			path:       "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin},
			wantStatus: http.StatusForbidden,
			wantCORS:   preflightVaryLine,
			wantError:  notAllowedBody("OPTIONS"),
		},
		{
			name:       "bucket without policy",
			path:       "/nopolicy/photo.jpg",
			header:     []string{"Origin", appOrigin, "Access-Control-Request-Method", "GET"},
			wantStatus: http.StatusForbidden,
			wantCORS:   preflightVaryLine,
			wantError:  notEnabledBody("GET"),
		},
		{
			name:       "bucket without policy, no Access-Control-Request-Method",
			path:       "/nopolicy/photo.jpg",
			header:     []string{"Origin", appOrigin},
			wantStatus: http.StatusForbidden,
			wantCORS:   preflightVaryLine,
			wantError:  notEnabledBody("OPTIONS"),
		},
		{
			name:       "no rule allows the origin for the method",
			path:       "/assets/photo.jpg",
			header:     []string{"Origin", otherOrigin, "Access-Control-Request-Method", "PUT"},
			wantStatus: http.StatusForbidden,
			wantCORS:   preflightVaryLine,
			wantError:  notAllowedBody("PUT"),
		},
		{
			name:       "no rule allows the method",
			path:       "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin, "Access-Control-Request-Method", "DELETE"},
			wantStatus: http.StatusForbidden,
			wantCORS:   preflightVaryLine,
			wantError:  notAllowedBody("DELETE"),
		},
		{
			name:       "no rule allows a requested header",
			path:       "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type,x-custom"},
			wantStatus: http.StatusForbidden,
			wantCORS:   preflightVaryLine,
			wantError:  notAllowedBody("PUT"),
		},
		{
			name:       "two Origin headers are no origin a rule can allow",
			path:       "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin, "Origin", previewOrigin, "Access-Control-Request-Method", "GET"},
			wantStatus: http.StatusForbidden,
			wantCORS:   preflightVaryLine,
			wantError:  notAllowedBody("GET"),
		},
		{
			name: "a rule matches: its headers, requested headers lowercased, the Vary triple",
			path: "/assets/uploads/photo.jpg",
			header: []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT",
				"Access-Control-Request-Headers", "Content-Type, X-Amz-Meta-Owner"},
			wantStatus: http.StatusOK,
			wantCORS: with(appGrant,
				"Access-Control-Allow-Headers", "content-type, x-amz-meta-owner",
				"Vary", preflightVaryLine.Get("Vary")),
		},
		{
			name:       "a rule matches without requested headers: no Allow-Headers",
			path:       "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin, "Access-Control-Request-Method", "HEAD"},
			wantStatus: http.StatusOK,
			wantCORS:   with(appGrant, "Vary", preflightVaryLine.Get("Vary")),
		},
		{
			name:       "an origin pattern with * matches a subdomain",
			path:       "/assets/photo.jpg",
			header:     []string{"Origin", previewOrigin, "Access-Control-Request-Method", "GET"},
			wantStatus: http.StatusOK,
			wantCORS:   with(grantFor(appGrant, previewOrigin), "Vary", preflightVaryLine.Get("Vary")),
		},
		{
			name:       "the first matching rule wins over the * rule",
			path:       "/assets/photo.jpg",
			header:     []string{"Origin", appOrigin, "Access-Control-Request-Method", "GET"},
			wantStatus: http.StatusOK,
			wantCORS:   with(appGrant, "Vary", preflightVaryLine.Get("Vary")),
		},
		{
			name:       "a * rule answers * and no credentials",
			path:       "/assets/photo.jpg",
			header:     []string{"Origin", otherOrigin, "Access-Control-Request-Method", "GET"},
			wantStatus: http.StatusOK,
			wantCORS:   with(publicGrant, "Vary", preflightVaryLine.Get("Vary")),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, srv.Client(), newRequest(t, http.MethodOptions, srv.URL+tc.path, tc.header...))
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d; body:\n%s", resp.StatusCode, tc.wantStatus, body)
			}
			checkCORSHeaders(t, resp.Header, tc.wantCORS)
			if tc.wantError != nil {
				checkS3Error(t, resp.Header, body, tc.wantError)
			} else if len(body) != 0 {
				t.Errorf("body = %q, want none", body)
			}
		})
	}
	if n := upstream.requestCount(); n != 0 {
		t.Errorf("the origin got %d requests; a preflight must never reach it", n)
	}
}

// TestPreflightIsAnsweredWithoutNext: a preflight that no rule allows, and
// one that a rule allows, are both answered without calling next.
func TestPreflightIsAnsweredWithoutNext(t *testing.T) {
	h := handlerFromCaddyfile(t, `bucket_cors {
	`+assetsPolicy+`
}`)
	for _, origin := range []string{appOrigin, otherOrigin} {
		req := newRequest(t, http.MethodOptions, "http://proxy.example/assets/a.txt",
			"Origin", origin, "Access-Control-Request-Method", "PUT")
		if _, err := serveRecorded(h, req, mustNotRun(t)); err != nil {
			t.Errorf("ServeHTTP: %v", err)
		}
	}
}
