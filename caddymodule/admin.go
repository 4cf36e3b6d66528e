package caddymodule

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/source"
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
	var pol *policy.Policy
	switch st, ok := h.static[bucket]; {
	case ok:
		pol, ans.Source, ans.Version = st.policy, st.source, st.version
		ans.AgeSeconds = h.now().Sub(st.loadedAt).Seconds()
	case h.policies != nil:
		e, err := h.policies.Get(r.Context(), bucket)
		if err != nil {
			return nil, ans, err
		}
		if e.Found {
			pol, ans.Source, ans.Version, ans.Stale = e.Value.Policy, e.Source, e.Value.Version, e.Stale()
			ans.AgeSeconds = h.now().Sub(e.LoadedAt).Seconds()
			checked := cmp.Or(e.Value.CheckedAt, e.CheckedAt)
			ans.CheckedAt = &checked
			if h.store != nil && e.Source == h.store.Name() {
				ans.ETag = e.Value.Version
			}
		}
	}
	if pol == nil && h.defaultPolicy != nil {
		pol, ans.Source, ans.Version = h.defaultPolicy.policy, "default", h.defaultPolicy.version
		ans.AgeSeconds = h.now().Sub(h.defaultPolicy.loadedAt).Seconds()
	}
	if pol != nil {
		if w := pol.Warnings(); w != nil {
			ans.Warnings = strings.Split(w.Error(), "\n")
		}
		raw, err := pol.Document().MarshalR2JSON()
		if err != nil {
			return nil, ans, err
		}
		ans.Policy = raw
	}
	return pol, ans, nil
}

// serveIndex answers the state of every policy store index in use: [] when
// there is none.
func (AdminAPI) serveIndex(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed; use GET", r.Method)}
	}
	answers := []source.IndexStatus{}
	for _, x := range liveIndexes() {
		answers = append(answers, x.Status())
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(answers)
}

// serveCache drops every cached policy, or one bucket's: the next request
// reads it again from its sources, the policy store included whatever its
// index holds.
func (AdminAPI) serveCache(w http.ResponseWriter, r *http.Request) error {
	return onEachCache(w, r, http.MethodDelete, "/bucket_cors/cache", http.StatusNoContent,
		func(c *cache.Cache[source.Result]) { c.InvalidateAll() },
		func(c *cache.Cache[source.Result], bucket string) { c.Invalidate(bucket) })
}

// recheckIndex has the handler's store index, if any, confirm bucket (every
// bucket, for "") with the store on its next load, so that dropping or
// refreshing a cached policy reads the store even when it was written there
// by hand since the index's last listing.
func (h *Handler) recheckIndex(bucket string) {
	switch {
	case h.index == nil:
	case bucket == "":
		h.index.RecheckAll()
	default:
		h.index.Recheck(bucket)
	}
}

// serveRefresh has every cache re-read its policies (or one bucket's) in
// the background, while the policies it holds keep serving. The answer does
// not wait for the reads.
func (AdminAPI) serveRefresh(w http.ResponseWriter, r *http.Request) error {
	return onEachCache(w, r, http.MethodPost, "/bucket_cors/refresh", http.StatusAccepted,
		func(c *cache.Cache[source.Result]) { c.RefreshAll() },
		func(c *cache.Cache[source.Result], bucket string) { c.Refresh(bucket) })
}

// onEachCache answers an admin request on prefix[/<bucket>] with method:
// it applies all (no bucket) or one to the cache of every live handler,
// and answers status.
func onEachCache(w http.ResponseWriter, r *http.Request, method, prefix string, status int,
	all func(*cache.Cache[source.Result]), one func(*cache.Cache[source.Result], string)) error {
	if r.Method != method {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed; use %s", r.Method, method)}
	}
	bucket := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, prefix), "/")
	if bucket != "" && !validBucketName(bucket) {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("%q is not a bucket name", bucket)}
	}
	for _, h := range liveHandlers() {
		h.recheckIndex(bucket)
		switch {
		case h.policies == nil:
		case bucket == "":
			all(h.policies)
		default:
			one(h.policies, bucket)
		}
	}
	w.WriteHeader(status)
	return nil
}

// Interface guard
var _ caddy.AdminRouter = (*AdminAPI)(nil)
