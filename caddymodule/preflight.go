package caddymodule

import (
	"net/http"

	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/s3api"
)

// preflightVary is the Vary of every preflight answer, granted or refused:
// each of these request headers changes it.
const preflightVary = grantVaryLine

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
		setDebug(w.Header(), verdict(pol, r))
	}
	if pol == nil {
		h.count(decisionNoPolicy)
		return s3api.PreflightRefusal(false, method, s3api.ResourceBucket).Write(w, preflightVary)
	}

	res := pol.Preflight(origin, method, r.Header["Access-Control-Request-Headers"])
	h.count(decisionOf(pol, res.Allowed))
	if !res.Allowed {
		h.logRefusal(bucket, origin, method, &res)
		return s3api.PreflightRefusal(true, method, h.resourceType(r)).Write(w, preflightVary)
	}

	n := grantHeaderCount(&res.Grant) + 1 // and Vary
	if res.AllowHeaders != "" {
		n++
	}
	values := answerValues(make([]string, n))
	hdr := w.Header()
	setGrantHeaders(hdr, &res.Grant, &values)
	if res.AllowHeaders != "" {
		values.set(hdr, "Access-Control-Allow-Headers", res.AllowHeaders)
	}
	values.set(hdr, "Vary", preflightVary)
	w.WriteHeader(http.StatusOK)
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
