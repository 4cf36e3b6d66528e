package edge

import (
	"net/http"

	"github.com/bucketcors/bucketcors/policy"
)

// ActualGrant judges a request that is not a preflight, from origin, by pol
// (nil for none). One that carries Access-Control-Request-Method or
// -Headers is judged as a preflight is, as S3 does: the method and headers
// it names must be allowed too.
func ActualGrant(pol *policy.Policy, r *http.Request, origin string) policy.Grant {
	if pol == nil {
		return policy.Grant{}
	}
	requestMethod, asksMethod := r.Header["Access-Control-Request-Method"]
	requestHeaders, asksHeaders := r.Header["Access-Control-Request-Headers"]
	if !asksMethod && !asksHeaders {
		return pol.Actual(origin, r.Method)
	}
	method := r.Method
	if asksMethod {
		method = requestMethod[0]
	}
	return pol.Preflight(origin, method, requestHeaders).Grant
}

// Allows reports whether pol allows r, as enforcing judges it: an OPTIONS
// request as a preflight, any other by ActualGrant. A request with several
// Origin lines is judged with none.
func Allows(pol *policy.Policy, r *http.Request) bool {
	var origin string
	if values := r.Header["Origin"]; len(values) == 1 {
		origin = values[0]
	}
	if r.Method == http.MethodOptions {
		return pol.Preflight(origin, r.Header.Get("Access-Control-Request-Method"), r.Header["Access-Control-Request-Headers"]).Allowed
	}
	return ActualGrant(pol, r, origin).Allowed
}
