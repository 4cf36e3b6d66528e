package caddymodule

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/s3api"
	"github.com/bucketcors/bucketcors/source"
)

// CORSAPI answers S3's bucket CORS API at the edge: PutBucketCors,
// GetBucketCors and DeleteBucketCors (PUT, GET and DELETE on /<bucket>?cors)
// never reach the origin. Policies are kept in the PolicyStore, which
// CORSAPI needs, so every proxy sharing the store enforces them within about
// its poll (its cache TTL with poll off), and this one at once. Every call must be signed (AWS Signature
// Version 4) with one of Keys.
type CORSAPI struct {
	// Keys are the access key pairs allowed to call the API. Secrets may be
	// placeholders ({env.*}, {file.*}).
	Keys []APIKey `json:"keys,omitempty"`
	// Region is the region calls are signed for. Default: us-east-1.
	Region string `json:"region,omitempty"`
}

// APIKey is one access key pair of the CORS API.
type APIKey struct {
	AccessKey string `json:"access_key,omitempty"`
	SecretKey string `json:"secret_key,omitempty"`
}

// provisionCORSAPI resolves the API's keys; it needs the policy store.
func (h *Handler) provisionCORSAPI() error {
	if h.CORSAPI == nil {
		return nil
	}
	var errs []error
	if h.PolicyStore == nil {
		errs = append(errs, errors.New("cors_api: needs policy_store, where the policies it receives are kept"))
	}
	if len(h.CORSAPI.Keys) == 0 {
		errs = append(errs, errors.New("cors_api: needs at least one access_key and secret_key pair"))
	}
	repl := caddy.NewReplacer()
	verifier := &s3api.Verifier{
		Secrets: make(map[string]string),
		Region:  cmp.Or(repl.ReplaceAll(h.CORSAPI.Region, ""), source.DefaultRegion),
		Now:     h.now,
	}
	for i, k := range h.CORSAPI.Keys {
		access, secret := repl.ReplaceAll(k.AccessKey, ""), repl.ReplaceAll(k.SecretKey, "")
		if access == "" || secret == "" {
			errs = append(errs, fmt.Errorf("cors_api: key %d: both access_key and secret_key are needed (placeholders like {env.CORS_SECRET_KEY} work)", i+1))
			continue
		}
		verifier.Secrets[access] = secret
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	h.corsAPI = &s3api.CORSAPI{
		Verifier: verifier,
		Store:    apiStore{h},
		Fixed:    h.fixedPolicy,
	}
	return nil
}

// apiStore is the policy store as the CORS API uses it: through the index
// when there is one, so that every change leaves a change record for the
// other proxies; and every change stored is this proxy's policy at once.
type apiStore struct{ h *Handler }

// GetPolicy reads the bucket's stored policy.
func (a apiStore) GetPolicy(ctx context.Context, bucket string) (*policy.Policy, bool, error) {
	return a.h.store.GetPolicy(ctx, bucket)
}

// PutPolicy stores the policy and caches it with its new ETag.
func (a apiStore) PutPolicy(ctx context.Context, bucket string, pol *policy.Policy) error {
	var etag string
	var err error
	if a.h.index != nil {
		etag, err = a.h.index.PutPolicy(ctx, bucket, pol)
	} else {
		etag, err = a.h.store.PutPolicy(ctx, bucket, pol)
	}
	if err != nil {
		return err
	}
	a.h.policies.Put(bucket, source.Result{Found: true, Policy: pol, Version: etag, CheckedAt: a.h.now()}, true, a.h.store.Name())
	return nil
}

// DeletePolicy deletes the stored policy and drops the cached one.
func (a apiStore) DeletePolicy(ctx context.Context, bucket string) error {
	var err error
	if a.h.index != nil {
		err = a.h.index.DeletePolicy(ctx, bucket)
	} else {
		err = a.h.store.DeletePolicy(ctx, bucket)
	}
	if err != nil {
		return err
	}
	a.h.policies.Invalidate(bucket)
	return nil
}

// isCORSAPICall says whether r is a call of the bucket CORS API.
func (h *Handler) isCORSAPICall(r *http.Request) bool {
	return h.corsAPI != nil && s3api.IsBucketCORSCall(r, h.bucketName.fromPath)
}

// serveCORSAPI answers one call of the CORS API and logs it.
func (h *Handler) serveCORSAPI(w http.ResponseWriter, r *http.Request, bucket string) error {
	call := h.corsAPI.Serve(w, r, bucket)
	result := "ok"
	if call.Err != nil {
		result = call.Err.Error()
	}
	if call.Warnings != nil {
		h.logger.Warn("cors_api: stored a policy with warnings",
			zap.String("bucket", bucket), zap.String("warnings", call.Warnings.Error()))
	}
	h.logger.Info("cors_api call",
		zap.String("access_key", call.AccessKey),
		zap.String("bucket", bucket),
		zap.String("action", call.Action),
		zap.Int("status", call.Status),
		zap.String("result", result))
	return nil
}
