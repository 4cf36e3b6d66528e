package caddymodule

import (
	"net/http"

	"github.com/bucketcors/bucketcors/policy"
)

// preflightVary is the Vary of every preflight answer: each of these request
// headers changes it.
const preflightVary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

// preflightHeaderCount is the most headers a preflight answer sets.
const preflightHeaderCount = grantHeaderCount + 2

// servePreflight answers an OPTIONS request by S3's rules; it never reaches
// the origin.
func (h *Handler) servePreflight(w http.ResponseWriter, r *http.Request, bucket string, pol *policy.Policy) error {
	if len(r.Header["Origin"]) == 0 {
		return writeS3Error(w, http.StatusBadRequest, s3Error{Code: "BadRequest", Message: msgOriginNeeded})
	}
	origin, _ := requestOrigin(r)
	method := r.Header.Get("Access-Control-Request-Method")
	if pol == nil {
		w.Header().Set("Vary", preflightVary)
		return writeS3Error(w, http.StatusForbidden, s3Error{
			Code: "AccessForbidden", Message: msgCORSNotEnabled,
			Method: displayMethod(method), ResourceType: "BUCKET",
		})
	}

	res := pol.Preflight(origin, method, r.Header["Access-Control-Request-Headers"])
	if !res.Allowed {
		h.logRefusal(bucket, origin, method, &res)
		w.Header().Set("Vary", preflightVary)
		return writeS3Error(w, http.StatusForbidden, s3Error{
			Code: "AccessForbidden", Message: msgCORSNotAllowed,
			Method: displayMethod(method), ResourceType: "OBJECT",
		})
	}

	values := make([]string, preflightHeaderCount)
	hdr := w.Header()
	setGrantHeaders(hdr, &res.Grant, values[:grantHeaderCount])
	if res.AllowHeaders != "" {
		values[grantHeaderCount] = res.AllowHeaders
		hdr["Access-Control-Allow-Headers"] = values[grantHeaderCount : grantHeaderCount+1 : grantHeaderCount+1]
	}
	values[grantHeaderCount+1] = preflightVary
	hdr["Vary"] = values[grantHeaderCount+1:]
	w.WriteHeader(http.StatusOK)
	return nil
}

// displayMethod is the method an S3 error body names: S3 takes a preflight
// without Access-Control-Request-Method to ask for OPTIONS.
func displayMethod(method string) string {
	if method == "" {
		return http.MethodOptions
	}
	return method
}
