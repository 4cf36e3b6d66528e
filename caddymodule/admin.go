package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/bucketcors/bucketcors/lookup"
	"github.com/bucketcors/bucketcors/policy"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminAPI adds bucket_cors endpoints to Caddy's admin API:
//
//	GET    /bucket_cors/policies/<bucket>  the effective policy of a bucket (R2 JSON), its source and age
//	DELETE /bucket_cors/cache              drop every cached policy
//	DELETE /bucket_cors/cache/<bucket>     drop one bucket's cached policy
//	POST   /bucket_cors/refresh            re-read every cached policy in the background
//	POST   /bucket_cors/refresh/<bucket>   re-read one bucket's policy in the background
//	POST   /bucket_cors/explain            judge a request by a bucket's live policy, and say why
//	GET    /bucket_cors/index              each policy store index: its size, last sync and counters
//
// Each answer covers every bucket_cors handler of the running config.
type AdminAPI struct{}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.bucket_cors",
		New: func() caddy.Module { return new(AdminAPI) },
	}
}

// Routes returns the admin routes.
func (a AdminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "/bucket_cors/policies/", Handler: caddy.AdminHandlerFunc(a.servePolicy)},
		{Pattern: "/bucket_cors/cache", Handler: caddy.AdminHandlerFunc(a.serveCache)},
		{Pattern: "/bucket_cors/cache/", Handler: caddy.AdminHandlerFunc(a.serveCache)},
		{Pattern: "/bucket_cors/refresh", Handler: caddy.AdminHandlerFunc(a.serveRefresh)},
		{Pattern: "/bucket_cors/refresh/", Handler: caddy.AdminHandlerFunc(a.serveRefresh)},
		{Pattern: "/bucket_cors/explain", Handler: caddy.AdminHandlerFunc(a.serveExplain)},
		{Pattern: "/bucket_cors/index", Handler: caddy.AdminHandlerFunc(a.serveIndex)},
	}
}

// effectivePolicy is what the admin API tells of one handler's policy for a
// bucket.
type effectivePolicy struct {
	// Source names where the policy came from: "policies" (inline), a
	// policy file's path, policy_store, policy_dir, policy_origin,
	// "default" (the * policy) or "none".
	Source string `json:"source"`
	// Version identifies the document: an ETag, a file's size and
	// modification time, or a digest.
	Version string `json:"version,omitempty"`
	// ETag is the store object's ETag, for a policy_store policy.
	ETag string `json:"etag,omitempty"`
	// CheckedAt is when the source last confirmed this version: by a
	// read, a 304, or the store index's poll or listing.
	CheckedAt  *time.Time `json:"checked_at,omitempty"`
	AgeSeconds float64    `json:"age_seconds"`
	// Warnings lists what in the policy S3 accepts but no browser can
	// match, one line each.
	Warnings []string        `json:"warnings,omitempty"`
	Stale    bool            `json:"stale,omitempty"`
	Policy   json.RawMessage `json:"policy"`
}

func (AdminAPI) servePolicy(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed; use GET", r.Method)}
	}
	bucket := strings.TrimPrefix(r.URL.Path, "/bucket_cors/policies/")
	if !validBucketName(bucket) {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("%q is not a bucket name", bucket)}
	}
	answers := []effectivePolicy{} // [] rather than null when no handler runs
	for _, h := range liveHandlers() {
		_, ans, err := h.describePolicy(r, bucket)
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadGateway, Err: err}
		}
		answers = append(answers, ans)
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]any{"bucket": bucket, "handlers": answers})
}

// describePolicy resolves bucket's policy as a request would, loading it if
// needed, and says where it came from. The policy is nil when the bucket
// has none.
func (h *Handler) describePolicy(r *http.Request, bucket string) (*policy.Policy, effectivePolicy, error) {
	ans := effectivePolicy{Source: "none", Policy: json.RawMessage("null")}
	d, err := h.policies.Describe(r.Context(), bucket)
	if err != nil || d.Policy == nil {
		return nil, ans, err
	}
	ans.Source, ans.Version, ans.ETag, ans.CheckedAt, ans.Stale = d.Source, d.Version, d.ETag, d.CheckedAt, d.Stale
	ans.AgeSeconds = h.now().Sub(d.LoadedAt).Seconds()
	if w := d.Policy.Warnings(); w != nil {
		ans.Warnings = strings.Split(w.Error(), "\n")
	}
	raw, err := d.Policy.Document().MarshalR2JSON()
	if err != nil {
		return nil, ans, err
	}
	ans.Policy = raw
	return d.Policy, ans, nil
}

// serveIndex answers the state of every policy store index in use: [] when
// there is none.
func (AdminAPI) serveIndex(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed; use GET", r.Method)}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(indexStatuses())
}

// serveCache drops every cached policy, or one bucket's: the next request
// reads it again from its sources, the policy store included whatever its
// index holds.
func (AdminAPI) serveCache(w http.ResponseWriter, r *http.Request) error {
	return onEachSources(w, r, http.MethodDelete, "/bucket_cors/cache", http.StatusNoContent, (*lookup.Sources).Invalidate)
}

// serveRefresh has every cache re-read its policies (or one bucket's) in
// the background, while the policies it holds keep serving. The answer does
// not wait for the reads.
func (AdminAPI) serveRefresh(w http.ResponseWriter, r *http.Request) error {
	return onEachSources(w, r, http.MethodPost, "/bucket_cors/refresh", http.StatusAccepted, (*lookup.Sources).Refresh)
}

// onEachSources answers an admin request on prefix[/<bucket>] with method:
// it applies apply to the sources of every live handler, with the bucket
// ("" for every bucket), and answers status.
func onEachSources(w http.ResponseWriter, r *http.Request, method, prefix string, status int, apply func(*lookup.Sources, string)) error {
	if r.Method != method {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed; use %s", r.Method, method)}
	}
	bucket := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, prefix), "/")
	if bucket != "" && !validBucketName(bucket) {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("%q is not a bucket name", bucket)}
	}
	for _, h := range liveHandlers() {
		if s := h.policies.Sources; s != nil {
			apply(s, bucket)
		}
	}
	w.WriteHeader(status)
	return nil
}

// Interface guard
var _ caddy.AdminRouter = (*AdminAPI)(nil)
