package caddymodule

import (
	"errors"

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

// provisionSources sets up the sources that are read at run time, in the
// order they are consulted: the store, the folder, the origin.
func (h *Handler) provisionSources() error {
	var errs []error
	if cfg := h.PolicyStore; cfg != nil {
		client, err := source.NewS3Client(cfg.resolve(), "policy_store")
		if cfg.Bucket == "" {
			err = errors.Join(err, errors.New("policy_store: bucket is needed: the bucket that holds the policy objects"))
		}
		if err != nil {
			errs = append(errs, err)
		} else {
			h.store = &source.Store{Client: client, Bucket: cfg.Bucket, Prefix: cfg.Prefix}
			h.sources = append(h.sources, h.store)
		}
	}
	if h.PolicyDir != "" {
		h.sources = append(h.sources, &source.Dir{Path: h.PolicyDir})
	}
	if h.PolicyOrigin != nil {
		origin, err := source.NewOrigin(h.PolicyOrigin.resolve())
		if err != nil {
			errs = append(errs, err)
		} else {
			h.origin = origin
			h.sources = append(h.sources, origin)
		}
	}
	return errors.Join(errs...)
}
