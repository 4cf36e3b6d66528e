package testrig

import (
	"io"
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
	// Query is the request's query: a listing's prefix, start-after and
	// continuation-token, for example.
	Query url.Values
}

// StoreCounter is an HTTP reverse proxy on 127.0.0.1 in front of an S3
// endpoint (MinIO, path-style requests), in the test process, that records
// every request it passes on, so that a test can count what a client (a
// Caddy's policy_store) asks of the store, by kind and by object. It
// forwards each request with its Host header unchanged, so that a SigV4
// signature made for the counter's address still verifies. While the
// target is down it answers 502, as a load balancer in front of a store
// would. SetDown makes it answer as a store that is down; OnList and
// OnListAnswered run a test's code in the middle of a listing.
type StoreCounter struct {
	// URL is the counter's base URL, http://127.0.0.1:<port>: the endpoint
	// to give the client.
	URL string

	mu     sync.Mutex
	log    []StoreRequest
	taken  int  // the log's length at the last Take
	down   bool // SetDown
	onList func(n int)
	lists  int // listings since OnList
	// onListAnswered and answered are OnListAnswered's hook and count.
	onListAnswered func(n int)
	answered       int
}

// StoreProxy returns a reverse proxy to target (http://host:port), an S3
// endpoint, that forwards each request with its Host header unchanged, so
// that a SigV4 signature made for the proxy's address still verifies. It
// dials loopback only, whatever the environment's proxy settings, and
// closes its idle connections when the test ends.
func StoreProxy(t testing.TB, target string) *httputil.ReverseProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		t.Fatalf("testrig: store proxy: target %q is not a base URL", target)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConnsPerHost = 100
	t.Cleanup(tr.CloseIdleConnections) // after the server that uses it closes
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host // the signed Host
		},
		Transport: tr,
	}
}

// StartStoreCounter starts a counter in front of target (http://host:port).
// It stops when the test ends.
func StartStoreCounter(t testing.TB, target string) *StoreCounter {
	t.Helper()
	rp := StoreProxy(t, target)
	// A stopped target is part of the tests (an outage): answer 502
	// without logging each refused dial.
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) {
		w.WriteHeader(http.StatusBadGateway)
	}
	c := &StoreCounter{}
	rp.ModifyResponse = func(resp *http.Response) error {
		_, key, _ := strings.Cut(strings.TrimPrefix(resp.Request.URL.Path, "/"), "/")
		if StoreKind(resp.Request.Method, key, resp.Request.URL.Query()) == KindList {
			c.listAnswered()
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := c.record(r)
		if c.isDown() {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, storeDownAnswer)
			return
		}
		if req.Kind == KindList {
			c.beforeList()
		}
		rp.ServeHTTP(w, r)
	}))
	c.URL = srv.URL
	t.Cleanup(srv.Close)
	return c
}

// storeDownAnswer is S3's error body for a 503, which clients read as a
// store that is down (and retry).
const storeDownAnswer = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>ServiceUnavailable</Code><Message>The store is down (testrig.StoreCounter.SetDown).</Message></Error>`

func (c *StoreCounter) record(r *http.Request) StoreRequest {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	query := r.URL.Query()
	req := StoreRequest{At: time.Now(), Kind: StoreKind(r.Method, key, query), Method: r.Method, Bucket: bucket, Key: key, Query: query}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, req)
	return req
}

func (c *StoreCounter) isDown() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.down
}

// beforeList calls the OnList hook; listAnswered, the OnListAnswered one.
func (c *StoreCounter) beforeList()   { c.callHook(&c.onList, &c.lists) }
func (c *StoreCounter) listAnswered() { c.callHook(&c.onListAnswered, &c.answered) }

// callHook counts one more listing in *count and calls *hook, if any, with
// the count, outside the lock, so that the hook may make requests through
// the counter.
func (c *StoreCounter) callHook(hook *func(n int), count *int) {
	c.mu.Lock()
	h := *hook
	*count++
	n := *count
	c.mu.Unlock()
	if h != nil {
		h(n)
	}
}

// SetDown has the counter answer every request itself with 503
// ServiceUnavailable, as a store that is down does, passing none on
// (true), or pass them on again (false). Requests answered so are recorded
// as the others are. It is quicker than stopping MinIO, and leaves MinIO's
// state as it was.
func (c *StoreCounter) SetDown(down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = down
}

// OnList has hook called before each listing (KindList) request is passed
// on, with the request's number counted from this call (1 for the first);
// nil removes it. The hook runs while the client waits for its page, so a
// test can change the store in the middle of a listing; it may make
// requests through the counter.
func (c *StoreCounter) OnList(hook func(n int)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onList, c.lists = hook, 0
}

// OnListAnswered has hook called once the store has answered a listing
// (KindList) request, before the answer is passed on, with the listing's
// number counted from this call (1 for the first); nil removes it. The hook
// runs while the client waits for a page the store has already made, so a
// test can change the store between the page and the client's use of it;
// it may make requests through the counter.
func (c *StoreCounter) OnListAnswered(hook func(n int)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onListAnswered, c.answered = hook, 0
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

// Take returns the requests recorded since the last Take (or since the
// counter started), in the order they arrived.
func (c *StoreCounter) Take() []StoreRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]StoreRequest(nil), c.log[c.taken:]...)
	c.taken = len(c.log)
	return out
}

// CountKinds counts requests by kind.
func CountKinds(reqs []StoreRequest) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		out[r.Kind]++
	}
	return out
}
