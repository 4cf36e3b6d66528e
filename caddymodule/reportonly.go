package caddymodule

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/edge"
)

// serveReportOnly judges a request as ServeHTTP does when it enforces,
// counts the decision and logs a refusal, then lets next answer the request
// untouched: a preflight reaches the origin, and the origin's CORS headers
// are left as they are. Only the debug header, when on, is added.
func (h *Handler) serveReportOnly(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	preflight := r.Method == http.MethodOptions
	if !preflight && h.isCORSAPICall(r) {
		return h.serveCORSAPI(w, r, h.bucketOf(r))
	}
	origins := len(r.Header["Origin"])
	if origins == 0 || origins > 1 && !preflight {
		// Not judged when enforcing either: without an Origin it is no
		// CORS request; with several, no grant is given whatever the policy.
		if h.Debug && origins > 1 {
			edge.SetDebug(w.Header(), edge.VerdictSeveralOrigins)
		}
		return next.ServeHTTP(w, r)
	}

	bucket := h.bucketOf(r)
	pol, err := h.policies.For(r.Context(), bucket)
	d := decisionRefused // what enforcing does when the policy cannot be read
	if err == nil {
		d = decisionOf(pol, pol != nil && edge.Allows(pol, r))
	}
	h.count(d)
	logIt := d == decisionRefused && h.refusals.Due(bucket, strings.Join(r.Header["Origin"], ", "))
	if logIt || h.Debug {
		v := edge.VerdictUnavailable
		if err == nil {
			v = edge.Verdict(pol, r)
		}
		if logIt {
			h.logWouldRefuse(r, bucket, v, err)
		}
		if h.Debug {
			edge.SetDebug(w.Header(), v)
		}
	}
	return next.ServeHTTP(w, r)
}

// The most bytes of the request's values, and of the verdict, in a log line.
const (
	maxLoggedOrigin  = 256
	maxLoggedVerdict = 8 << 10
)

// logWouldRefuse writes the INFO line of a request that enforcing would
// refuse.
func (h *Handler) logWouldRefuse(r *http.Request, bucket, verdict string, err error) {
	method := r.Method
	if r.Method == http.MethodOptions {
		method = r.Header.Get("Access-Control-Request-Method")
	}
	fields := []zap.Field{
		zap.String("bucket", bucket),
		zap.String("origin", edge.Shorten(strings.Join(r.Header["Origin"], ", "), maxLoggedOrigin)),
		zap.String("method", edge.Shorten(method, maxLoggedOrigin)),
		zap.Bool("preflight", r.Method == http.MethodOptions),
		zap.String("verdict", edge.Shorten(verdict, maxLoggedVerdict)),
	}
	if err != nil {
		fields = append(fields, zap.Error(err))
	}
	h.logger.Info("report_only: enforcing would refuse this CORS request", fields...)
}
