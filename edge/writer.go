package edge

import (
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/bucketcors/bucketcors/policy"
)

// Writer rewrites the Access-Control-* headers of a response once, just
// before they are sent: on the first final WriteHeader, or on the first
// Write, ReadFrom or Flush that comes without one. It removes the origin's
// CORS headers, sets the grant's, and adds what the answer's Vary lacks. It
// never buffers the body.
type Writer struct {
	http.ResponseWriter
	grant   policy.Grant
	applied bool
	// debug is the verdict for the debug header, "" when it is off.
	debug string
}

// writerPool recycles Writers: BenchmarkAgainstRSCors/get-allowed measured
// the writer allocated per request, and the collection it causes, at a
// quarter of a proxied request's cost. A writer goes back once its request
// is answered (Finish), when nothing holds it; the header values it sets are
// allocated apart, since the answer's header map outlives it (in the access
// log).
var writerPool = sync.Pool{New: func() any { return new(Writer) }}

// NewWriter returns a writer that rewrites the CORS headers of what is
// written to w by grant (no grant: none, and Vary: Origin), with debug (""
// for none) in the debug header. Call Finish once the request is answered.
func NewWriter(w http.ResponseWriter, grant *policy.Grant, debug string) *Writer {
	cw := writerPool.Get().(*Writer)
	cw.ResponseWriter, cw.grant, cw.debug, cw.applied = w, *grant, debug, false
	return cw
}

// Finish rewrites the headers if nothing was written (the server sends the
// header map as it stands, or writes an error status on it: either way it
// must carry the policy's headers), then recycles the writer, which must
// not be used again.
func (cw *Writer) Finish() {
	cw.apply()
	// Drop the reference to the request's writer. The grant's strings (the
	// policy's, and the Origin) stay until the writer's next use: zeroing
	// the whole writer, and filling it anew, were 7% of a profile of
	// BenchmarkAgainstRSCors/get-allowed (write barriers while collecting).
	cw.ResponseWriter, cw.debug = nil, ""
	writerPool.Put(cw)
}

// apply removes the origin's CORS headers and sets the policy's, once.
func (cw *Writer) apply() {
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
		SetDebug(h, cw.debug)
	}
}

// WriteHeader applies the CORS headers on the final status. Informational
// answers (103 Early Hints) only lose the origin's CORS headers.
func (cw *Writer) WriteHeader(status int) {
	if status >= 100 && status < 200 {
		deleteCORSHeaders(cw.ResponseWriter.Header())
	} else {
		cw.apply()
	}
	cw.ResponseWriter.WriteHeader(status)
}

// Write applies the CORS headers when no WriteHeader came first.
func (cw *Writer) Write(p []byte) (int, error) {
	cw.apply()
	return cw.ResponseWriter.Write(p)
}

// ReadFrom applies the CORS headers and hands the copy to the underlying
// writer, which keeps its own fast paths (sendfile, splice).
func (cw *Writer) ReadFrom(r io.Reader) (int64, error) {
	cw.apply()
	if rf, ok := cw.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(cw.ResponseWriter, r)
}

// FlushError applies the CORS headers before a flush sends them; it is what
// http.ResponseController calls.
func (cw *Writer) FlushError() error {
	cw.apply()
	return http.NewResponseController(cw.ResponseWriter).Flush()
}

// Push passes an HTTP/2 server push on, when the underlying writer can.
func (cw *Writer) Push(target string, opts *http.PushOptions) error {
	if p, ok := cw.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (cw *Writer) Unwrap() http.ResponseWriter { return cw.ResponseWriter }

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

// Interface guards
var (
	_ http.ResponseWriter = (*Writer)(nil)
	_ io.ReaderFrom       = (*Writer)(nil)
	_ http.Pusher         = (*Writer)(nil)
)
