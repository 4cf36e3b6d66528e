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
// without Access-Control-Request-Method. refusalIndex numbers them.
var refusalMethods = [...]string{"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"}

// refusalIndex returns the position of method in refusalMethods, or -1. A
// switch, not a map: it spares a refused preflight a hash,
// BenchmarkAgainstRSCors/preflight-refused.
func refusalIndex(method string) int {
	switch method {
	case "GET":
		return 0
	case "PUT":
		return 1
	case "POST":
		return 2
	case "DELETE":
		return 3
	case "HEAD":
		return 4
	case "PATCH":
		return 5
	case "OPTIONS":
		return 6
	}
	return -1
}

// refusals holds S3's 403 answers to refused preflights by method, rendered
// once, so that a flood of refused preflights costs no rendering: for each
// method (refusalIndex), [policy exists][on an object].
var refusals = func() (m [len(refusalMethods)][2][2]*Rendered) {
	for k, method := range refusalMethods {
		for exists := range 2 {
			for object := range 2 {
				m[k][exists][object] = renderRefusal(exists == 1, method, resourceTypes[object])
			}
		}
	}
	return m
}()

// resourceTypes are indexed by "on an object".
var resourceTypes = [2]string{ResourceBucket, ResourceObject}

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
	if k := refusalIndex(method); k >= 0 {
		exists, object := 0, 0
		if policyExists {
			exists = 1
		}
		if resourceType == ResourceObject {
			object = 1
		}
		return refusals[k][exists][object]
	}
	return renderRefusal(policyExists, method, resourceType)
}
