package caddymodule

import (
	"errors"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/edge"
	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/s3api"
)

// The answers rendered once at start-up.
var (
	errOriginNeeded      = s3api.ErrOriginNeeded.Render()
	errPolicyUnavailable = s3api.ErrPolicyUnavailable.Render()
	errSlowDown          = s3api.ErrSlowDown.Render()
)

// ServeHTTP answers OPTIONS requests (and, with cors_api, the bucket CORS
// API) itself, and passes every other request to next, rewriting the CORS
// headers of whatever comes back. In report_only mode it only judges.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if h.reportOnly {
		return h.serveReportOnly(w, r, next)
	}
	origins := r.Header["Origin"]
	if r.Method == http.MethodOptions {
		if len(origins) == 0 {
			// S3's answer, whatever the bucket and its policy.
			return errOriginNeeded.Write(w, "")
		}
		bucket := h.bucketOf(r)
		pol, err := h.policies.For(r.Context(), bucket)
		if err != nil {
			return h.servePolicyUnavailable(w, r, bucket, err, next)
		}
		origin, _ := requestOrigin(origins)
		return h.servePreflight(w, r, bucket, origin, pol)
	}
	if h.isCORSAPICall(r) {
		return h.serveCORSAPI(w, r, h.bucketOf(r))
	}
	if len(origins) != 1 {
		// No Origin (or several), no grant: the answer needs no policy, so
		// it never waits for one.
		debug := ""
		if h.Debug && len(origins) > 1 {
			debug = edge.VerdictSeveralOrigins
		}
		return h.serveActual(w, r, policy.Grant{}, debug, next)
	}
	bucket := h.bucketOf(r)
	pol, err := h.policies.For(r.Context(), bucket)
	if err != nil {
		return h.servePolicyUnavailable(w, r, bucket, err, next)
	}
	grant := edge.ActualGrant(pol, r, origins[0])
	h.count(decisionOf(pol, grant.Allowed))
	debug := ""
	if h.Debug {
		debug = edge.Verdict(pol, r)
	}
	return h.serveActual(w, r, grant, debug, next)
}

// serveActual lets next answer and rewrites the CORS headers of its answer,
// also when next fails and the server writes the error status. A debug
// verdict other than "" goes in the debug header.
func (h *Handler) serveActual(w http.ResponseWriter, r *http.Request, grant policy.Grant, debug string, next caddyhttp.Handler) error {
	cw := edge.NewWriter(w, &grant, debug)
	err := next.ServeHTTP(cw, r)
	cw.Finish()
	return err
}

// servePolicyUnavailable answers when the bucket's policy could not be read
// and no earlier copy is left to serve: a preflight gets S3's 503, any other
// request goes on without CORS headers.
func (h *Handler) servePolicyUnavailable(w http.ResponseWriter, r *http.Request, bucket string, err error, next caddyhttp.Handler) error {
	h.logger.Debug("bucket policy unavailable", zap.String("bucket", bucket), zap.Error(err))
	h.count(decisionRefused)
	debug := ""
	if h.Debug {
		debug = edge.VerdictUnavailable
	}
	if r.Method == http.MethodOptions {
		if debug != "" {
			edge.SetDebug(w.Header(), debug)
		}
		if errors.Is(err, cache.ErrTooManyLoads) {
			return errSlowDown.Write(w, "")
		}
		return errPolicyUnavailable.Write(w, "")
	}
	return h.serveActual(w, r, policy.Grant{}, debug, next)
}

// requestOrigin returns the Origin of a request whose Origin lines are
// values, when it has exactly one.
func requestOrigin(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	return values[0], true
}

// logRefusal writes the debug line of a refused preflight.
func (h *Handler) logRefusal(bucket, origin, method string, res *policy.PreflightResult) {
	ce := h.logger.Check(zapcore.DebugLevel, "preflight refused")
	if ce == nil {
		return
	}
	fields := []zap.Field{
		zap.String("bucket", bucket),
		zap.String("origin", origin),
		zap.String("method", method),
		zap.Stringer("reason", res.Denied),
	}
	if res.DeniedHeader != "" {
		fields = append(fields, zap.String("header", res.DeniedHeader))
	}
	ce.Write(fields...)
}
