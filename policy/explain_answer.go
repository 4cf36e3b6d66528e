package policy

import (
	"encoding/xml"
	"net/http"
	"strconv"
)

// The messages of S3's refusals of a preflight, word for word (S3's own
// spelling included), as the proxy sends them.
const (
	msgOriginNeeded   = "Insufficient information. Origin request header needed."
	msgCORSNotEnabled = "CORSResponse: CORS is not enabled for this bucket."
	msgCORSNotAllowed = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
)

// grantVary is the Vary of a grant, as S3 sends it: each of these request
// headers changes the answer. Every other answer carries Vary: Origin.
const grantVary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

// grant sets the answer of a request that a rule allows: a preflight gets
// 200 and Access-Control-Allow-Headers; an actual request gets the same
// headers without it, on the origin's answer.
func (e *Explanation) grant(res *PreflightResult) {
	preflight := !e.Request.Actual
	if preflight {
		e.Status = http.StatusOK
	}
	e.header("Access-Control-Allow-Origin", res.AllowOrigin)
	if res.AllowCredentials {
		e.header("Access-Control-Allow-Credentials", "true")
	}
	e.header("Access-Control-Allow-Methods", res.AllowMethods)
	if preflight && res.AllowHeaders != "" {
		e.header("Access-Control-Allow-Headers", res.AllowHeaders)
	}
	if res.ExposeHeaders != "" {
		e.header("Access-Control-Expose-Headers", res.ExposeHeaders)
	}
	if res.MaxAge != "" {
		e.header("Access-Control-Max-Age", res.MaxAge)
	}
	e.header("Vary", grantVary)
}

// refuse sets the proxy's own answer to a preflight it refuses. A 403
// carries the three-name Vary, as every preflight answer does: each of
// those request headers changes it. S3's 400 for a missing Origin has none.
func (e *Explanation) refuse(status int, body s3ErrorBody) {
	e.Status = status
	e.Body = body.render()
	e.header("Content-Type", "application/xml")
	e.header("Content-Length", strconv.Itoa(len(e.Body)))
	if status == http.StatusForbidden {
		e.header("Vary", grantVary)
	}
}

func (e *Explanation) header(name, value string) {
	e.Headers = append(e.Headers, Header{Name: name, Value: value})
}

// s3ErrorBody is the XML body of an S3 error answer.
type s3ErrorBody struct {
	XMLName      xml.Name `xml:"Error"`
	Code         string   `xml:"Code"`
	Message      string   `xml:"Message"`
	Method       string   `xml:"Method,omitempty"`
	ResourceType string   `xml:"ResourceType,omitempty"`
}

// refusalBody is S3's AccessForbidden for a preflight that asks for method
// ("" for none, which S3 takes to be OPTIONS).
func refusalBody(message, method, resourceType string) s3ErrorBody {
	if method == "" {
		method = http.MethodOptions
	}
	return s3ErrorBody{Code: "AccessForbidden", Message: message, Method: method, ResourceType: resourceType}
}

func (b s3ErrorBody) render() string {
	// A struct of strings always marshals.
	out, _ := xml.Marshal(b)
	return xml.Header + string(out)
}
