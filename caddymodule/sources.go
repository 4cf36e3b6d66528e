package caddymodule

import (
	"github.com/caddyserver/caddy/v2"

	"github.com/bucketcors/bucketcors/source"
)

// S3Endpoint says how to reach an S3-compatible API: MinIO, R2 or S3.
// Credentials may be placeholders such as {env.S3_SECRET_KEY} or
// {file./run/secrets/s3_secret}; they are resolved at provision and never
// logged.
type S3Endpoint struct {
	// Endpoint is the API's base URL, e.g. http://127.0.0.1:9000 or
	// https://<account>.r2.cloudflarestorage.com.
	Endpoint string `json:"endpoint,omitempty"`
	// Region signs the requests. Default: us-east-1 ("auto" for R2).
	Region string `json:"region,omitempty"`
	// AccessKey is the access key ID.
	AccessKey string `json:"access_key,omitempty"`
	// SecretKey is the secret access key.
	SecretKey string `json:"secret_key,omitempty"`
}

// resolve returns the endpoint with its placeholders replaced.
func (e S3Endpoint) resolve() source.Endpoint {
	repl := caddy.NewReplacer()
	return source.Endpoint{
		URL:       repl.ReplaceAll(e.Endpoint, ""),
		Region:    repl.ReplaceAll(e.Region, ""),
		AccessKey: repl.ReplaceAll(e.AccessKey, ""),
		SecretKey: repl.ReplaceAll(e.SecretKey, ""),
	}
}

// PolicyStore keeps bucket policies as objects of one bucket of an
// S3-compatible store, one <bucket>.xml (S3 XML) per bucket. Every proxy
// that names the same store shares its policies; the edge ?cors API writes
// them.
//
// Each proxy keeps an index of the store in memory: which buckets have a
// policy, and the ETag of each. A bucket that is not in it costs no store
// request, and a cached policy whose ETag did not change is kept at its
// cache TTL without one. The index is kept current by polling the change
// records that the edge API leaves under <prefix>.changes/ (one
// ListObjectsV2 per Poll when nothing changed) and by listing the whole
// store every Resync (one request per 1,000 policies), which also catches
// writes made straight into the store.
type PolicyStore struct {
	S3Endpoint
	// Bucket is the bucket that holds the policy objects.
	Bucket string `json:"bucket,omitempty"`
	// Prefix is put before every object key, e.g. "cors/".
	Prefix string `json:"prefix,omitempty"`
	// Poll is how often the change records are listed: a change made
	// through another proxy's edge API is enforced here within about
	// Poll. It costs one ListObjectsV2 per Poll per proxy. Default: 2s.
	Poll caddy.Duration `json:"poll,omitempty"`
	// Resync is how often the whole store is listed again: a policy
	// written straight into the store is enforced within about Resync.
	// It costs one ListObjectsV2 per 1,000 policies per Resync per proxy.
	// Default: 10m.
	Resync caddy.Duration `json:"resync,omitempty"`
	// NoIndex turns the index off (Caddyfile: poll off): each cached
	// policy is then read again, with a GET, every cache TTL, and a
	// bucket with no policy costs a GET per TTL too.
	NoIndex bool `json:"no_index,omitempty"`
}
