package integration

// An HTTP proxy in front of MinIO's S3 API that delays or hangs every
// request and counts them per object, for the tests of refreshahead_test.go.
// Every name starts with fault so that it cannot clash with the other files
// of the package.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// faultMode is what a faultProxy does with each request.
type faultMode int

const (
	// faultPass forwards the request at once.
	faultPass faultMode = iota
	// faultDelay waits for the delay, then forwards the request.
	faultDelay
	// faultHang never answers: the request waits until its client leaves.
	faultHang
)

// faultProxy is an HTTP reverse proxy on 127.0.0.1 in front of an S3
// endpoint (MinIO), in the test process. It forwards each request with its
// Host header unchanged, so that the SigV4 signature made for the proxy's
// address still verifies; it counts requests per object ("<bucket>/<key>")
// and the most it held at once.
type faultProxy struct {
	// URL is the proxy's base URL, http://127.0.0.1:<port>: the endpoint
	// to give Caddy.
	URL  string
	done chan struct{}

	mu          sync.Mutex
	mode        faultMode
	delay       time.Duration
	counts      map[string]int
	inFlight    int
	maxInFlight int
}

// faultStartProxy starts a proxy to target (http://host:port) that passes
// every request until told otherwise. It stops when the test ends, letting
// go of the requests it holds.
func faultStartProxy(t testing.TB, target string) *faultProxy {
	t.Helper()
	rp := testrig.StoreProxy(t, target)
	p := &faultProxy{done: make(chan struct{}), counts: map[string]int{}}
	// A request stops counting as held once the store's answer has come
	// back, before the proxy hands it on: the client's load is then still
	// in flight, so the count never runs ahead of the client's own.
	rp.ModifyResponse = func(resp *http.Response) error {
		faultRelease(resp.Request.Context())
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var once sync.Once
		r = r.WithContext(context.WithValue(r.Context(), faultReleaseKey{}, func() {
			once.Do(func() {
				p.mu.Lock()
				p.inFlight--
				p.mu.Unlock()
			})
		}))
		if p.hold(r) {
			rp.ServeHTTP(w, r)
		}
		faultRelease(r.Context())
	}))
	p.URL = srv.URL
	t.Cleanup(func() {
		close(p.done) // first, since Close waits for the requests held
		srv.Close()
	})
	return p
}

// faultReleaseKey keys the function that ends a request's count as held.
type faultReleaseKey struct{}

// faultRelease ends the count as held of the request of ctx, once.
func faultRelease(ctx context.Context) {
	if release, ok := ctx.Value(faultReleaseKey{}).(func()); ok {
		release()
	}
}

// hold counts r and holds it as the mode says; it reports whether r is to
// be forwarded.
func (p *faultProxy) hold(r *http.Request) bool {
	p.mu.Lock()
	p.counts[strings.TrimPrefix(r.URL.Path, "/")]++
	p.inFlight++
	p.maxInFlight = max(p.maxInFlight, p.inFlight)
	mode, delay := p.mode, p.delay
	p.mu.Unlock()
	switch mode {
	case faultDelay:
		select {
		case <-time.After(delay):
			return true
		case <-r.Context().Done():
		case <-p.done:
		}
		return false
	case faultHang:
		select {
		case <-r.Context().Done():
		case <-p.done:
		}
		return false
	}
	return true
}

// set changes the mode for the requests that arrive from now on; delay is
// used by faultDelay.
func (p *faultProxy) set(mode faultMode, delay time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode, p.delay = mode, delay
}

// requests returns the requests seen so far per object, "<bucket>/<key>".
func (p *faultProxy) requests() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.counts))
	for k, n := range p.counts {
		out[k] = n
	}
	return out
}

// total returns the number of requests seen so far.
func (p *faultProxy) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.counts {
		n += c
	}
	return n
}

// resetPeak forgets the most requests held at once, and returns it.
func (p *faultProxy) resetPeak() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	peak := p.maxInFlight
	p.maxInFlight = p.inFlight
	return peak
}
