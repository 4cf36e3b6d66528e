package caddymodule

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// callAdmin sends a request to the admin routes of AdminAPI, mounted on a
// ServeMux by their patterns as Caddy's admin server mounts them, and
// returns the answer and the handler's error.
func callAdmin(t *testing.T, method, path string) (*httptest.ResponseRecorder, error) {
	t.Helper()
	return callAdminWith(t, method, path, nil)
}

// callAdminWith is callAdmin with a request body.
func callAdminWith(t *testing.T, method, path string, body io.Reader) (*httptest.ResponseRecorder, error) {
	t.Helper()
	mux := http.NewServeMux()
	var handlerErr error
	for _, route := range (AdminAPI{}).Routes() {
		handler := route.Handler
		mux.HandleFunc(route.Pattern, func(w http.ResponseWriter, r *http.Request) {
			handlerErr = handler.ServeHTTP(w, r)
		})
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(method, path, body))
	return rec, handlerErr
}

// adminPolicy is the answer of GET /bucket_cors/policies/<bucket>.
type adminPolicy struct {
	Bucket   string `json:"bucket"`
	Handlers []struct {
		Source     string          `json:"source"`
		AgeSeconds float64         `json:"age_seconds"`
		Stale      bool            `json:"stale"`
		Policy     json.RawMessage `json:"policy"`
	} `json:"handlers"`
}

func getAdminPolicy(t *testing.T, bucket string) adminPolicy {
	t.Helper()
	rec, err := callAdmin(t, http.MethodGet, "/bucket_cors/policies/"+bucket)
	if err != nil {
		t.Fatalf("GET policy of %s: %v", bucket, err)
	}
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET policy of %s: status %d, Content-Type %q", bucket, rec.Code, rec.Header().Get("Content-Type"))
	}
	var ans adminPolicy
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		t.Fatalf("GET policy of %s: %v\n%s", bucket, err, rec.Body)
	}
	if ans.Bucket != bucket || len(ans.Handlers) != 1 {
		t.Fatalf("GET policy of %s: answer for bucket %q from %d handlers, want one", bucket, ans.Bucket, len(ans.Handlers))
	}
	return ans
}

// TestAdminShowsEachBucketsEffectivePolicy: the admin API tells, for each
// kind of source, the policy a bucket gets (as R2 JSON), where it came
// from and how old it is.
func TestAdminShowsEachBucketsEffectivePolicy(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	writeFile(t, dir, "docs.json", allowing("https://docs.example.com"))
	h := handlerAt(t, clock, `bucket_cors {
	policy assets {
		rule {
			id      web
			origins https://app.example.com
			methods GET PUT
			headers content-type
			expose  ETag
			max_age 10m
		}
	}
	policy * {
		rule {
			origins *
			methods GET
		}
	}
	policy_file media testdata/policies/media.xml
	policy_dir `+dir+`
	cache {
		ttl 30s
	}
}`)
	getAdminPolicy(t, "docs") // loads it now
	clock.Advance(12 * time.Second)

	tests := []struct {
		bucket     string
		wantSource string
		wantAge    float64 // -1: the age of a policy read at provision
		wantPolicy string
	}{
		{"assets", "policies", -1, `[{"ID": "web", "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "PUT"],
			"AllowedHeaders": ["content-type"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]`},
		{"media", "testdata/policies/media.xml", -1, `[{"ID": "player", "AllowedOrigins": ["https://player.example.com"], "AllowedMethods": ["GET", "HEAD"],
			"AllowedHeaders": ["range"], "ExposeHeaders": ["Content-Range"], "MaxAgeSeconds": 600}]`},
		{"docs", "policy_dir", 12, `[{"AllowedOrigins": ["https://docs.example.com"], "AllowedMethods": ["GET"]}]`},
		{"photos", "default", -1, `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]`},
	}
	for _, tc := range tests {
		t.Run(tc.bucket, func(t *testing.T) {
			got := getAdminPolicy(t, tc.bucket).Handlers[0]
			if got.Source != tc.wantSource {
				t.Errorf("source = %q, want %q", got.Source, tc.wantSource)
			}
			if tc.wantAge >= 0 && got.AgeSeconds != tc.wantAge {
				t.Errorf("age = %vs, want %vs", got.AgeSeconds, tc.wantAge)
			}
			if tc.wantAge < 0 && (got.AgeSeconds < 0 || got.AgeSeconds > testTimeout.Seconds()) {
				t.Errorf("age = %vs, want the time since the handler was provisioned", got.AgeSeconds)
			}
			if got.Stale {
				t.Error("stale, want fresh")
			}
			checkSameJSON(t, got.Policy, []byte(tc.wantPolicy))
		})
	}

	t.Run("a policy kept after its file broke is stale", func(t *testing.T) {
		writeFile(t, dir, "docs.json", "not a policy")
		clock.Advance(dirTTL)
		getAdminPolicy(t, "docs") // past its TTL: the old policy, and a refresh
		settle(t, h)
		got := getAdminPolicy(t, "docs").Handlers[0]
		if !got.Stale || got.Source != "policy_dir" || got.AgeSeconds != 12+dirTTL.Seconds() {
			t.Errorf("got source %q, age %vs, stale %v; want policy_dir, %vs, stale", got.Source, got.AgeSeconds, got.Stale, 12+dirTTL.Seconds())
		}
		checkSameJSON(t, got.Policy, []byte(`[{"AllowedOrigins": ["https://docs.example.com"], "AllowedMethods": ["GET"]}]`))
	})
}

// TestAdminShowsNoPolicy: a bucket that no source has, and no default
// policy covers, shows source "none" and a null policy.
func TestAdminShowsNoPolicy(t *testing.T) {
	clock := newFakeClock()
	handlerAt(t, clock, `bucket_cors {
	policy_dir `+t.TempDir()+`
}`)
	got := getAdminPolicy(t, "photos").Handlers[0]
	if got.Source != "none" || string(got.Policy) != "null" {
		t.Errorf("source %q, policy %s; want none and null", got.Source, got.Policy)
	}
}

// TestAdminWithoutHandlersAnswersAnEmptyList: a config without bucket_cors
// answers an empty list of handlers, which clients can iterate.
func TestAdminWithoutHandlersAnswersAnEmptyList(t *testing.T) {
	if n := len(liveHandlers()); n != 0 {
		t.Fatalf("%d handlers of other tests are still live", n)
	}
	rec, err := callAdmin(t, http.MethodGet, "/bucket_cors/policies/assets")
	if err != nil {
		t.Fatal(err)
	}
	checkSameJSON(t, rec.Body.Bytes(), []byte(`{"bucket": "assets", "handlers": []}`))
}

// TestAdminDeleteCacheDropsEntries: after DELETE of one bucket's entry that
// bucket's policy is read again at once, the others' not; DELETE of the
// whole cache reads every bucket again.
func TestAdminDeleteCacheDropsEntries(t *testing.T) {
	clock := newFakeClock() // the clock stands still: no entry expires on its own
	dir := t.TempDir()
	writeFile(t, dir, "docs.json", allowing(appOrigin))
	writeFile(t, dir, "media.json", allowing(appOrigin))
	h := dirHandler(t, clock, dir)
	for _, bucket := range []string{"docs", "media"} {
		if got := policyOf(t, h, bucket); got != allowsApp {
			t.Fatalf("%s at start: %s", bucket, got)
		}
	}
	writeFile(t, dir, "docs.json", allowing(otherOrigin))
	writeFile(t, dir, "media.json", allowing(otherOrigin))

	steps := []struct {
		path      string
		wantDocs  string
		wantMedia string
	}{
		{"/bucket_cors/cache/docs", allowsOther, allowsApp},
		{"/bucket_cors/cache", allowsOther, allowsOther},
	}
	for _, step := range steps {
		rec, err := callAdmin(t, http.MethodDelete, step.path)
		if err != nil || rec.Code != http.StatusNoContent {
			t.Fatalf("DELETE %s: status %d, error %v; want 204", step.path, rec.Code, err)
		}
		if got := policyOf(t, h, "docs"); got != step.wantDocs {
			t.Errorf("after DELETE %s, docs: %s, want %s", step.path, got, step.wantDocs)
		}
		if got := policyOf(t, h, "media"); got != step.wantMedia {
			t.Errorf("after DELETE %s, media: %s, want %s", step.path, got, step.wantMedia)
		}
	}
}

// TestAdminRefreshRereadsWhileServing: POST /bucket_cors/refresh[/<bucket>]
// re-reads cached policies in the background; until a re-read ends, the
// cached policy keeps serving.
func TestAdminRefreshRereadsWhileServing(t *testing.T) {
	clock := newFakeClock() // no entry expires on its own
	dir := t.TempDir()
	writeFile(t, dir, "docs.json", allowing(appOrigin))
	writeFile(t, dir, "media.json", allowing(appOrigin))
	h := dirHandler(t, clock, dir)
	for _, bucket := range []string{"docs", "media"} {
		if got := policyOf(t, h, bucket); got != allowsApp {
			t.Fatalf("%s at start: %s", bucket, got)
		}
	}
	writeFile(t, dir, "docs.json", allowing(otherOrigin))
	writeFile(t, dir, "media.json", allowing(otherOrigin))
	if got := policyOf(t, h, "docs"); got != allowsApp {
		t.Fatalf("before any refresh, docs: %s; want the cached policy", got)
	}

	steps := []struct {
		path      string
		wantDocs  string
		wantMedia string
	}{
		{"/bucket_cors/refresh/docs", allowsOther, allowsApp},
		{"/bucket_cors/refresh", allowsOther, allowsOther},
	}
	for _, step := range steps {
		rec, err := callAdmin(t, http.MethodPost, step.path)
		if err != nil || rec.Code != http.StatusAccepted {
			t.Fatalf("POST %s: status %d, error %v; want 202", step.path, rec.Code, err)
		}
		settle(t, h)
		if got := policyOf(t, h, "docs"); got != step.wantDocs {
			t.Errorf("after POST %s, docs: %s, want %s", step.path, got, step.wantDocs)
		}
		if got := policyOf(t, h, "media"); got != step.wantMedia {
			t.Errorf("after POST %s, media: %s, want %s", step.path, got, step.wantMedia)
		}
	}
}

// TestAdminRefusesWrongRequests: wrong methods and names that are no
// bucket are API errors with the status that says so.
func TestAdminRefusesWrongRequests(t *testing.T) {
	clock := newFakeClock()
	handlerAt(t, clock, `bucket_cors {
	policy_dir `+t.TempDir()+`
}`)
	tests := []struct {
		method, path string
		wantStatus   int
	}{
		{http.MethodPost, "/bucket_cors/policies/assets", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/bucket_cors/policies/assets", http.StatusMethodNotAllowed},
		{http.MethodGet, "/bucket_cors/policies/", http.StatusBadRequest},
		{http.MethodGet, "/bucket_cors/policies/a%2Fb", http.StatusBadRequest},
		{http.MethodGet, "/bucket_cors/policies/...", http.StatusBadRequest},
		{http.MethodGet, "/bucket_cors/cache", http.StatusMethodNotAllowed},
		{http.MethodPost, "/bucket_cors/cache/assets", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/bucket_cors/cache/a%20b", http.StatusBadRequest},
		{http.MethodGet, "/bucket_cors/refresh", http.StatusMethodNotAllowed},
		{http.MethodPost, "/bucket_cors/refresh/a%20b", http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			_, err := callAdmin(t, tc.method, tc.path)
			var apiErr caddy.APIError
			if !errors.As(err, &apiErr) || apiErr.HTTPStatus != tc.wantStatus {
				t.Errorf("error = %#v, want an APIError with status %d", err, tc.wantStatus)
			}
		})
	}
}
