package caddymodule

import (
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/bucketcors/bucketcors/policy"
)

// corsWriter rewrites the Access-Control-* headers of a response once, just
// before they are sent: on the first final WriteHeader, or on the first Write,
// ReadFrom or Flush that comes without one. It never buffers the body.
type corsWriter struct {
	caddyhttp.ResponseWriterWrapper
	grant   policy.Grant
	applied bool
	// debug is the verdict for the debug header, "" when it is off.
	debug string
}

// writerPool recycles corsWriters: BenchmarkAgainstRSCors/get-allowed
// measured the writer allocated per request, and the collection it causes,
// at a quarter of a proxied request's cost in the module. A writer goes back
// once ServeHTTP has returned, when nothing holds it; the header values it
// sets are allocated apart, since the answer's header map outlives it (in
// the access log).
var writerPool = sync.Pool{New: func() any { return new(corsWriter) }}

// apply removes the origin's CORS headers and sets the policy's, once.
func (cw *corsWriter) apply() {
	if cw.applied {
		return
	}
	cw.applied = true
	h := cw.ResponseWriter.Header()
	deleteCORSHeaders(h)
	names, n := refusalVary, 0
	if cw.grant.Allowed {
		names, n = grantVary, grantHeaderCount(&cw.grant)
	}
	lines := h["Vary"]
	line := varyLine(names, lines)
	n += varySlots(line, lines)
	// One allocation, of the values set here and no more
	// (BenchmarkAgainstRSCors/get-allowed: fewer bytes, fewer collections).
	values := answerValues(make([]string, n))
	if cw.grant.Allowed {
		setGrantHeaders(h, &cw.grant, &values)
	}
	setVary(h, lines, line, values)
	if cw.debug != "" {
		setDebug(h, cw.debug)
	}
}

// WriteHeader applies the CORS headers on the final status. Informational
// answers (103 Early Hints) only lose the origin's CORS headers.
func (cw *corsWriter) WriteHeader(status int) {
	if status >= 100 && status < 200 {
		deleteCORSHeaders(cw.ResponseWriter.Header())
	} else {
		cw.apply()
	}
	cw.ResponseWriter.WriteHeader(status)
}

// Write applies the CORS headers when no WriteHeader came first.
func (cw *corsWriter) Write(p []byte) (int, error) {
	cw.apply()
	return cw.ResponseWriter.Write(p)
}

// ReadFrom applies the CORS headers and hands the copy to the underlying
// writer, which keeps its own fast paths (sendfile, splice).
func (cw *corsWriter) ReadFrom(r io.Reader) (int64, error) {
	cw.apply()
	return cw.ResponseWriterWrapper.ReadFrom(r)
}

// FlushError applies the CORS headers before a flush sends them; it is what
// http.ResponseController calls.
func (cw *corsWriter) FlushError() error {
	cw.apply()
	return http.NewResponseController(cw.ResponseWriter).Flush()
}

// answerValues backs the header values of one answer: one allocation for
// them all, so that no two answers share a slice that a later handler (a
// `header` replace) edits in place. Each value gets a slice of its own
// capacity, so an append to one never writes over the next.
type answerValues []string

// set sets h[key] to value, taking the next slot. key must be canonical.
func (v *answerValues) set(h http.Header, key, value string) {
	slots := *v
	slots[0] = value
	h[key] = slots[:1:1]
	*v = slots[1:]
}

// grantHeaderCount is the number of headers setGrantHeaders sets for g.
func grantHeaderCount(g *policy.Grant) int {
	n := 2 // Access-Control-Allow-Origin and -Methods
	if g.AllowCredentials {
		n++
	}
	if g.ExposeHeaders != "" {
		n++
	}
	if g.MaxAge != "" {
		n++
	}
	return n
}

// setGrantHeaders sets the headers a grant gives an actual request, taking
// their slots from values.
func setGrantHeaders(h http.Header, g *policy.Grant, values *answerValues) {
	values.set(h, "Access-Control-Allow-Origin", g.AllowOrigin)
	if g.AllowCredentials {
		values.set(h, "Access-Control-Allow-Credentials", "true")
	}
	values.set(h, "Access-Control-Allow-Methods", g.AllowMethods)
	if g.ExposeHeaders != "" {
		values.set(h, "Access-Control-Expose-Headers", g.ExposeHeaders)
	}
	if g.MaxAge != "" {
		values.set(h, "Access-Control-Max-Age", g.MaxAge)
	}
}

const corsHeaderPrefix = "Access-Control-"

// deleteCORSHeaders removes every Access-Control-* header, whatever its case.
func deleteCORSHeaders(h http.Header) {
	for key := range h {
		if len(key) >= len(corsHeaderPrefix) && strings.EqualFold(key[:len(corsHeaderPrefix)], corsHeaderPrefix) {
			delete(h, key)
		}
	}
}

// The Vary of an answer: S3 sends the three names with a grant; with
// anything else S3 sends none, but a shared cache must never serve one
// origin's answer to another, so it gets Origin.
var (
	grantVary   = []string{"Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method"}
	refusalVary = grantVary[:1]
)

// grantVaryLine is grantVary as one header line, as S3 writes it;
// restOfGrantVaryLine is what a grant adds to an origin's Vary: Origin.
const (
	grantVaryLine       = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
	restOfGrantVaryLine = "Access-Control-Request-Headers, Access-Control-Request-Method"
)

// varySlots is the number of slots setVary takes to add line to the
// origin's Vary lines: none when there is nothing to add or when it
// appends to several lines (rare), else the new line and the origin's one.
func varySlots(line string, lines []string) int {
	if line == "" || len(lines) > 1 {
		return 0
	}
	return len(lines) + 1
}

// setVary adds line (the names h's Vary lacks, from varyLine) to the
// origin's Vary lines, never duplicating or replacing one; slots, of
// varySlots, back the value in the common cases, an absent Vary or one
// line of the origin's.
func setVary(h http.Header, lines []string, line string, slots []string) {
	switch {
	case line == "":
	case len(lines) == 0:
		slots[0] = line
		h["Vary"] = slots[:1:1]
	case len(lines) == 1:
		slots[0], slots[1] = lines[0], line
		h["Vary"] = slots[:2:2]
	default:
		h["Vary"] = append(lines, line)
	}
}

// varyLine returns the line of the names that lines lack, "" when none. The
// usual lines are constants; another mix (rare) is built.
func varyLine(names, lines []string) string {
	var lacking [3]string
	n := 0
	for _, name := range names {
		if !varyCovers(lines, name) {
			lacking[n] = name
			n++
		}
	}
	switch {
	case n == 0:
		return ""
	case n == len(grantVary):
		return grantVaryLine
	case n == 2 && lacking[0] == grantVary[1] && lacking[1] == grantVary[2]:
		return restOfGrantVaryLine
	case n == 1:
		return lacking[0]
	}
	return strings.Join(lacking[:n], ", ")
}

// varyCovers reports whether the Vary lines already name name, or "*".
func varyCovers(lines []string, name string) bool {
	for _, line := range lines {
		for line != "" {
			var item string
			item, line, _ = strings.Cut(line, ",")
			item = strings.TrimSpace(item)
			if item == "*" || strings.EqualFold(item, name) {
				return true
			}
		}
	}
	return false
}

// Interface guards
var (
	_ http.ResponseWriter = (*corsWriter)(nil)
	_ io.ReaderFrom       = (*corsWriter)(nil)
)
