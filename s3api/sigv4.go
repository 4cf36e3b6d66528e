package s3api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SigV4 request elements, as S3 names them.
const (
	sigAlgorithm     = "AWS4-HMAC-SHA256"
	amzDateFormat    = "20060102T150405Z"
	unsignedPayload  = "UNSIGNED-PAYLOAD"
	maxClockSkew     = 15 * time.Minute
	maxPresignExpiry = 7 * 24 * time.Hour
)

// Verifier checks AWS Signature Version 4 signatures, in the Authorization
// header or in a presigned query, as S3 does.
type Verifier struct {
	// Secrets holds the secret of each access key allowed in.
	Secrets map[string]string
	// Region is the region requests must be signed for.
	Region string
	// Service is the service requests must be signed for; "" means s3.
	Service string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Signature is what a SigV4-signed request claims about its signature.
type Signature struct {
	// Presigned is true for a signature in the query (a presigned URL).
	Presigned bool
	// AccessKey is the access key ID of the credential.
	AccessKey string
	// Date, Region and Service are the credential scope's.
	Date, Region, Service string
	// SignedHeaders are the lower-case names the client signed, in order.
	SignedHeaders []string
	// Signature is the hex signature the client sent.
	Signature string
	// SignedAt is the request's X-Amz-Date.
	SignedAt time.Time
	// Expires is a presigned URL's validity.
	Expires time.Duration
	// PayloadHash is x-amz-content-sha256, or UNSIGNED-PAYLOAD for a
	// presigned URL.
	PayloadHash string
}

// Verify checks the signature of r as received: the claims must be
// well-formed, name a known access key and this region and service, be on
// time, and match the signature recomputed with the key's secret. It
// returns the claims as far as they could be read (also when refused, so the
// access key can be logged) and, when refused, the *Error to answer. The body
// is not read: checking it against PayloadHash is the caller's part.
func (v *Verifier) Verify(r *http.Request) (*Signature, error) {
	sig, err := ParseSignature(r)
	if err != nil {
		return sig, err
	}
	secret, ok := v.Secrets[sig.AccessKey]
	if !ok {
		return sig, newError(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	}
	service := v.Service
	if service == "" {
		service = "s3"
	}
	if sig.Region != v.Region {
		return sig, sig.badCredential(fmt.Sprintf("the region '%s' is wrong; expecting '%s'", sig.Region, v.Region))
	}
	if sig.Service != service {
		return sig, sig.badCredential(fmt.Sprintf("the service '%s' is wrong; expecting '%s'", sig.Service, service))
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if err := sig.checkTime(now()); err != nil {
		return sig, err
	}
	want := sig.compute(r, secret)
	if !hmac.Equal([]byte(want), []byte(sig.Signature)) {
		return sig, errSignatureMismatch
	}
	return sig, nil
}

var (
	errNoSignature       = newError(http.StatusForbidden, "AccessDenied", "Access Denied.")
	errSignatureMismatch = newError(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
)

func malformedAuth(msg string) *Error {
	return newError(http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed; "+msg)
}

// badCredential refuses a credential as S3 does: in the Authorization
// header as AuthorizationHeaderMalformed, in a presigned URL (which has no
// such header) as AuthorizationQueryParametersError.
func (sig *Signature) badCredential(msg string) *Error {
	if sig.Presigned {
		return newError(http.StatusBadRequest, "AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; "+msg)
	}
	return malformedAuth(msg)
}

// ParseSignature reads the signature claims of r, or fails as S3 does.
func ParseSignature(r *http.Request) (*Signature, error) {
	// A query part that does not parse would be left out of the canonical
	// request, so out of the signature: refuse it rather than ignore it.
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, newError(http.StatusBadRequest, "InvalidArgument", "The query string is malformed ("+err.Error()+"); percent-encode \"%\" and \";\" in names and values.")
	}
	auth := r.Header.Get("Authorization")
	switch {
	case auth != "" && query.Has("X-Amz-Signature"):
		return nil, newError(http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case auth != "":
		return parseAuthorizationHeader(r, auth)
	case query.Has("X-Amz-Signature"):
		return parsePresignedQuery(query)
	default:
		return nil, errNoSignature
	}
}

// parseAuthorizationHeader reads
// "AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/s3/aws4_request,
// SignedHeaders=<a;b>, Signature=<hex>".
func parseAuthorizationHeader(r *http.Request, auth string) (*Signature, error) {
	algorithm, params, ok := strings.Cut(auth, " ")
	if !ok || algorithm != sigAlgorithm {
		return nil, newError(http.StatusBadRequest, "InvalidArgument", "Unsupported Authorization Type; only "+sigAlgorithm+" is accepted.")
	}
	sig := &Signature{}
	var credential, signedHeaders string
	for _, part := range strings.Split(params, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch key {
		case "Credential":
			credential = value
		case "SignedHeaders":
			signedHeaders = value
		case "Signature":
			sig.Signature = value
		}
	}
	if credential == "" || signedHeaders == "" || sig.Signature == "" {
		return nil, malformedAuth("it needs Credential, SignedHeaders and Signature.")
	}
	if err := sig.setCredential(credential); err != nil {
		return nil, err
	}
	sig.SignedHeaders = strings.Split(signedHeaders, ";")
	t, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return sig, newError(http.StatusForbidden, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
	}
	sig.SignedAt = t
	sig.PayloadHash = r.Header.Get("X-Amz-Content-Sha256")
	if sig.PayloadHash == "" {
		return sig, newError(http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
	}
	return sig, nil
}

// parsePresignedQuery reads the X-Amz-* parameters of a presigned URL.
func parsePresignedQuery(q url.Values) (*Signature, error) {
	if q.Get("X-Amz-Algorithm") != sigAlgorithm {
		return nil, newError(http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \""+sigAlgorithm+"\"")
	}
	sig := &Signature{Presigned: true, Signature: q.Get("X-Amz-Signature"), PayloadHash: unsignedPayload}
	if err := sig.setCredential(q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	sig.SignedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	t, err := time.Parse(amzDateFormat, q.Get("X-Amz-Date"))
	if err != nil {
		return sig, newError(http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	sig.SignedAt = t
	seconds, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	// Compared in seconds: multiplied into a Duration first, a huge value
	// would wrap round to a small one.
	if err != nil || seconds < 0 || seconds > int(maxPresignExpiry/time.Second) {
		return sig, newError(http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Expires must be a number of seconds from 0 to 604800")
	}
	sig.Expires = time.Duration(seconds) * time.Second
	return sig, nil
}

// setCredential reads "<key>/<date>/<region>/<service>/aws4_request".
func (sig *Signature) setCredential(credential string) error {
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" {
		return sig.badCredential("the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	sig.AccessKey, sig.Date, sig.Region, sig.Service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// checkTime refuses a request signed too far from now, or a presigned URL
// out of its validity.
func (sig *Signature) checkTime(now time.Time) error {
	if sig.SignedAt.Format("20060102") != sig.Date {
		return sig.badCredential("the credential's date does not match the request's date.")
	}
	if sig.Presigned {
		if now.Before(sig.SignedAt.Add(-maxClockSkew)) {
			return newError(http.StatusForbidden, "AccessDenied", "Request is not valid yet")
		}
		if now.After(sig.SignedAt.Add(sig.Expires)) {
			return newError(http.StatusForbidden, "AccessDenied", "Request has expired")
		}
		return nil
	}
	if skew := now.Sub(sig.SignedAt); skew > maxClockSkew || skew < -maxClockSkew {
		return newError(http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
	}
	return nil
}

// compute returns the signature of r by the claims of sig and secret.
func (sig *Signature) compute(r *http.Request, secret string) string {
	scope := sig.Date + "/" + sig.Region + "/" + sig.Service + "/aws4_request"
	creq := sha256.Sum256([]byte(CanonicalRequest(r, sig.SignedHeaders, sig.PayloadHash)))
	stringToSign := sigAlgorithm + "\n" + sig.SignedAt.Format(amzDateFormat) + "\n" + scope + "\n" + hex.EncodeToString(creq[:])
	key := hmacSHA256([]byte("AWS4"+secret), sig.Date)
	for _, part := range []string{sig.Region, sig.Service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, stringToSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
