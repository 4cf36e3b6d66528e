package s3api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bucketcors/bucketcors/policy"
)

// Store keeps the CORS configuration of each bucket for the API.
type Store interface {
	// GetPolicy returns the bucket's stored policy, or found=false.
	GetPolicy(ctx context.Context, bucket string) (pol *policy.Policy, found bool, err error)
	// PutPolicy stores the bucket's policy, replacing any.
	PutPolicy(ctx context.Context, bucket string, pol *policy.Policy) error
	// DeletePolicy removes the bucket's policy; removing none succeeds.
	DeletePolicy(ctx context.Context, bucket string) error
}

// CORSAPI answers S3's bucket CORS API: PutBucketCors, GetBucketCors and
// DeleteBucketCors (PUT, GET and DELETE on a bucket with the cors query key).
// Every call must carry a SigV4 signature that Verifier accepts.
type CORSAPI struct {
	// Verifier checks each call's signature.
	Verifier *Verifier
	// Store keeps the policies.
	Store Store
	// Fixed, when set, returns the policy that the proxy's own
	// configuration sets for a bucket: GET answers it, PUT and DELETE are
	// refused, since a change would not take effect.
	Fixed func(bucket string) (*policy.Policy, bool)
	// Changed, when set, is told of every change stored: pol is the new
	// policy, or nil after a delete.
	Changed func(bucket string, pol *policy.Policy)
}

// Call is what one call of the API did, for the log.
type Call struct {
	// AccessKey is the key the call claimed, or "" when it had none.
	AccessKey string
	// Action is the S3 action, or "<METHOD> ?cors" for another method.
	Action string
	// Status is the HTTP status answered.
	Status int
	// Err is the error answered, or nil.
	Err error
	// Warnings are the warnings of a stored policy: S3 accepts it, but
	// some of its values no browser can match.
	Warnings error
}

// corsAPIActions names the S3 action of each method of a ?cors call.
var corsAPIActions = map[string]string{
	http.MethodPut:    "PutBucketCors",
	http.MethodGet:    "GetBucketCors",
	http.MethodDelete: "DeleteBucketCors",
}

// S3's answers of the CORS API.
const (
	msgNoSuchCORS   = "The CORS configuration does not exist"
	msgMalformedXML = "The XML you provided was not well-formed or did not validate against our published schema"
)

// IsBucketCORSCall reports whether r calls the bucket CORS API: its query
// holds the cors key, read as the origin reads it (decoded, so "%63ors" is
// cors too), and it is on a bucket, not an object (see IsBucketPath).
func IsBucketCORSCall(r *http.Request, pathStyle bool) bool {
	if r.URL.RawQuery == "" || !r.URL.Query().Has("cors") {
		return false
	}
	return IsBucketPath(r.URL.Path, pathStyle)
}

// IsBucketPath reports whether a request path is on a bucket itself rather
// than on an object. pathStyle says that the bucket is the path's first
// segment (/<bucket>); otherwise the host names it and the path is "/".
// Extra slashes after the bucket still name the bucket, as they do for the
// origin.
func IsBucketPath(path string, pathStyle bool) bool {
	rest := strings.TrimPrefix(path, "/")
	if pathStyle {
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return rest != ""
		}
		if i == 0 {
			return false // no bucket
		}
		rest = rest[i:]
	}
	return strings.Trim(rest, "/") == ""
}

// Serve answers one call on bucket ("" when the request names none) and
// returns what it did.
func (api *CORSAPI) Serve(w http.ResponseWriter, r *http.Request, bucket string) Call {
	call := Call{Action: corsAPIActions[r.Method]}
	if call.Action == "" {
		call.Action = r.Method + " ?cors"
	}
	body, err := api.authorize(r, &call, bucket)
	status := http.StatusOK
	if err == nil {
		switch r.Method {
		case http.MethodPut:
			err = api.put(r.Context(), bucket, body, &call)
		case http.MethodGet:
			body, err = api.get(r.Context(), bucket)
		case http.MethodDelete:
			err = api.delete(r.Context(), bucket)
			status = http.StatusNoContent
		}
	}
	if err != nil {
		call.Err = err
		call.Status, _ = WriteError(w, err, r.URL.Path, bucket)
		return call
	}
	call.Status = status
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return call
	}
	w.WriteHeader(status)
	return call
}

// authorize checks the call's signature, its bucket and method, and reads
// and checks its body.
func (api *CORSAPI) authorize(r *http.Request, call *Call, bucket string) ([]byte, error) {
	sig, err := api.Verifier.Verify(r)
	if sig != nil {
		call.AccessKey = sig.AccessKey
	}
	if err != nil {
		return nil, err
	}
	if bucket == "" {
		return nil, newError(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.")
	}
	if _, ok := corsAPIActions[r.Method]; !ok {
		return nil, newError(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	}
	if r.Method != http.MethodGet && api.fixed(bucket) != nil {
		return nil, newError(http.StatusConflict, "InvalidRequest", fmt.Sprintf("The CORS configuration of bucket %s is set in the Caddy configuration; change it there.", bucket))
	}
	body, err := readBody(r, policy.MaxDocumentSize)
	if err != nil {
		return nil, err
	}
	if err := checkBodyDigests(r, sig.PayloadHash, body); err != nil {
		return nil, err
	}
	return body, nil
}

func (api *CORSAPI) fixed(bucket string) *policy.Policy {
	if api.Fixed == nil {
		return nil
	}
	pol, _ := api.Fixed(bucket)
	return pol
}

// put validates an S3 XML document by S3's rules and stores it.
func (api *CORSAPI) put(ctx context.Context, bucket string, body []byte, call *Call) error {
	name := "PutBucketCors " + bucket
	doc, err := policy.Decode(name, bytes.TrimSpace(body))
	if err == nil && doc.Dialect != policy.DialectXML {
		err = errors.New("the CORS configuration must be S3 XML (CORSConfiguration)")
	}
	if err != nil {
		return newError(http.StatusBadRequest, "MalformedXML", msgMalformedXML+": "+err.Error())
	}
	pol, err := policy.Compile(name, doc)
	if err != nil {
		return newError(http.StatusBadRequest, "InvalidRequest", err.Error())
	}
	// What S3 accepts but no browser can match, and what likely misses
	// its aim: stored all the same, as S3 would, and logged.
	var warnings []policy.Problem
	if w := pol.Warnings(); w != nil {
		warnings = w.Problems
	}
	if warnings = append(warnings, policy.Lint(doc)...); len(warnings) > 0 {
		call.Warnings = &policy.ValidationError{Name: name, Problems: warnings}
	}
	if err := api.Store.PutPolicy(ctx, bucket, pol); err != nil {
		return err
	}
	if api.Changed != nil {
		api.Changed(bucket, pol)
	}
	return nil
}

// get answers the bucket's policy as S3 XML: the one the configuration
// fixes, else the stored one.
func (api *CORSAPI) get(ctx context.Context, bucket string) ([]byte, error) {
	pol := api.fixed(bucket)
	if pol == nil {
		stored, found, err := api.Store.GetPolicy(ctx, bucket)
		var invalid *policy.ValidationError
		if errors.As(err, &invalid) {
			return nil, newError(http.StatusInternalServerError, "InternalError", "The stored CORS configuration of this bucket does not validate; put a new one. "+err.Error())
		}
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, newError(http.StatusNotFound, "NoSuchCORSConfiguration", msgNoSuchCORS)
		}
		pol = stored
	}
	return pol.Document().MarshalS3XML()
}

// delete removes the stored policy.
func (api *CORSAPI) delete(ctx context.Context, bucket string) error {
	if err := api.Store.DeletePolicy(ctx, bucket); err != nil {
		return err
	}
	if api.Changed != nil {
		api.Changed(bucket, nil)
	}
	return nil
}
