package caddymodule

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bucketcors/bucketcors/edge"
)

// The verdicts of assetsPolicy for the requests of the debug tests.
const (
	refusedPUTFromOther = `refused: rule 1 ("web"): origin https://evil.example.net not listed; rule 2 ("public-read"): method PUT not allowed`
	noPolicyVerdict     = "refused: the bucket has no CORS policy"
)

// debugCase is one request of the debug tests and the debug header it gets
// ("" for none).
type debugCase struct {
	name   string
	method string
	path   string
	header []string
	want   string
}

// debugCases covers each kind of answer: preflights granted and refused
// (with and without a policy, and when the policy cannot be read), proxied
// answers allowed and refused, and requests that are no CORS request.
var debugCases = []debugCase{
	{"preflight allowed", http.MethodOptions, "/assets/key",
		[]string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type"},
		`rule 1 ("web") allowed`},
	{"preflight refused", http.MethodOptions, "/assets/key",
		[]string{"Origin", otherOrigin, "Access-Control-Request-Method", "PUT"},
		refusedPUTFromOther},
	{"preflight refused for a header", http.MethodOptions, "/assets/key",
		[]string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-foo"},
		`refused: rule 1 ("web"): header x-foo not allowed; rule 2 ("public-read"): method PUT not allowed`},
	{"preflight of a bucket without policy", http.MethodOptions, "/photos/key",
		[]string{"Origin", appOrigin, "Access-Control-Request-Method", "GET"},
		noPolicyVerdict},
	{"preflight of a bucket whose policy cannot be read", http.MethodOptions, "/broken/key",
		[]string{"Origin", appOrigin, "Access-Control-Request-Method", "GET"},
		edge.VerdictUnavailable},
	{"GET allowed, proxied", http.MethodGet, "/assets/key",
		[]string{"Origin", otherOrigin},
		`rule 2 ("public-read") allowed`},
	{"PUT refused, proxied", http.MethodPut, "/assets/key",
		[]string{"Origin", otherOrigin},
		refusedPUTFromOther},
	{"GET of a bucket without policy, proxied", http.MethodGet, "/photos/key",
		[]string{"Origin", appOrigin},
		noPolicyVerdict},
	{"GET of a bucket whose policy cannot be read, proxied", http.MethodGet, "/broken/key",
		[]string{"Origin", appOrigin},
		edge.VerdictUnavailable},
	{"GET with two Origin headers", http.MethodGet, "/assets/key",
		[]string{"Origin", appOrigin, "Origin", otherOrigin},
		edge.VerdictSeveralOrigins},
	{"GET without Origin: no CORS request", http.MethodGet, "/assets/key", nil, ""},
	{"preflight without Origin", http.MethodOptions, "/assets/key",
		[]string{"Access-Control-Request-Method", "GET"}, ""},
}

// debugHandler provisions assetsPolicy, with a policy_dir whose policy for
// "broken" cannot be read, and the given extra lines.
func debugHandler(t *testing.T, extra string) *Handler {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "broken.json", "not a policy")
	return handlerFromCaddyfile(t, "bucket_cors {\n"+assetsPolicy+"\npolicy_dir "+dir+"\n"+extra+"\n}")
}

// TestDebugHeaderSaysWhy: with debug, every answer to a request with an
// Origin carries the verdict in the words of `caddy bucket-cors explain`,
// in either mode; without, no answer does.
func TestDebugHeaderSaysWhy(t *testing.T) {
	upstream := newMinioLike(t)
	for _, mode := range []struct {
		name, lines string
		debug       bool
	}{
		{"enforce", "debug", true},
		{"report_only", "debug\nmode report_only", true},
		{"off by default", "", false},
		{"off by default, report_only", "mode report_only", false},
	} {
		h := debugHandler(t, mode.lines)
		srv := frontServer(t, h, proxyTo(upstream.URL))
		for _, tc := range debugCases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				resp, _ := do(t, srv.Client(), newRequest(t, tc.method, srv.URL+tc.path, tc.header...))
				want := tc.want
				if !mode.debug {
					want = ""
				}
				got, present := resp.Header[edge.DebugHeader]
				switch {
				case want == "" && present:
					t.Errorf("%s: %q, want no such header", edge.DebugHeader, got)
				case want != "" && (len(got) != 1 || got[0] != want):
					t.Errorf("%s: %q\nwant: %q", edge.DebugHeader, got, want)
				}
			})
		}
	}
}

// TestDebugHeaderIsCutShort: a refusal by a policy of a hundred rules
// names them all in the admin explain, but the header stops at about a
// KiB, on a character boundary, and says it was cut.
func TestDebugHeaderIsCutShort(t *testing.T) {
	var rules strings.Builder
	for i := range 100 {
		fmt.Fprintf(&rules, "rule {\nid rule-number-%d\norigins https://site-%d.example.com\nmethods GET\n}\n", i+1, i+1)
	}
	h := handlerFromCaddyfile(t, "bucket_cors {\ndebug\npolicy assets {\n"+rules.String()+"}\n}")
	req := newRequest(t, http.MethodOptions, "http://proxy.example/assets/key",
		"Origin", otherOrigin, "Access-Control-Request-Method", "GET")
	rec, err := serveRecorded(h, req, mustNotRun(t))
	if err != nil {
		t.Fatal(err)
	}
	got := rec.Header().Get(edge.DebugHeader)
	const start = `refused: rule 1 ("rule-number-1"): origin https://evil.example.net not listed; rule 2 ("rule-number-2")`
	if len(got) > edge.MaxDebugBytes || !strings.HasPrefix(got, start) || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("%s (%d bytes): %q\nwant at most %d bytes of valid UTF-8, starting %q and ending with …", edge.DebugHeader, len(got), got, edge.MaxDebugBytes, start)
	}
}
