package testrig

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// The kinds of S3 request a StoreCounter tells apart.
const (
	KindList   = "list"   // GET of a bucket: ListObjects(V2)
	KindGet    = "get"    // GET or HEAD of an object
	KindPut    = "put"    // PUT of an object
	KindDelete = "delete" // DELETE of an object, or POST ?delete (DeleteObjects)
	KindOther  = "other"  // anything else (bucket sub-resources, multipart, ...)
)

// StoreRequest is one request a StoreCounter passed on.
type StoreRequest struct {
	At     time.Time
	Kind   string // KindList, KindGet, ...
	Method string
	Bucket string
	Key    string // "" for a request on the bucket itself
}

// StoreCounter is an HTTP reverse proxy on 127.0.0.1 in front of an S3
// endpoint (MinIO, path-style requests), in the test process, that records
// every request it passes on, so that a test can count what a client (a
// Caddy's policy_store) asks of the store, by kind and by object. It
// forwards each request with its Host header unchanged, so that a SigV4
// signature made for the counter's address still verifies. While the
// target is down it answers 502, as a load balancer in front of a store
// would.
type StoreCounter struct {
	// URL is the counter's base URL, http://127.0.0.1:<port>: the endpoint
	// to give the client.
	URL string

	mu  sync.Mutex
	log []StoreRequest
}

// StartStoreCounter starts a counter in front of target (http://host:port).
// It stops when the test ends.
func StartStoreCounter(t testing.TB, target string) *StoreCounter {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		t.Fatalf("testrig: store counter: target %q is not a base URL", target)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // loopback only, whatever the environment says
	tr.MaxIdleConnsPerHost = 100
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host // the signed Host
		},
		Transport: tr,
		// A stopped target is part of the tests (an outage): answer 502
		// without logging each refused dial.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	c := &StoreCounter{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.record(r)
		rp.ServeHTTP(w, r)
	}))
	c.URL = srv.URL
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	return c
}

func (c *StoreCounter) record(r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	req := StoreRequest{At: time.Now(), Kind: StoreKind(r.Method, key, r.URL.Query()), Method: r.Method, Bucket: bucket, Key: key}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, req)
}

// StoreKind classifies a path-style S3 request by its method, object key
// ("" for the bucket itself) and query. Clients add parameters of their
// own (aws-sdk-go-v2's x-id=GetObject); only S3's sub-resources make a
// request on an object other.
func StoreKind(method, key string, query url.Values) string {
	if key == "" {
		switch {
		case method == http.MethodGet && (len(query) == 0 || query.Has("list-type") ||
			query.Has("prefix") || query.Has("delimiter") || query.Has("marker")):
			return KindList
		case method == http.MethodPost && query.Has("delete"):
			return KindDelete
		}
		return KindOther
	}
	for _, sub := range objectSubresources {
		if query.Has(sub) {
			return KindOther
		}
	}
	switch method {
	case http.MethodGet, http.MethodHead:
		return KindGet
	case http.MethodPut:
		return KindPut
	case http.MethodDelete:
		return KindDelete
	}
	return KindOther
}

// objectSubresources are S3's sub-resources of an object: a request that
// names one does not read, write or delete the object itself.
var objectSubresources = []string{"acl", "attributes", "legal-hold", "retention", "tagging", "torrent", "uploadId", "uploads", "restore", "select"}

// Mark returns a position in the record, for Since.
func (c *StoreCounter) Mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.log)
}

// Since returns the requests recorded after mark (from Mark), in the order
// they arrived.
func (c *StoreCounter) Since(mark int) []StoreRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]StoreRequest(nil), c.log[min(mark, len(c.log)):]...)
}

// CountKinds counts requests by kind.
func CountKinds(reqs []StoreRequest) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		out[r.Kind]++
	}
	return out
}
