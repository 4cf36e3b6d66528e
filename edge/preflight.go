package edge

import (
	"net/http"

	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/s3api"
)

// PreflightVary is the Vary of every preflight answer, granted or refused:
// each of these request headers changes it.
const PreflightVary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

// WritePreflight answers an allowed preflight as S3 does: 200, the grant's
// headers, Access-Control-Allow-Headers when names were asked for, and
// PreflightVary.
func WritePreflight(w http.ResponseWriter, res *policy.PreflightResult) {
	n := grantHeaderCount(&res.Grant) + 1 // and Vary
	if res.AllowHeaders != "" {
		n++
	}
	values := answerValues(make([]string, n))
	h := w.Header()
	setGrantHeaders(h, &res.Grant, &values)
	if res.AllowHeaders != "" {
		values.set(h, "Access-Control-Allow-Headers", res.AllowHeaders)
	}
	values.set(h, "Vary", PreflightVary)
	w.WriteHeader(http.StatusOK)
}

// WriteRefusal answers a refused preflight with S3's 403 and its XML body
// (s3api.PreflightRefusal), and PreflightVary.
func WriteRefusal(w http.ResponseWriter, policyExists bool, method, resourceType string) error {
	return s3api.PreflightRefusal(policyExists, method, resourceType).Write(w, PreflightVary)
}
