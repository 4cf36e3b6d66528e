package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// localstackPolicy is the policy of AWS's recorded answers (LocalStack's S3
// CORS snapshot tests, validated against AWS S3).
const localstackPolicy = `bucket_cors {
	policy bucket {
		rule {
			origins https://localhost:4200
			methods GET PUT
			max_age 3000
		}
	}
}`

// okNext answers 200 with a body and no header of its own.
var okNext = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
	_, err := w.Write([]byte("object"))
	return err
})

// TestActualRequestsAnswerAsAWSDoes checks actual requests against AWS's
// recorded answers: a match gets the grant with the three-name Vary; a
// request carrying Access-Control-Request-Method or -Headers is judged as a
// preflight is, and gets no Access-Control-* header when those are not
// allowed. Where AWS sends no Vary on such a refusal, the module sends
// Vary: Origin, so that no shared cache serves one origin's answer to
// another.
func TestActualRequestsAnswerAsAWSDoes(t *testing.T) {
	h := handlerFromCaddyfile(t, localstackPolicy)
	const origin = "https://localhost:4200"
	grant := http.Header{
		"Access-Control-Allow-Origin":      {origin},
		"Access-Control-Allow-Credentials": {"true"},
		"Access-Control-Allow-Methods":     {"GET, PUT"},
		"Access-Control-Max-Age":           {"3000"},
		"Vary":                             {grantVaryLine},
	}
	tests := []struct {
		name   string
		method string
		header []string
		want   http.Header
	}{
		{"GET from the allowed origin", http.MethodGet, []string{"Origin", origin}, grant},
		{"PUT from the allowed origin", http.MethodPut, []string{"Origin", origin}, grant},
		{"GET with Access-Control-Request-Method PUT: allowed too", http.MethodGet,
			[]string{"Origin", origin, "Access-Control-Request-Method", "PUT"}, grant},
		{"GET with Access-Control-Request-Method DELETE, which no rule allows", http.MethodGet,
			[]string{"Origin", origin, "Access-Control-Request-Method", "DELETE"}, varyOrigin},
		{"GET with Access-Control-Request-Headers no rule allows", http.MethodGet,
			[]string{"Origin", origin, "Access-Control-Request-Headers", "x-amz-request-payer"}, varyOrigin},
		{"GET from another origin", http.MethodGet, []string{"Origin", "https://localhost:4201"}, varyOrigin},
		{"DELETE from the allowed origin", http.MethodDelete, []string{"Origin", origin}, varyOrigin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := serveRecorded(h, newRequest(t, tc.method, "http://proxy.example/bucket/key", tc.header...), okNext)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Code != http.StatusOK || rec.Body.String() != "object" {
				t.Errorf("answer = %d %q, want the origin's 200 \"object\"", rec.Code, rec.Body.String())
			}
			checkCORSHeaders(t, rec.Header(), tc.want)
		})
	}
}

// TestRefusedPreflightNamesBucketOrObject: S3 names the bucket itself
// BUCKET and an object OBJECT in a refused preflight's XML.
func TestRefusedPreflightNamesBucketOrObject(t *testing.T) {
	h := handlerFromCaddyfile(t, localstackPolicy)
	for _, tc := range []struct{ path, resourceType string }{
		{"/bucket", "BUCKET"},
		{"/bucket/", "BUCKET"},
		{"/bucket//", "BUCKET"},
		{"/bucket/key", "OBJECT"},
		{"/bucket/dir/", "OBJECT"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec, err := serveRecorded(h, newRequest(t, http.MethodOptions, "http://proxy.example"+tc.path,
				"Origin", "https://localhost:4200", "Access-Control-Request-Method", "DELETE"), mustNotRun(t))
			if err != nil {
				t.Fatal(err)
			}
			if rec.Code != http.StatusForbidden {
				t.Fatalf("status = %d, want 403", rec.Code)
			}
			want := notAllowedBody("DELETE")
			want.ResourceType = tc.resourceType
			checkS3Error(t, rec.Header(), rec.Body.Bytes(), want)
			checkCORSHeaders(t, rec.Header(), preflightVaryLine)
		})
	}
}

// TestRequestWithoutOriginNeverWaitsForAPolicy: a GET without Origin (an
// SDK download) needs no policy, so it goes to the origin at once, even when
// the policy store hangs, and the store is not asked at all.
func TestRequestWithoutOriginNeverWaitsForAPolicy(t *testing.T) {
	var asked atomic.Int32
	release := make(chan struct{})
	store := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/policies/never-seen.xml" { // the index's listings are not about the request
			asked.Add(1)
		}
		<-release
	}))
	t.Cleanup(store.Close)
	t.Cleanup(func() { close(release) })
	h := handlerFromCaddyfile(t, `bucket_cors {
	policy_store s3 {
		endpoint   `+store.URL+`
		bucket     policies
		access_key test
		secret_key test-secret
	}
	cache {
		load_timeout 20s
	}
}`)
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		rec, _ := serveRecorded(h, newRequest(t, http.MethodGet, "http://proxy.example/never-seen/key"), okNext)
		done <- rec
	}()
	select {
	case rec := <-done:
		if rec.Code != http.StatusOK {
			t.Errorf("status = %d, want the origin's 200", rec.Code)
		}
		checkCORSHeaders(t, rec.Header(), varyOrigin)
	case <-time.After(10 * time.Second):
		t.Fatal("a GET without Origin waited for the hanging policy store")
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the policy store was asked %d times; a request without Origin needs no policy", n)
	}
}
