package s3api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The credentials the tests sign with (AWS's documentation example key).
const (
	testAccessKey = "AKIAIOSFODNN7EXAMPLE"
	testSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testRegion    = "eu-west-3"
)

// testSignedAt is when the tests' requests are signed.
var testSignedAt = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// testVerifier returns a Verifier that knows the test key, with its clock
// stopped at now.
func testVerifier(now time.Time) *Verifier {
	return &Verifier{
		Secrets: map[string]string{testAccessKey: testSecret},
		Region:  testRegion,
		Now:     func() time.Time { return now },
	}
}

// emptySHA256 is the hex SHA-256 of an empty payload.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// refSigner signs requests by AWS's published Signature Version 4
// algorithm (canonical request, string to sign, derived key), written here
// from the algorithm's description and not from the package, so that tests
// do not check the package against itself. It signs any header it is told
// to, which aws-sdk-go-v2's signer does not (it leaves out User-Agent,
// X-Amzn-Trace-Id and Expect). TestReferenceSignerMatchesAWSSuite checks it
// against AWS's own test suite.
type refSigner struct {
	accessKey, secret, region, service string
}

var testSigner = refSigner{accessKey: testAccessKey, secret: testSecret, region: testRegion, service: "s3"}

// sign adds X-Amz-Date, X-Amz-Content-Sha256 (unless payloadHash is "")
// and an Authorization header that signs host, those two and headers.
func (s refSigner) sign(r *http.Request, at time.Time, payloadHash string, headers ...string) {
	r.Header.Set("X-Amz-Date", at.UTC().Format("20060102T150405Z"))
	signed := append([]string{"host", "x-amz-date"}, headers...)
	if payloadHash != "" {
		r.Header.Set("X-Amz-Content-Sha256", payloadHash)
		signed = append(signed, "x-amz-content-sha256")
	}
	signed = refSignedHeaders(signed)
	sig := s.signature(at, s.canonicalRequest(r, signed, payloadHash))
	r.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		s.accessKey, s.scope(at), strings.Join(signed, ";"), sig))
}

// presign adds the X-Amz-* query parameters of a presigned URL valid for
// expires, signing host and headers, with an UNSIGNED-PAYLOAD as S3 does.
func (s refSigner) presign(r *http.Request, at time.Time, expires time.Duration, headers ...string) {
	signed := refSignedHeaders(append([]string{"host"}, headers...))
	params := []string{
		"X-Amz-Algorithm=AWS4-HMAC-SHA256",
		"X-Amz-Credential=" + refEncode(s.accessKey+"/"+s.scope(at), true),
		"X-Amz-Date=" + at.UTC().Format("20060102T150405Z"),
		"X-Amz-Expires=" + strconv.Itoa(int(expires/time.Second)),
		"X-Amz-SignedHeaders=" + refEncode(strings.Join(signed, ";"), true),
	}
	if r.URL.RawQuery != "" {
		params = append([]string{r.URL.RawQuery}, params...)
	}
	r.URL.RawQuery = strings.Join(params, "&")
	sig := s.signature(at, s.canonicalRequest(r, signed, "UNSIGNED-PAYLOAD"))
	r.URL.RawQuery += "&X-Amz-Signature=" + sig
}

// refSignedHeaders lower-cases, sorts and deduplicates header names.
func refSignedHeaders(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (s refSigner) scope(at time.Time) string {
	return at.UTC().Format("20060102") + "/" + s.region + "/" + s.service + "/aws4_request"
}

// canonicalRequest is step 1 of the algorithm, from the request as the
// client holds it: method, URI-encoded path, sorted and encoded query, the
// signed headers' trimmed values, their names, and the payload hash.
func (s refSigner) canonicalRequest(r *http.Request, signed []string, payloadHash string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n%s\n", r.Method, refEncode(r.URL.Path, false), refCanonicalQuery(r.URL.RawQuery))
	for _, name := range signed {
		fmt.Fprintf(&b, "%s:%s\n", name, refHeaderValue(r, name))
	}
	fmt.Fprintf(&b, "\n%s\n%s", strings.Join(signed, ";"), payloadHash)
	return b.String()
}

// stringToSign is step 2.
func (s refSigner) stringToSign(at time.Time, canonicalRequest string) string {
	return "AWS4-HMAC-SHA256\n" + at.UTC().Format("20060102T150405Z") + "\n" + s.scope(at) + "\n" + sha256Hex([]byte(canonicalRequest))
}

// signature is steps 3 and 4: the key derived from the secret by date,
// region, service and "aws4_request", then the HMAC of the string to sign.
func (s refSigner) signature(at time.Time, canonicalRequest string) string {
	mac := func(key []byte, data string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(data))
		return m.Sum(nil)
	}
	key := mac([]byte("AWS4"+s.secret), at.UTC().Format("20060102"))
	key = mac(key, s.region)
	key = mac(key, s.service)
	key = mac(key, "aws4_request")
	return hex.EncodeToString(mac(key, s.stringToSign(at, canonicalRequest)))
}

// refEncode percent-encodes every byte but A-Z a-z 0-9 - . _ ~ (and "/"
// unless slash is true), upper-case hex, as the algorithm describes.
func refEncode(s string, slash bool) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		unreserved := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0
		if unreserved || c == '/' && !slash {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// refCanonicalQuery decodes each name and value, drops X-Amz-Signature,
// re-encodes them and sorts by name, then value.
func refCanonicalQuery(raw string) string {
	var pairs []string
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		if k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, refEncode(k, true)+"="+refEncode(v, true))
	}
	slices.SortFunc(pairs, func(a, b string) int {
		ak, av, _ := strings.Cut(a, "=")
		bk, bv, _ := strings.Cut(b, "=")
		if c := strings.Compare(ak, bk); c != 0 {
			return c
		}
		return strings.Compare(av, bv)
	})
	return strings.Join(pairs, "&")
}

// refHeaderValue is one canonical header value: every value of the header,
// trimmed, runs of spaces made one, joined by commas.
func refHeaderValue(r *http.Request, name string) string {
	switch name {
	case "host":
		if r.Host != "" {
			return r.Host
		}
		return r.URL.Host
	case "content-length":
		if r.Header.Get("Content-Length") == "" {
			return strconv.FormatInt(r.ContentLength, 10)
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return strings.Join(r.TransferEncoding, ",")
		}
	}
	values := slices.Clone(r.Header.Values(name))
	for i, v := range values {
		values[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(values, ",")
}
