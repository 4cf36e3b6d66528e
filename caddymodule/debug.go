package caddymodule

import (
	"net/http"
	"unicode/utf8"

	"github.com/bucketcors/bucketcors/policy"
)

// debugHeader carries the verdict on every answer to a CORS request when
// the handler's Debug is on.
const debugHeader = "Bucket-Cors-Debug"

// maxDebugBytes bounds the debug header: a refusal by a policy of a hundred
// rules names each of them, and proxies and browsers drop answers whose
// headers are too large.
const maxDebugBytes = 1024

// The verdicts of requests that no policy judges.
const (
	verdictUnavailable    = "refused: the bucket's policy could not be read"
	verdictSeveralOrigins = "refused: the request has more than one Origin header"
)

// verdict is the one-line judgement of r by pol (nil for none), in the
// words of `caddy bucket-cors explain`.
func verdict(pol *policy.Policy, r *http.Request) string {
	return policy.VerdictOf(pol, policy.RequestOf(r))
}

// setDebug sets the debug header to v, cut short to maxDebugBytes.
func setDebug(h http.Header, v string) {
	h[debugHeader] = []string{shorten(v, maxDebugBytes)}
}

// shorten cuts s to at most limit bytes, on a character boundary, ending
// it with "…" when it was cut.
func shorten(s string, limit int) string {
	const ellipsis = "…"
	if len(s) <= limit {
		return s
	}
	n := limit - len(ellipsis)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}
