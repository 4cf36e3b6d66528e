package caddymodule

import (
	"net/http"
	"strconv"

	"github.com/bucketcors/bucketcors/policy"
)

// preflightVary is the Vary of every preflight answer: each of these request
// headers changes it.
const preflightVary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

// preflightHeaderCount is the most headers a preflight answer sets.
const preflightHeaderCount = grantHeaderCount + 2

// servePreflight answers an OPTIONS request that has an Origin by S3's
// rules; it never reaches the origin.
func (h *Handler) servePreflight(w http.ResponseWriter, r *http.Request, bucket string, pol *policy.Policy) error {
	origin, _ := requestOrigin(r)
	method := r.Header.Get("Access-Control-Request-Method")
	if pol == nil {
		return writeRefusal(w, corsNotEnabled, method)
	}

	res := pol.Preflight(origin, method, r.Header["Access-Control-Request-Headers"])
	if !res.Allowed {
		h.logRefusal(bucket, origin, method, &res)
		return writeRefusal(w, corsNotAllowed, method)
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

// refusal is one of S3's two answers to a refused preflight.
type refusal struct {
	message      string
	resourceType string
	// bodies holds the answer for each method a browser asks for, rendered
	// once: a flood of refused preflights costs no rendering.
	bodies map[string]renderedBody
}

// renderedBody is a body with its Content-Length.
type renderedBody struct {
	body   []byte
	length string
}

var (
	corsNotEnabled = newRefusal(msgCORSNotEnabled, "BUCKET")
	corsNotAllowed = newRefusal(msgCORSNotAllowed, "OBJECT")
)

func newRefusal(message, resourceType string) *refusal {
	r := &refusal{message: message, resourceType: resourceType, bodies: make(map[string]renderedBody)}
	for _, m := range []string{"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"} {
		r.bodies[m] = r.render(m)
	}
	return r
}

// render builds the XML body of the refusal of method.
func (r *refusal) render(method string) renderedBody {
	body := renderS3Error(s3Error{Code: "AccessForbidden", Message: r.message, Method: method, ResourceType: r.resourceType})
	return renderedBody{body: body, length: strconv.Itoa(len(body))}
}

// writeRefusal answers a refused preflight with S3's 403.
func writeRefusal(w http.ResponseWriter, r *refusal, method string) error {
	if method == "" {
		// S3 takes a preflight without Access-Control-Request-Method to
		// ask for OPTIONS.
		method = http.MethodOptions
	}
	rendered, ok := r.bodies[method]
	if !ok {
		rendered = r.render(method)
	}
	values := make([]string, 3)
	values[0], values[1], values[2] = "application/xml", rendered.length, preflightVary
	h := w.Header()
	h["Content-Type"] = values[0:1:1]
	h["Content-Length"] = values[1:2:2]
	h["Vary"] = values[2:3:3]
	w.WriteHeader(http.StatusForbidden)
	_, err := w.Write(rendered.body)
	return err
}
