package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/caddyserver/caddy/v2"

	"github.com/bucketcors/bucketcors/policy"
)

// maxExplainBody bounds the body of an explain request.
const maxExplainBody = 64 << 10

// explainRequest is the body of POST /bucket_cors/explain: the request to
// judge, as `caddy bucket-cors explain` takes it.
type explainRequest struct {
	Bucket string `json:"bucket"`
	Origin string `json:"origin"`
	// Method is the Access-Control-Request-Method of a preflight, or the
	// method of an actual request.
	Method string `json:"method"`
	// Headers are the Access-Control-Request-Headers.
	Headers []string `json:"headers"`
	// Actual asks about a request that is not a preflight.
	Actual bool `json:"actual"`
}

// explainedPolicy is what one handler answers: its mode, the bucket's
// effective policy (its source, version, age and warnings) and how that
// policy judges the request, as the CLI's --json gives it.
type explainedPolicy struct {
	Mode string `json:"mode"`
	effectivePolicy
	Explanation policy.Explanation `json:"explanation"`
}

// serveExplain judges a request by the live policy of a bucket, in every
// handler of the running config, and says why.
func (AdminAPI) serveExplain(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed; use POST", r.Method)}
	}
	req, err := readExplainRequest(w, r)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
	}
	judged := policy.Request{Origin: req.Origin, Method: req.Method, Headers: req.Headers, Actual: req.Actual}
	answers := []explainedPolicy{} // [] rather than null when no handler runs
	for _, h := range liveHandlers() {
		pol, ans, err := h.describePolicy(r, req.Bucket)
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadGateway, Err: fmt.Errorf("bucket %q: reading its policy: %w", req.Bucket, err)}
		}
		answers = append(answers, explainedPolicy{Mode: h.modeName(), effectivePolicy: ans, Explanation: policy.Explain(pol, judged)})
	}
	w.Header().Set("Content-Type", "application/json")
	return WriteJSON(w, map[string]any{"bucket": req.Bucket, "request": judged, "handlers": answers})
}

// readExplainRequest reads and checks the body of an explain request.
func readExplainRequest(w http.ResponseWriter, r *http.Request) (explainRequest, error) {
	const shape = `send {"bucket": "b", "origin": "https://app.example.com", "method": "PUT", "headers": ["content-type"], "actual": false}`
	var req explainRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxExplainBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return req, fmt.Errorf("the body is over %d bytes; %s", maxExplainBody, shape)
		}
		return req, fmt.Errorf("the body is not an explain request: %v; %s", err, shape)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, fmt.Errorf("the body holds more than one JSON object; %s", shape)
	}
	switch {
	case req.Bucket == "":
		return req, fmt.Errorf(`"bucket" is missing: name the bucket whose policy judges the request; %s`, shape)
	case !validBucketName(req.Bucket):
		return req, fmt.Errorf(`"bucket": %q is not a bucket name`, req.Bucket)
	case req.Actual && req.Method == "":
		return req, fmt.Errorf(`"actual" needs "method": the method of the request, such as GET`)
	}
	return req, nil
}

// WriteJSON writes v as indented JSON, with markup left as it is (S3's XML
// bodies stay readable): the form of the admin API's explain and of
// `caddy bucket-cors explain --json`.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}
