package edge

import (
	"net/http"
	"unicode/utf8"

	"github.com/bucketcors/bucketcors/policy"
)

// DebugHeader carries the verdict on every answer to a CORS request when
// the handler's debug switch is on.
const DebugHeader = "Bucket-Cors-Debug"

// MaxDebugBytes bounds the debug header: a refusal by a policy of a hundred
// rules names each of them, and proxies and browsers drop answers whose
// headers are too large.
const MaxDebugBytes = 1024

// The verdicts of requests that no policy judges.
const (
	VerdictUnavailable    = "refused: the bucket's policy could not be read"
	VerdictSeveralOrigins = "refused: the request has more than one Origin header"
)

// Verdict is the one-line judgement of r by pol (nil for none), in the
// words of `caddy bucket-cors explain`.
func Verdict(pol *policy.Policy, r *http.Request) string {
	return policy.VerdictOf(pol, policy.RequestOf(r))
}

// SetDebug sets the debug header to v, cut short to MaxDebugBytes.
func SetDebug(h http.Header, v string) {
	h[DebugHeader] = []string{Shorten(v, MaxDebugBytes)}
}

// Shorten cuts s to at most limit bytes, on a character boundary, ending
// it with "…" when it was cut.
func Shorten(s string, limit int) string {
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
