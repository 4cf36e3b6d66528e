package caddymodule

import (
	"net/http"

	"github.com/bucketcors/bucketcors/edge"
	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/s3api"
)

// servePreflight answers an OPTIONS request that has an Origin by S3's
// rules; it never reaches the origin.
// origin is the request's Origin, "" when it has several.
func (h *Handler) servePreflight(w http.ResponseWriter, r *http.Request, bucket, origin string, pol *policy.Policy) error {
	var method string
	// The map's own key: Get would canonicalise a constant on every request.
	if values := r.Header["Access-Control-Request-Method"]; len(values) > 0 {
		method = values[0]
	}
	if h.Debug {
		edge.SetDebug(w.Header(), edge.Verdict(pol, r))
	}
	if pol == nil {
		h.count(decisionNoPolicy)
		return edge.WriteRefusal(w, false, method, s3api.ResourceBucket)
	}

	res := pol.Preflight(origin, method, r.Header["Access-Control-Request-Headers"])
	h.count(decisionOf(pol, res.Allowed))
	if !res.Allowed {
		h.logRefusal(bucket, origin, method, &res)
		return edge.WriteRefusal(w, true, method, h.resourceType(r))
	}

	edge.WritePreflight(w, &res)
	return nil
}

// resourceType is what S3 names the target of a refused preflight: BUCKET
// for the bucket itself (no key), OBJECT for an object.
func (h *Handler) resourceType(r *http.Request) string {
	if s3api.IsBucketPath(r.URL.Path, h.bucketName.fromPath) {
		return s3api.ResourceBucket
	}
	return s3api.ResourceObject
}
