package s3api

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// CanonicalRequest returns SigV4's canonical form of r as received, over
// the headers the client signed. It is built here, not by an SDK's signer: a
// client signer chooses which headers to sign (aws-sdk-go-v2's leaves out
// User-Agent, X-Amzn-Trace-Id and Expect), while a verifier must take exactly
// the names the client listed.
//
// As S3 does, the path is not normalised: it is decoded and then encoded
// once, keeping every "/" (so "/a//b" stays as it is).
func CanonicalRequest(r *http.Request, signedHeaders []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(uriEncode(r.URL.Path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalQuery sorts the query's parameters by name, then value, each
// encoded, less the signature of a presigned URL.
func canonicalQuery(rawQuery string) string {
	// ParseQuery's error reports an element it left out; ParseSignature
	// refuses such a query before a signature is computed over it.
	values, _ := url.ParseQuery(rawQuery)
	values.Del("X-Amz-Signature")
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(values))
	for k, vs := range values {
		for _, v := range vs {
			pairs = append(pairs, pair{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// canonicalHeaderValue returns the value of one signed header: every line,
// trimmed, inner runs of spaces collapsed to one, joined by ",". The Go
// server moves Host, Content-Length and Transfer-Encoding out of the header
// map; they are read from where it puts them.
func canonicalHeaderValue(r *http.Request, name string) string {
	var values []string
	switch name {
	case "host":
		values = []string{r.Host}
	case "transfer-encoding":
		values = r.TransferEncoding
	case "content-length":
		values = r.Header.Values(name)
		if len(values) == 0 && r.ContentLength >= 0 && r.Body != nil && r.Body != http.NoBody {
			values = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		values = r.Header.Values(name)
	}
	trimmed := make([]string, len(values))
	for i, v := range values {
		trimmed[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(trimmed, ",")
}

// uriEncode encodes every byte of s but the unreserved ones (A-Z a-z 0-9 -
// _ . ~) as %XX, and "/" too when slash is true, as SigV4 asks.
func uriEncode(s string, slash bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !slash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
