// Package caddymodule is the Caddy glue of bucketcors: the
// http.handlers.bucket_cors handler, its Caddyfile directive, and the sources
// its policies are read from.
package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/policy"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// DefaultBucket is the placeholder that names the bucket of a path-style
// request: the first segment of the path.
const DefaultBucket = "{http.request.uri.path.0}"

// DefaultPolicyKey is the key of the policy that applies to every bucket that
// has none of its own.
const DefaultPolicyKey = "*"

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

	static         map[string]*staticPolicy
	defaultPolicy  *staticPolicy
	sources        []policySource
	store          *storeSource
	corsAPI        *corsAPI
	policies       *cache.Cache[*policy.Policy]
	bucketFromPath bool
	// bucketHostLabel is N when Bucket is {http.request.host.labels.N},
	// else -1.
	bucketHostLabel int
	logger          *zap.Logger
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
	h.logger = ctx.Logger()
	if h.Bucket == "" {
		h.Bucket = DefaultBucket
	}
	h.bucketFromPath = h.Bucket == DefaultBucket
	h.bucketHostLabel = bucketHostLabelOf(h.Bucket)

	static, err := h.compileStatic()
	if err != nil {
		return err
	}
	h.defaultPolicy = static[DefaultPolicyKey]
	delete(static, DefaultPolicyKey)
	h.static = static

	if err := h.provisionSources(); err != nil {
		return err
	}
	if err := h.provisionCORSAPI(); err != nil {
		return err
	}
	if len(h.sources) > 0 {
		if err := h.provisionCache(ctx); err != nil {
			return err
		}
	}
	registerHandler(h)
	return nil
}

// staticPolicy is a policy fixed by the configuration.
type staticPolicy struct {
	policy *policy.Policy
	// source is "policies" for an inline policy, or the file's path.
	source   string
	loadedAt time.Time
}

// provisionSources sets up the sources that are read at run time, in the
// order they are consulted: the store, the folder, the origin.
func (h *Handler) provisionSources() error {
	var errs []error
	if h.PolicyStore != nil {
		store, err := newStoreSource(h.PolicyStore)
		if err != nil {
			errs = append(errs, err)
		} else {
			h.store = store
			h.sources = append(h.sources, store)
		}
	}
	if h.PolicyDir != "" {
		h.sources = append(h.sources, &dirSource{dir: h.PolicyDir})
	}
	if h.PolicyOrigin != nil {
		origin, err := newOriginSource(h.PolicyOrigin)
		if err != nil {
			errs = append(errs, err)
		} else {
			h.sources = append(h.sources, origin)
		}
	}
	return errors.Join(errs...)
}

// compileStatic compiles the inline policies and the policy files into one
// map keyed by bucket, and checks the documents of the policy folder.
func (h *Handler) compileStatic() (map[string]*staticPolicy, error) {
	compiled := make(map[string]*staticPolicy)
	now := time.Now()
	var errs []error
	add := func(bucket, source string, pol *policy.Policy, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		if _, dup := compiled[bucket]; dup {
			errs = append(errs, fmt.Errorf("%s: bucket %q already has a policy; give each bucket one", source, bucket))
			return
		}
		compiled[bucket] = &staticPolicy{policy: pol, source: source, loadedAt: now}
	}

	for _, bucket := range sortedKeys(h.Policies) {
		pol, err := policy.Parse(fmt.Sprintf("policies[%q]", bucket), h.Policies[bucket])
		add(bucket, "policies", pol, err)
	}
	for _, bucket := range sortedKeys(h.PolicyFiles) {
		pol, err := readPolicyFile(h.PolicyFiles[bucket])
		add(bucket, h.PolicyFiles[bucket], pol, err)
	}
	if h.PolicyDir != "" {
		// The folder is read at run time; a bad document in it still stops
		// the configuration from loading, as any bad policy does.
		docs, err := readPolicyDir(h.PolicyDir)
		if err != nil {
			errs = append(errs, err)
		}
		for _, d := range docs {
			if d.err != nil {
				errs = append(errs, d.err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return compiled, nil
}

// Validate checks the configuration that Provision could not reject on its
// own. It changes nothing.
func (h *Handler) Validate() error {
	for bucket := range h.static {
		if !validBucketName(bucket) {
			return fmt.Errorf("policy for bucket %q: not a bucket name; use the bucket's own name, or \"*\" for the default policy", bucket)
		}
	}
	return nil
}

// readPolicyFile reads and compiles one policy document.
func readPolicyFile(path string) (*policy.Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	defer f.Close()
	return policy.Read(path, f)
}

// dirPolicy is one document of a policy folder.
type dirPolicy struct {
	bucket string
	path   string
	policy *policy.Policy
	err    error
}

// readPolicyDir reads every <bucket>.json and <bucket>.xml of dir.
func readPolicyDir(dir string) ([]dirPolicy, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("policy_dir: %w", err)
	}
	var docs []dirPolicy
	for _, e := range entries {
		bucket, ok := bucketOfFile(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		pol, err := readPolicyFile(path)
		docs = append(docs, dirPolicy{bucket: bucket, path: path, policy: pol, err: err})
	}
	return docs, nil
}

// bucketOfFile returns the bucket that a policy folder's file is for.
func bucketOfFile(name string) (string, bool) {
	ext := filepath.Ext(name)
	if ext != ".json" && ext != ".xml" {
		return "", false
	}
	bucket := strings.TrimSuffix(name, ext)
	return bucket, validBucketName(bucket)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Interface guards
var (
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
