package s3api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// headerSigned returns a GetBucketCors call signed in its Authorization
// header at testSignedAt.
func headerSigned() *http.Request {
	r := httptest.NewRequest("GET", "http://s3.example.com/uploads?cors", nil)
	testSigner.sign(r, testSignedAt, emptySHA256)
	return r
}

// presigned returns a GetBucketCors URL presigned at testSignedAt for
// expires.
func presigned(expires time.Duration) *http.Request {
	r := httptest.NewRequest("GET", "http://s3.example.com/uploads?cors", nil)
	testSigner.presign(r, testSignedAt, expires)
	return r
}

// withAuth replaces the Authorization header.
func withAuth(auth string) *http.Request {
	r := headerSigned()
	r.Header.Set("Authorization", auth)
	return r
}

// withQuery replaces one query parameter of a presigned URL.
func withQuery(r *http.Request, name, value string) *http.Request {
	q := r.URL.Query()
	if value == "" {
		q.Del(name)
	} else {
		q.Set(name, value)
	}
	r.URL.RawQuery = q.Encode()
	return r
}

// signedBy signs a GetBucketCors call with s at at.
func signedBy(s refSigner, at time.Time) *http.Request {
	r := httptest.NewRequest("GET", "http://s3.example.com/uploads?cors", nil)
	s.sign(r, at, emptySHA256)
	return r
}

// presignedBy presigns a GetBucketCors URL with s.
func presignedBy(s refSigner) *http.Request {
	r := httptest.NewRequest("GET", "http://s3.example.com/uploads?cors", nil)
	s.presign(r, testSignedAt, time.Hour)
	return r
}

const (
	credentialShape     = `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`
	validSignatureParts = "Credential=" + testAccessKey + "/20260314/eu-west-3/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" +
		"0000000000000000000000000000000000000000000000000000000000000000"
)

// TestVerifyRefusals checks every refusal of Verify as a client reads it:
// status, Code and Message of the S3 XML answer.
func TestVerifyRefusals(t *testing.T) {
	t.Parallel()
	var (
		other      = refSigner{accessKey: testAccessKey, secret: testSecret, region: "us-east-1", service: "s3"}
		otherSvc   = refSigner{accessKey: testAccessKey, secret: testSecret, region: testRegion, service: "execute-api"}
		unknownKey = refSigner{accessKey: "AKIAUNKNOWNEXAMPLE00", secret: testSecret, region: testRegion, service: "s3"}
		badSecret  = refSigner{accessKey: testAccessKey, secret: "not-the-secret", region: testRegion, service: "s3"}
		skew       = 15*time.Minute + time.Second
	)
	cases := []struct {
		name    string
		req     *http.Request
		now     time.Time // zero is testSignedAt
		status  int
		code    string
		message string
		// key is the access key Verify must still report, for the log.
		key string
	}{
		{name: "no signature", req: httptest.NewRequest("GET", "/uploads?cors", nil),
			status: 403, code: "AccessDenied", message: "Access Denied."},
		{name: "both the header and the query", req: func() *http.Request {
			r := presigned(time.Hour)
			r.Header.Set("Authorization", headerSigned().Header.Get("Authorization"))
			return r
		}(), status: 400, code: "InvalidArgument",
			message: "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified."},
		{name: "Signature Version 2", req: withAuth("AWS " + testAccessKey + ":frJIUN8DYpKDtOLCwo//yllqDzg="),
			status: 400, code: "InvalidArgument", message: "Unsupported Authorization Type; only AWS4-HMAC-SHA256 is accepted."},
		{name: "the algorithm alone", req: withAuth("AWS4-HMAC-SHA256"),
			status: 400, code: "InvalidArgument", message: "Unsupported Authorization Type; only AWS4-HMAC-SHA256 is accepted."},
		{name: "another algorithm", req: withAuth("AWS4-ECDSA-P256-SHA256 " + validSignatureParts),
			status: 400, code: "InvalidArgument", message: "Unsupported Authorization Type; only AWS4-HMAC-SHA256 is accepted."},
		{name: "no SignedHeaders", req: withAuth("AWS4-HMAC-SHA256 Credential=" + testAccessKey + "/20260314/eu-west-3/s3/aws4_request, Signature=00"),
			status: 400, code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed; it needs Credential, SignedHeaders and Signature."},
		{name: "no Signature", req: withAuth("AWS4-HMAC-SHA256 Credential=" + testAccessKey + "/20260314/eu-west-3/s3/aws4_request, SignedHeaders=host"),
			status: 400, code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed; it needs Credential, SignedHeaders and Signature."},
		{name: "no Credential", req: withAuth("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00"),
			status: 400, code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed; it needs Credential, SignedHeaders and Signature."},
		{name: "a Credential without date", req: withAuth("AWS4-HMAC-SHA256 " + strings.Replace(validSignatureParts, "/20260314", "", 1)),
			status: 400, code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed; " + credentialShape},
		{name: "a Credential without access key", req: withAuth("AWS4-HMAC-SHA256 " + strings.Replace(validSignatureParts, testAccessKey, "", 1)),
			status: 400, code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed; " + credentialShape},
		{name: "a Credential with another terminator", req: withAuth("AWS4-HMAC-SHA256 " + strings.Replace(validSignatureParts, "aws4_request", "aws5_request", 1)),
			status: 400, code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed; " + credentialShape},
		{name: "another region", req: signedBy(other, testSignedAt), key: testAccessKey,
			status: 400, code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-3'"},
		{name: "another service", req: signedBy(otherSvc, testSignedAt), key: testAccessKey,
			status: 400, code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed; the service 'execute-api' is wrong; expecting 's3'"},
		{name: "the credential's date is not the request's", req: func() *http.Request {
			r := headerSigned()
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20260314/", "/20260313/", 1))
			return r
		}(), key: testAccessKey,
			status: 400, code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed; the credential's date does not match the request's date."},
		{name: "no X-Amz-Date", req: func() *http.Request {
			r := headerSigned()
			r.Header.Del("X-Amz-Date")
			return r
		}(), key: testAccessKey,
			status: 403, code: "AccessDenied", message: "AWS authentication requires a valid Date or x-amz-date header"},
		{name: "X-Amz-Date in another format", req: func() *http.Request {
			r := headerSigned()
			r.Header.Set("X-Amz-Date", testSignedAt.Format(http.TimeFormat))
			return r
		}(), key: testAccessKey,
			status: 403, code: "AccessDenied", message: "AWS authentication requires a valid Date or x-amz-date header"},
		{name: "no x-amz-content-sha256", req: func() *http.Request {
			r := headerSigned()
			r.Header.Del("X-Amz-Content-Sha256")
			return r
		}(), key: testAccessKey,
			status: 400, code: "InvalidRequest", message: "Missing required header for this request: x-amz-content-sha256"},
		{name: "an unknown access key", req: signedBy(unknownKey, testSignedAt), key: "AKIAUNKNOWNEXAMPLE00",
			status: 403, code: "InvalidAccessKeyId", message: "The AWS Access Key Id you provided does not exist in our records."},
		{name: "signed with another secret", req: signedBy(badSecret, testSignedAt), key: testAccessKey,
			status: 403, code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."},
		{name: "the signature in upper case", req: func() *http.Request {
			r := headerSigned()
			auth := r.Header.Get("Authorization")
			i := strings.Index(auth, "Signature=") + len("Signature=")
			r.Header.Set("Authorization", auth[:i]+strings.ToUpper(auth[i:]))
			return r
		}(), key: testAccessKey,
			status: 403, code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."},
		{name: "signed just over 15 minutes ago", req: headerSigned(), now: testSignedAt.Add(skew), key: testAccessKey,
			status: 403, code: "RequestTimeTooSkewed", message: "The difference between the request time and the current time is too large."},
		{name: "signed just over 15 minutes ahead", req: headerSigned(), now: testSignedAt.Add(-skew), key: testAccessKey,
			status: 403, code: "RequestTimeTooSkewed", message: "The difference between the request time and the current time is too large."},

		{name: "a query part that does not parse (a bad escape)", req: func() *http.Request {
			r := headerSigned()
			r.URL.RawQuery += "&x=%zz"
			return r
		}(), status: 400, code: "InvalidArgument",
			message: `The query string is malformed (invalid URL escape "%zz"); percent-encode "%" and ";" in names and values.`},
		{name: "presigned: a query part that does not parse (a semicolon)", req: func() *http.Request {
			r := presigned(time.Hour)
			r.URL.RawQuery += "&cors;x-id=DeleteBucketCors"
			return r
		}(), status: 400, code: "InvalidArgument",
			message: `The query string is malformed (invalid semicolon separator in query); percent-encode "%" and ";" in names and values.`},

		{name: "presigned: another algorithm", req: withQuery(presigned(time.Hour), "X-Amz-Algorithm", "AWS4-HMAC-SHA1"),
			status: 400, code: "AuthorizationQueryParametersError", message: `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`},
		{name: "presigned: no algorithm", req: withQuery(presigned(time.Hour), "X-Amz-Algorithm", ""),
			status: 400, code: "AuthorizationQueryParametersError", message: `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`},
		{name: "presigned: a malformed credential", req: withQuery(presigned(time.Hour), "X-Amz-Credential", testAccessKey+"/20260314/eu-west-3/s3"),
			status: 400, code: "AuthorizationQueryParametersError", message: "Error parsing the X-Amz-Credential parameter; " + credentialShape},
		{name: "presigned: another region", req: presignedBy(other), key: testAccessKey,
			status: 400, code: "AuthorizationQueryParametersError", message: "Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting 'eu-west-3'"},
		{name: "presigned: the credential's date is not the request's", req: withQuery(presigned(time.Hour), "X-Amz-Date", "20260315T000000Z"), now: testSignedAt.Add(9 * time.Hour), key: testAccessKey,
			status: 400, code: "AuthorizationQueryParametersError", message: "Error parsing the X-Amz-Credential parameter; the credential's date does not match the request's date."},
		{name: "presigned: a malformed date", req: withQuery(presigned(time.Hour), "X-Amz-Date", "2026-03-14T15:09:26Z"), key: testAccessKey,
			status: 400, code: "AuthorizationQueryParametersError", message: `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`},
		{name: "presigned: X-Amz-Expires over 7 days", req: withQuery(presigned(time.Hour), "X-Amz-Expires", "604801"), key: testAccessKey,
			status: 400, code: "AuthorizationQueryParametersError", message: "X-Amz-Expires must be a number of seconds from 0 to 604800"},
		// 18446744074 s is 2^64 ns and 0.29 s: multiplied as a Duration
		// it wraps round to a validity under 7 days.
		{name: "presigned: X-Amz-Expires that overflows a duration", req: withQuery(presigned(time.Hour), "X-Amz-Expires", "18446744074"), key: testAccessKey,
			status: 400, code: "AuthorizationQueryParametersError", message: "X-Amz-Expires must be a number of seconds from 0 to 604800"},
		{name: "presigned: X-Amz-Expires negative", req: withQuery(presigned(time.Hour), "X-Amz-Expires", "-1"), key: testAccessKey,
			status: 400, code: "AuthorizationQueryParametersError", message: "X-Amz-Expires must be a number of seconds from 0 to 604800"},
		{name: "presigned: X-Amz-Expires not a number", req: withQuery(presigned(time.Hour), "X-Amz-Expires", "1h"), key: testAccessKey,
			status: 400, code: "AuthorizationQueryParametersError", message: "X-Amz-Expires must be a number of seconds from 0 to 604800"},
		{name: "presigned: no X-Amz-Expires", req: withQuery(presigned(time.Hour), "X-Amz-Expires", ""), key: testAccessKey,
			status: 400, code: "AuthorizationQueryParametersError", message: "X-Amz-Expires must be a number of seconds from 0 to 604800"},
		{name: "presigned: expired a second ago", req: presigned(time.Hour), now: testSignedAt.Add(time.Hour + time.Second), key: testAccessKey,
			status: 403, code: "AccessDenied", message: "Request has expired"},
		{name: "presigned: signed over 15 minutes ahead", req: presigned(time.Hour), now: testSignedAt.Add(-skew), key: testAccessKey,
			status: 403, code: "AccessDenied", message: "Request is not valid yet"},
		{name: "presigned: the URL changed", req: func() *http.Request {
			r := presigned(time.Hour)
			r.URL.RawQuery += "&x-id=DeleteBucketCors"
			return r
		}(), key: testAccessKey,
			status: 403, code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := tc.now
			if now.IsZero() {
				now = testSignedAt
			}
			sig, err := testVerifier(now).Verify(tc.req)
			if err == nil {
				t.Fatal("Verify accepted the request")
			}
			status, e := answered(t, err)
			if status != tc.status || e.Code != tc.code || e.Message != tc.message {
				t.Errorf("answered %d %s %q\nwant     %d %s %q", status, e.Code, e.Message, tc.status, tc.code, tc.message)
			}
			var key string
			if sig != nil {
				key = sig.AccessKey
			}
			if key != tc.key {
				t.Errorf("claims name access key %q, want %q", key, tc.key)
			}
		})
	}
}

// TestVerifyAcceptsAtTheLimits: the limits are inclusive, as S3's are.
func TestVerifyAcceptsAtTheLimits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		req  *http.Request
		now  time.Time
	}{
		{"signed 15 minutes ago", headerSigned(), testSignedAt.Add(15 * time.Minute)},
		{"signed 15 minutes ahead", headerSigned(), testSignedAt.Add(-15 * time.Minute)},
		{"signed just within 15 minutes", headerSigned(), testSignedAt.Add(15*time.Minute - time.Second)},
		{"presigned, on its last second", presigned(time.Hour), testSignedAt.Add(time.Hour)},
		{"presigned 15 minutes ahead", presigned(time.Hour), testSignedAt.Add(-15 * time.Minute)},
		{"presigned for 7 days, on its last second", presigned(7 * 24 * time.Hour), testSignedAt.Add(7 * 24 * time.Hour)},
		{"presigned for 0 seconds, at once", presigned(0), testSignedAt},
		{"presigned, used long after another presigned URL expired", presigned(7 * 24 * time.Hour), testSignedAt.Add(6 * 24 * time.Hour)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := testVerifier(tc.now).Verify(tc.req); err != nil {
				t.Errorf("Verify refused: %v", err)
			}
		})
	}
}

// TestVerifyDefaultsToS3AndTheClock: without Service, requests must be
// signed for s3; without Now, the clock is time.Now.
func TestVerifyDefaultsToS3AndTheClock(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	v := &Verifier{Secrets: map[string]string{testAccessKey: testSecret}, Region: testRegion}
	if _, err := v.Verify(signedBy(testSigner, now)); err != nil {
		t.Errorf("a request signed now for s3: %v", err)
	}
	if _, err := v.Verify(signedBy(testSigner, now.Add(-time.Hour))); err == nil || AsError(err).Code != "RequestTimeTooSkewed" {
		t.Errorf("a request signed an hour ago: %v, want RequestTimeTooSkewed", err)
	}
}
