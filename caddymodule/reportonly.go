package caddymodule

import (
	"hash/maphash"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/policy"
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
			setDebug(w.Header(), verdictSeveralOrigins)
		}
		return next.ServeHTTP(w, r)
	}

	bucket := h.bucketOf(r)
	pol, err := h.policyFor(r.Context(), bucket)
	d := decisionRefused // what enforcing does when the policy cannot be read
	if err == nil {
		d = decisionOf(pol, pol != nil && allows(pol, r))
	}
	h.count(d)
	logIt := d == decisionRefused && h.refusals.due(bucket, strings.Join(r.Header["Origin"], ", "))
	if logIt || h.Debug {
		v := verdictUnavailable
		if err == nil {
			v = verdict(pol, r)
		}
		if logIt {
			h.logWouldRefuse(r, bucket, v, err)
		}
		if h.Debug {
			setDebug(w.Header(), v)
		}
	}
	return next.ServeHTTP(w, r)
}

// allows reports whether pol allows r, as enforcing judges it.
func allows(pol *policy.Policy, r *http.Request) bool {
	origin, _ := requestOrigin(r.Header["Origin"])
	if r.Method == http.MethodOptions {
		return pol.Preflight(origin, r.Header.Get("Access-Control-Request-Method"), r.Header["Access-Control-Request-Headers"]).Allowed
	}
	return actualGrant(pol, r, origin).Allowed
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
		zap.String("origin", shorten(strings.Join(r.Header["Origin"], ", "), maxLoggedOrigin)),
		zap.String("method", shorten(method, maxLoggedOrigin)),
		zap.Bool("preflight", r.Method == http.MethodOptions),
		zap.String("verdict", shorten(verdict, maxLoggedVerdict)),
	}
	if err != nil {
		fields = append(fields, zap.Error(err))
	}
	h.logger.Info("report_only: enforcing would refuse this CORS request", fields...)
}

// The bounds of the refusal log: one line per bucket and origin per
// refusalLogEvery, remembered for the refusalLogSize pairs seen last.
const (
	refusalLogEvery = time.Minute
	refusalLogSize  = 4096
)

// refusalLog rate-limits the log lines of report_only: it remembers when
// it last logged each (bucket, origin), by a hash of the pair, so that its
// memory is bounded whatever the requests carry.
type refusalLog struct {
	now  func() time.Time
	seed maphash.Seed
	mu   sync.Mutex
	last *simplelru.LRU[uint64, time.Time]
}

func newRefusalLog(now func() time.Time) *refusalLog {
	// NewLRU fails only on a size below 1.
	last, _ := simplelru.NewLRU[uint64, time.Time](refusalLogSize, nil)
	return &refusalLog{now: now, seed: maphash.MakeSeed(), last: last}
}

// due reports whether a refusal of origin on bucket is to be logged now,
// and if so, remembers that it was.
func (l *refusalLog) due(bucket, origin string) bool {
	var hash maphash.Hash
	hash.SetSeed(l.seed)
	hash.WriteString(bucket)
	hash.WriteByte(0)
	hash.WriteString(origin)
	key := hash.Sum64()
	now := l.now()

	l.mu.Lock()
	defer l.mu.Unlock()
	if at, ok := l.last.Get(key); ok && now.Sub(at) < refusalLogEvery {
		return false
	}
	l.last.Add(key, now)
	return true
}
