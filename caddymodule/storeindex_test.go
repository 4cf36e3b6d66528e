package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/bucketcors/bucketcors/internal/testrig"
	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/source"
)

const (
	storeDocApp  = `<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
	storeDocBeta = `<CORSConfiguration><CORSRule><AllowedOrigin>https://beta.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
)

// indexedHandler returns a handler whose policy_store is p's, read through
// its counter, with the given policy_store lines, once its index (if any)
// is ready and its first listing counted. (The index is ready before the
// listing is: the listing still deletes old change records, a request to
// the store, before the round is counted.)
func indexedHandler(t *testing.T, p *testrig.PolicyStore, lines string) *Handler {
	t.Helper()
	h := handlerFromCaddyfile(t, fmt.Sprintf(`bucket_cors {
	policy_store s3 {
		endpoint   %s
		bucket     policies
		access_key %s
		secret_key %s
		%s
	}
}`, p.Counter.URL, p.MinIO.AccessKey, p.MinIO.SecretKey, lines))
	if _, indexed := h.policies.Sources.IndexStatus(); indexed {
		waitFor(t, "the index ready", func() bool { st, _ := h.policies.Sources.IndexStatus(); return st.Ready })
	}
	return h
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	testrig.WaitFor(t, what, testTimeout, ok)
}

// preflightStatus sends a GET preflight from origin for bucket.
func preflightStatus(t *testing.T, h *Handler, bucket, origin string) int {
	t.Helper()
	rec, err := serveRecorded(h, newRequest(t, http.MethodOptions, "http://proxy.example/"+bucket+"/key",
		"Origin", origin, "Access-Control-Request-Method", "GET"), mustNotRun(t))
	if err != nil {
		t.Fatal(err)
	}
	return rec.Code
}

// TestIndexAdminEndpoint: GET /bucket_cors/index shows each index in use,
// and [] with poll off.
func TestIndexAdminEndpoint(t *testing.T) {
	f := testrig.StartPolicyStore(t, "policies")
	f.Put(t, "photos.xml", storeDocApp)
	f.Put(t, "videos.xml", storeDocApp)
	f.Put(t, "docs.xml", storeDocApp)
	indexedHandler(t, f, "poll 20ms\n\t\tresync 1h")
	indexedHandler(t, f, "poll off")

	rec, err := callAdmin(t, http.MethodGet, "/bucket_cors/index")
	if err != nil || rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /bucket_cors/index: %d %v", rec.Code, err)
	}
	var got []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got) != 1 {
		t.Fatalf("GET /bucket_cors/index = %s, want one index (the poll off handler has none)", rec.Body)
	}
	st := got[0]
	for field, want := range map[string]any{
		"store": "s3://policies/", "ready": true, "entries": 3.0, "poll_seconds": 0.02, "resync_seconds": 3600.0, "listings": 1.0, "errors": 0.0,
	} {
		if st[field] != want {
			t.Errorf("%s = %v, want %v", field, st[field], want)
		}
	}
	for _, field := range []string{"last_sync", "last_listing"} {
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(st[field])); err != nil {
			t.Errorf("%s = %v: %v", field, st[field], err)
		}
	}
	for _, field := range []string{"polls", "changes_applied"} {
		if _, ok := st[field].(float64); !ok {
			t.Errorf("%s = %v, want a number", field, st[field])
		}
	}
	var apiErr caddy.APIError
	if _, err := callAdmin(t, http.MethodPost, "/bucket_cors/index"); !errors.As(err, &apiErr) || apiErr.HTTPStatus != http.StatusMethodNotAllowed {
		t.Errorf("POST /bucket_cors/index: %v, want 405", err)
	}
}

// TestIndexedStoreAnswersAndSwapsChanges: a bucket without policy costs
// no request; a change written by another proxy's index is swapped in
// within a few polls and measured; the policy view shows the ETag and
// when it was checked. (That a change through this proxy's API is cached
// with its new ETag is lookup's TestCORSAPIStore.)
func TestIndexedStoreAnswersAndSwapsChanges(t *testing.T) {
	f := testrig.StartPolicyStore(t, "policies")
	f.Put(t, "photos.xml", storeDocApp)
	h := indexedHandler(t, f, "poll 20ms")

	if code := preflightStatus(t, h, "photos", appOrigin); code != http.StatusOK {
		t.Fatalf("photos: preflight %d, want 200", code)
	}
	f.Counter.Take()
	for i := range 20 {
		if code := preflightStatus(t, h, fmt.Sprintf("made-up-%d", i), appOrigin); code != http.StatusForbidden {
			t.Fatalf("a made-up bucket: preflight %d, want 403", code)
		}
	}
	if reads := slices.DeleteFunc(f.Counter.Take(), func(r testrig.StoreRequest) bool { return r.Kind == testrig.KindList }); len(reads) != 0 {
		t.Errorf("preflights for buckets with no policy read the store: %v", reads)
	}

	// Another proxy changes photos, straight in MinIO: its requests are
	// not counted.
	other := source.NewIndex(&source.Store{Client: f.MinIO.Client(t), Bucket: "policies"}, source.IndexOptions{})
	before := propagationCount(t)
	pol, err := policy.Read("beta", strings.NewReader(storeDocBeta))
	if err != nil {
		t.Fatal(err)
	}
	etag, err := other.PutPolicy(context.Background(), "photos", pol)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other proxy's change enforced", func() bool { return preflightStatus(t, h, "photos", "https://beta.example.com") == http.StatusOK })
	if n := propagationCount(t) - before; n != 1 {
		t.Errorf("bucketcors_policy_propagation_seconds counted %d swaps, want 1", n)
	}
	view := policyView(t, "photos")
	if view.ETag != etag || view.CheckedAt == nil || time.Since(*view.CheckedAt) > time.Minute {
		t.Errorf("policy view etag %q checked_at %v, want %q and a recent time", view.ETag, view.CheckedAt, etag)
	}

}

type policyViewEntry struct {
	ETag      string     `json:"etag"`
	CheckedAt *time.Time `json:"checked_at"`
}

func policyView(t *testing.T, bucket string) policyViewEntry {
	t.Helper()
	rec, err := callAdmin(t, http.MethodGet, "/bucket_cors/policies/"+bucket)
	if err != nil {
		t.Fatal(err)
	}
	var ans struct {
		Handlers []policyViewEntry `json:"handlers"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || len(ans.Handlers) != 1 {
		t.Fatalf("policy view %s: %v", rec.Body, err)
	}
	return ans.Handlers[0]
}

// propagationCount reads how many swaps the propagation histogram counted.
func propagationCount(t *testing.T) uint64 {
	t.Helper()
	var m dto.Metric
	if err := propagationSeconds.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}
