package caddymodule

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

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
		Store:    h.policies.Sources,
		Fixed:    h.policies.Fixed.Policy,
	}
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
