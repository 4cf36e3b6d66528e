package s3api

import "net/http"

// The messages of S3's answers to refused preflights, word for word (S3's
// own spelling included), so that clients and people searching for them
// find what they know.
const (
	msgCORSNotEnabled = "CORSResponse: CORS is not enabled for this bucket."
	msgCORSNotAllowed = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
)

// Resource types of a refused preflight: S3 names the bucket itself (a
// request without a key) BUCKET, and an object OBJECT.
const (
	ResourceBucket = "BUCKET"
	ResourceObject = "OBJECT"
)

// refusalMethods are the methods whose refusals are rendered in advance: the
// ones a browser asks for, and OPTIONS, which S3 reports for a preflight
// without Access-Control-Request-Method.
var refusalMethods = []string{"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"}

type refusalKey struct{ method, resourceType string }

// refusals holds S3's 403 answers to refused preflights, rendered once, so
// that a flood of refused preflights costs no rendering.
var refusals = func() map[bool]map[refusalKey]*Rendered {
	m := map[bool]map[refusalKey]*Rendered{true: {}, false: {}}
	for _, method := range refusalMethods {
		for _, rt := range []string{ResourceBucket, ResourceObject} {
			m[true][refusalKey{method, rt}] = renderRefusal(true, method, rt)
			m[false][refusalKey{method, rt}] = renderRefusal(false, method, rt)
		}
	}
	return m
}()

func renderRefusal(enabled bool, method, resourceType string) *Rendered {
	msg := msgCORSNotAllowed
	if !enabled {
		msg = msgCORSNotEnabled
	}
	e := &Error{Status: http.StatusForbidden, Code: "AccessForbidden", Message: msg, Method: method, ResourceType: resourceType}
	return e.Render()
}

// PreflightRefusal returns S3's 403 answer to a refused preflight: "CORS is
// not enabled" when the bucket has no policy (always on the BUCKET), or "not
// allowed" when no rule matches, on the resource type given. method is the
// Access-Control-Request-Method; without one, S3 reports OPTIONS.
func PreflightRefusal(policyExists bool, method, resourceType string) *Rendered {
	if method == "" {
		method = http.MethodOptions
	}
	if !policyExists {
		resourceType = ResourceBucket
	}
	if r, ok := refusals[policyExists][refusalKey{method, resourceType}]; ok {
		return r
	}
	return renderRefusal(policyExists, method, resourceType)
}
