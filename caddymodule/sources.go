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
type PolicyStore struct {
	S3Endpoint
	// Bucket is the bucket that holds the policy objects.
	Bucket string `json:"bucket,omitempty"`
	// Prefix is put before every object key, e.g. "cors/".
	Prefix string `json:"prefix,omitempty"`
}
