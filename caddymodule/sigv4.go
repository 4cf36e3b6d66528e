package caddymodule

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigV4 request elements, as S3 names them.
const (
	sigAlgorithm     = "AWS4-HMAC-SHA256"
	amzDateFormat    = "20060102T150405Z"
	unsignedPayload  = "UNSIGNED-PAYLOAD"
	emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	maxClockSkew     = 15 * time.Minute
	maxPresignExpiry = 7 * 24 * time.Hour
)

// sigRequest is what a SigV4-signed request claims about its signature,
// from its Authorization header or from its presigned query.
type sigRequest struct {
	presigned     bool
	accessKey     string
	date          string // the credential scope's date, YYYYMMDD
	region        string
	service       string
	signedHeaders []string
	signature     string
	signedAt      time.Time
	expires       time.Duration // presigned only
	payloadHash   string
}

// authFailure is a refused signature, with the S3 error to answer.
type authFailure struct {
	status  int
	code    string
	message string
}

func (f *authFailure) Error() string { return f.code + ": " + f.message }

func denied(status int, code, message string) *authFailure {
	return &authFailure{status: status, code: code, message: message}
}

var errNoSignature = denied(http.StatusForbidden, "AccessDenied", "Access Denied.")

// parseSigRequest reads the signature claims of r, or fails as S3 does.
func parseSigRequest(r *http.Request) (*sigRequest, *authFailure) {
	query := r.URL.Query()
	auth := r.Header.Get("Authorization")
	switch {
	case auth != "" && query.Has("X-Amz-Signature"):
		return nil, denied(http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case auth != "":
		return parseAuthorizationHeader(r, auth)
	case query.Has("X-Amz-Signature"):
		return parsePresignedQuery(query)
	default:
		return nil, errNoSignature
	}
}

func malformedAuth(msg string) *authFailure {
	return denied(http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed; "+msg)
}

// parseAuthorizationHeader reads
// "AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/s3/aws4_request,
// SignedHeaders=<a;b>, Signature=<hex>".
func parseAuthorizationHeader(r *http.Request, auth string) (*sigRequest, *authFailure) {
	algorithm, params, ok := strings.Cut(auth, " ")
	if !ok || algorithm != sigAlgorithm {
		return nil, denied(http.StatusBadRequest, "InvalidArgument", "Unsupported Authorization Type; only "+sigAlgorithm+" is accepted.")
	}
	sr := &sigRequest{}
	var credential, signedHeaders string
	for _, part := range strings.Split(params, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch key {
		case "Credential":
			credential = value
		case "SignedHeaders":
			signedHeaders = value
		case "Signature":
			sr.signature = value
		}
	}
	if credential == "" || signedHeaders == "" || sr.signature == "" {
		return nil, malformedAuth("it needs Credential, SignedHeaders and Signature.")
	}
	if f := sr.setCredential(credential); f != nil {
		return nil, f
	}
	sr.signedHeaders = strings.Split(signedHeaders, ";")
	t, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return nil, denied(http.StatusForbidden, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
	}
	sr.signedAt = t
	sr.payloadHash = r.Header.Get("X-Amz-Content-Sha256")
	if sr.payloadHash == "" {
		return nil, denied(http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
	}
	return sr, nil
}

// parsePresignedQuery reads the X-Amz-* parameters of a presigned URL.
func parsePresignedQuery(q url.Values) (*sigRequest, *authFailure) {
	if q.Get("X-Amz-Algorithm") != sigAlgorithm {
		return nil, denied(http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \""+sigAlgorithm+"\"")
	}
	sr := &sigRequest{presigned: true, signature: q.Get("X-Amz-Signature"), payloadHash: unsignedPayload}
	if f := sr.setCredential(q.Get("X-Amz-Credential")); f != nil {
		return nil, f
	}
	sr.signedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	t, err := time.Parse(amzDateFormat, q.Get("X-Amz-Date"))
	if err != nil {
		return nil, denied(http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	sr.signedAt = t
	seconds, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || seconds < 0 || time.Duration(seconds)*time.Second > maxPresignExpiry {
		return nil, denied(http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Expires must be a number of seconds from 0 to 604800")
	}
	sr.expires = time.Duration(seconds) * time.Second
	return sr, nil
}

// setCredential reads "<key>/<date>/<region>/<service>/aws4_request".
func (sr *sigRequest) setCredential(credential string) *authFailure {
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" {
		return malformedAuth("the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	sr.accessKey, sr.date, sr.region, sr.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// checkTime refuses a request signed too far from now, or a presigned URL
// out of its validity.
func (sr *sigRequest) checkTime(now time.Time) *authFailure {
	if sr.signedAt.Format("20060102") != sr.date {
		return malformedAuth("the credential's date does not match the request's date.")
	}
	if sr.presigned {
		if now.Before(sr.signedAt.Add(-maxClockSkew)) {
			return denied(http.StatusForbidden, "AccessDenied", "Request is not valid yet")
		}
		if now.After(sr.signedAt.Add(sr.expires)) {
			return denied(http.StatusForbidden, "AccessDenied", "Request has expired")
		}
		return nil
	}
	if skew := now.Sub(sr.signedAt); skew > maxClockSkew || skew < -maxClockSkew {
		return denied(http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
	}
	return nil
}

// verifySignature recomputes the signature of r as received, with the
// secret of its access key, and compares it in constant time.
func (sr *sigRequest) verifySignature(r *http.Request, secretKey string) *authFailure {
	mismatch := denied(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	canonical, err := sr.canonicalRequest(r)
	if err != nil {
		return mismatch
	}
	creds := aws.Credentials{AccessKeyID: sr.accessKey, SecretAccessKey: secretKey}
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = true // S3 signs the path as sent
		o.DisableHeaderHoisting = true  // keep the headers where the client put them
	})
	var computed string
	if sr.presigned {
		signedURL, _, err := signer.PresignHTTP(context.Background(), creds, canonical, sr.payloadHash, sr.service, sr.region, sr.signedAt)
		if err != nil {
			return mismatch
		}
		u, err := url.Parse(signedURL)
		if err != nil {
			return mismatch
		}
		computed = u.Query().Get("X-Amz-Signature")
	} else {
		if err := signer.SignHTTP(context.Background(), creds, canonical, sr.payloadHash, sr.service, sr.region, sr.signedAt); err != nil {
			return mismatch
		}
		_, computed, _ = strings.Cut(canonical.Header.Get("Authorization"), "Signature=")
	}
	if subtle.ConstantTimeCompare([]byte(computed), []byte(sr.signature)) != 1 {
		return mismatch
	}
	return nil
}

// canonicalRequest is r reduced to what the client signed: its method, the
// path and query as sent on the wire (less the signature itself), and the
// signed headers only, so that the signer signs exactly those.
func (sr *sigRequest) canonicalRequest(r *http.Request) (*http.Request, error) {
	path, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	if path == "" || path[0] != '/' {
		path = r.URL.EscapedPath()
	}
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	query.Del("X-Amz-Signature")
	c := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Scheme: "http", Host: r.Host, Opaque: "//" + r.Host + path, RawQuery: query.Encode()},
		Host:   r.Host,
		Header: make(http.Header),
	}
	for _, name := range sr.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			c.ContentLength = r.ContentLength
		default:
			if values := r.Header.Values(name); len(values) > 0 {
				c.Header[http.CanonicalHeaderKey(name)] = []string{strings.Join(values, ",")}
			}
		}
	}
	return c, nil
}
