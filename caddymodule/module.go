// Package caddymodule is the Caddy glue of bucketcors: the
// http.handlers.bucket_cors handler, its Caddyfile directive, its admin API
// and metrics. The policy engine (policy), the cache (cache), the S3
// protocol (s3api), the policy sources (source), the lookup of a bucket's
// policy over them at run time (lookup) and the HTTP side (edge) stand on
// their own: this package turns the configuration into their options,
// keeps the shared lookup.Sources across reloads, and counts for the
// metrics.
package caddymodule

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/edge"
	"github.com/bucketcors/bucketcors/lookup"
	"github.com/bucketcors/bucketcors/s3api"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// DefaultBucket is the placeholder that names the bucket of a path-style
// request: the first segment of the path.
const DefaultBucket = "{http.request.uri.path.0}"

// DefaultPolicyKey is the key of the policy that applies to every bucket that
// has none of its own.
const DefaultPolicyKey = lookup.DefaultKey

// Handler gives each bucket of an S3-compatible origin its own CORS policy. It
// answers preflights (every OPTIONS request) itself, and on every other
// request lets the next handler (normally reverse_proxy) reach the origin and
// rewrites the Access-Control-* headers of the response: the origin's are
// removed and the policy's are set when the request's Origin and method match
// a rule.
type Handler struct {
	// Bucket names the bucket of a request: a placeholder or a literal.
	// Default: {http.request.uri.path.0} (path-style requests). For
	// virtual-hosted buckets use a host label, e.g.
	// {http.request.host.labels.3} for <bucket>.s3.example.com; a host with
	// more labels than that (a.b.s3.example.com) then names no bucket, since
	// the origin would read a dotted bucket name from it.
	Bucket string `json:"bucket,omitempty"`

	// Policies are inline policy documents keyed by bucket name; the key "*"
	// holds the default policy for buckets that have none of their own. Each
	// value is a document in any JSON dialect (R2, AWS CLI or wrangler).
	Policies map[string]json.RawMessage `json:"policies,omitempty"`

	// PolicyFiles maps a bucket name (or "*") to a file holding its policy
	// document, in any dialect.
	PolicyFiles map[string]string `json:"policy_files,omitempty"`

	// PolicyDir is a folder of policy documents, one per bucket, named
	// <bucket>.json or <bucket>.xml. It is read again as the cache's TTL
	// runs out, so changes are seen without a reload.
	PolicyDir string `json:"policy_dir,omitempty"`

	// PolicyStore keeps policies as objects of a bucket on an S3-compatible
	// store, shared by every proxy that names it. The edge ?cors API writes
	// there.
	PolicyStore *PolicyStore `json:"policy_store,omitempty"`

	// PolicyOrigin reads each bucket's own CORS configuration from the
	// origin with GetBucketCors (R2, AWS S3, MinIO AIStor).
	PolicyOrigin *S3Endpoint `json:"policy_origin,omitempty"`

	// Cache bounds and times the cache of policies read from PolicyDir,
	// PolicyStore and PolicyOrigin.
	Cache *CacheConfig `json:"cache,omitempty"`

	// CORSAPI answers PutBucketCors, GetBucketCors and DeleteBucketCors
	// here, keeping the policies in PolicyStore.
	CORSAPI *CORSAPI `json:"cors_api,omitempty"`

	// Debug adds a Bucket-Cors-Debug header to every answer to a request
	// with an Origin: the verdict in the words of `caddy bucket-cors
	// explain`. Off by default: it shows any caller the shape of the policy.
	Debug bool `json:"debug,omitempty"`

	// Mode is "enforce" (the default) or "report_only". In report_only the
	// handler judges every request as it would when enforcing, counts and
	// logs what it would have done, and lets the request through untouched:
	// preflights reach the next handler, and the origin's own CORS headers
	// are left as they are. The ?cors calls of CORSAPI are answered in
	// either mode.
	Mode string `json:"mode,omitempty"`

	// state is what Provision builds from the fields above.
	state
}

// state is a provisioned handler's working parts.
type state struct {
	bucketName bucketNamer
	// policies are the configuration's own policies and the sources read
	// at run time, shared in sharedPool under poolKey ("" for none).
	policies lookup.Policies
	poolKey  string
	corsAPI  *s3api.CORSAPI
	logger   *zap.Logger
	// reportOnly is Mode == "report_only"; refusals limits its log lines.
	reportOnly bool
	refusals   *edge.RefusalLog
	// now is the clock of the cache and the CORS API; tests set it before
	// Provision.
	now func() time.Time
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.bucket_cors",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision fills defaults and compiles every policy the configuration names.
func (h *Handler) Provision(ctx caddy.Context) error {
	if h.logger == nil {
		h.logger = ctx.Logger()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.Bucket == "" {
		h.Bucket = DefaultBucket
	}
	h.bucketName = newBucketNamer(h.Bucket)
	if err := h.provisionMode(); err != nil {
		return err
	}

	fixed, err := lookup.CompileFixed(h.fixedOptions())
	if err != nil {
		return err
	}
	h.policies.Fixed = fixed
	if err := h.provisionShared(); err != nil {
		return err
	}
	// Every handler counts its decisions, whatever its sources.
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	if err := h.provisionCORSAPI(); err != nil {
		return err
	}
	registerHandler(h)
	return nil
}

// Validate checks the configuration that Provision could not reject on its
// own. It changes nothing.
func (h *Handler) Validate() error {
	for bucket := range h.policies.Fixed.Buckets() {
		if !validBucketName(bucket) {
			return fmt.Errorf("policy for bucket %q: not a bucket name; use the bucket's own name, or \"*\" for the default policy", bucket)
		}
	}
	return nil
}

// Cleanup retires the handler from the admin API and lets go of its shared
// sources and cache, which close when no config uses them any more: a
// reload that keeps the sources keeps them.
func (h *Handler) Cleanup() error {
	unregisterHandler(h)
	if h.poolKey != "" {
		_, err := sharedPool.Delete(h.poolKey)
		h.poolKey = ""
		return err
	}
	return nil
}

// Interface guards
var (
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
