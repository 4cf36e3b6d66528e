// Package s3api speaks the parts of Amazon S3's protocol that bucketcors
// answers itself: S3's XML error answers (among them the refusals of CORS
// preflights), AWS Signature Version 4 verification, and the bucket CORS API
// (PutBucketCors, GetBucketCors, DeleteBucketCors) as a plain HTTP handler
// over a policy store.
//
// The package does not import Caddy.
package s3api

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
)

// Error is an S3 error answer: its status and the fields of its XML body.
type Error struct {
	// Status is the HTTP status of the answer.
	Status int `xml:"-"`

	XMLName      xml.Name `xml:"Error"`
	Code         string   `xml:"Code"`
	Message      string   `xml:"Message"`
	Method       string   `xml:"Method,omitempty"`
	ResourceType string   `xml:"ResourceType,omitempty"`
	Resource     string   `xml:"Resource,omitempty"`
	BucketName   string   `xml:"BucketName,omitempty"`
}

// newError returns an S3 error with its status, code and message.
func newError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// Error returns "Code: Message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Render returns the answer rendered once, to be written any number of times.
func (e *Error) Render() *Rendered {
	var body bytes.Buffer
	body.WriteString(xml.Header)
	// Encoding a struct of strings cannot fail.
	_ = xml.NewEncoder(&body).Encode(e)
	return &Rendered{status: e.Status, body: body.Bytes(), length: strconv.Itoa(body.Len())}
}

// Rendered is an error answer ready for the wire. It is immutable, so one
// value can serve every request that gets the same answer.
type Rendered struct {
	status int
	body   []byte
	length string
}

// Status returns the answer's HTTP status.
func (r *Rendered) Status() int { return r.status }

// Body returns the answer's XML body. The caller must not modify it.
func (r *Rendered) Body() []byte { return r.body }

// Write sends the answer, with vary as its Vary header when not empty.
func (r *Rendered) Write(w http.ResponseWriter, vary string) error {
	// One allocation backs every header value set here, so that no two
	// answers share a slice that a later handler could edit in place.
	values := make([]string, 3)
	values[0], values[1], values[2] = "application/xml", r.length, vary
	h := w.Header()
	h["Content-Type"] = values[0:1:1]
	h["Content-Length"] = values[1:2:2]
	if vary != "" {
		h["Vary"] = values[2:3:3]
	}
	w.WriteHeader(r.status)
	_, err := w.Write(r.body)
	return err
}

// WriteError answers with err as S3 would: an *Error as itself, anything
// else as a 503 ServiceUnavailable (a store or source that could not be
// reached). Resource and bucket fill the body's fields of the same names
// when the error has none.
func WriteError(w http.ResponseWriter, err error, resource, bucket string) (status int, werr error) {
	e := AsError(err)
	if e.Resource == "" && resource != "" || e.BucketName == "" && bucket != "" {
		c := *e
		if c.Resource == "" {
			c.Resource = resource
		}
		if c.BucketName == "" {
			c.BucketName = bucket
		}
		e = &c
	}
	return e.Status, e.Render().Write(w, "")
}

// AsError returns the *Error that err is or wraps, or S3's 503 for any
// other error: the failure of something behind the API, worth a retry.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newError(http.StatusServiceUnavailable, "ServiceUnavailable", "The policy store cannot be reached now. Please try again.")
}

// The errors every part of the module answers with.
var (
	// ErrOriginNeeded answers an OPTIONS request without Origin.
	ErrOriginNeeded = newError(http.StatusBadRequest, "BadRequest", "Insufficient information. Origin request header needed.")
	// ErrPolicyUnavailable answers a preflight whose bucket policy cannot
	// be read now.
	ErrPolicyUnavailable = newError(http.StatusServiceUnavailable, "ServiceUnavailable", "The CORS configuration of this bucket cannot be read now. Please try again.")
	// ErrSlowDown answers a preflight that would wait for a policy load
	// while the proxy already runs as many as it allows.
	ErrSlowDown = newError(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
)
