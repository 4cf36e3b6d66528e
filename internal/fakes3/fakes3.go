// Package fakes3 is an in-memory S3 bucket for unit tests of the policy
// store and its index: GetObject (with If-None-Match), PutObject,
// DeleteObject, DeleteObjects and ListObjectsV2 (prefix, delimiter, start-after,
// continuation, pages of PageSize keys), counting requests. Integration
// tests use a real MinIO.
package fakes3

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is one fake bucket, served over HTTP on loopback.
type Server struct {
	// URL is the endpoint, for source.Endpoint.
	URL      string
	bucket   string
	mu       sync.Mutex
	objects  map[string]fakeObject
	requests []string // "GET <key>", "LIST <prefix> <start-after>", ...
	down     bool     // every request answers 503
	// onList, when set, is called before a listing page is answered,
	// outside the lock, with the page's number (from 1).
	onList func(page int)
	pages  int
}

// PageSize is how many keys a listing page holds: small, so that tests see
// several pages.
const PageSize = 2

type fakeObject struct {
	body     []byte
	etag     string
	modified time.Time
}

// New starts a fake of the bucket, closed when the test ends.
func New(t testing.TB, bucket string) *Server {
	t.Helper()
	f := &Server{bucket: bucket, objects: make(map[string]fakeObject)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Put stores an object as a write straight into the store would, and
// returns its ETag.
func (f *Server) Put(key, body string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	sum := md5.Sum([]byte(body))
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	f.objects[key] = fakeObject{body: []byte(body), etag: etag, modified: time.Now()}
	return etag
}

// Take returns the requests seen since the last Take: "GET <key>",
// "PUT <key>", "DELETE <key>", "LIST <prefix> <start-after>", "DOWN".
func (f *Server) Take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

// Keys returns the keys stored, sorted.
func (f *Server) Keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// SetDown makes every request fail with 503 (true) or be answered (false).
func (f *Server) SetDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// OnList has hook called before each listing page is answered, with the
// page's number counted from the call.
func (f *Server) OnList(hook func(page int)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pages, f.onList = 0, hook
}

// ServeHTTP answers one S3 request.
func (f *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("list-type") == "2" {
		f.mu.Lock()
		f.pages++
		page, hook := f.pages, f.onList
		f.mu.Unlock()
		if hook != nil {
			hook(page)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := strings.TrimPrefix(r.URL.Path, "/"+f.bucket+"/")
	q := r.URL.Query()
	if f.down {
		f.requests = append(f.requests, "DOWN")
		http.Error(w, "<Error><Code>ServiceUnavailable</Code></Error>", http.StatusServiceUnavailable)
		return
	}
	switch {
	case r.Method == http.MethodGet && q.Get("list-type") == "2":
		f.requests = append(f.requests, "LIST "+q.Get("prefix")+" "+q.Get("start-after"))
		f.list(w, q.Get("prefix"), q.Get("delimiter"), q.Get("start-after"), q.Get("continuation-token"))
	case r.Method == http.MethodGet:
		f.requests = append(f.requests, "GET "+key)
		obj, ok := f.objects[key]
		switch {
		case !ok:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>")
		case r.Header.Get("If-None-Match") == obj.etag:
			w.Header().Set("ETag", obj.etag)
			w.WriteHeader(http.StatusNotModified)
		default:
			w.Header().Set("ETag", obj.etag)
			w.Header().Set("Last-Modified", obj.modified.UTC().Format(http.TimeFormat))
			w.Write(obj.body)
		}
	case r.Method == http.MethodPut:
		f.requests = append(f.requests, "PUT "+key)
		body, _ := io.ReadAll(r.Body)
		sum := md5.Sum(body)
		etag := `"` + hex.EncodeToString(sum[:]) + `"`
		f.objects[key] = fakeObject{body: body, etag: etag, modified: time.Now()}
		w.Header().Set("ETag", etag)
	case r.Method == http.MethodPost && q.Has("delete"):
		var del struct {
			Objects []struct {
				Key string `xml:"Key"`
			} `xml:"Object"`
		}
		if err := xml.NewDecoder(r.Body).Decode(&del); err != nil {
			http.Error(w, "<Error><Code>MalformedXML</Code></Error>", http.StatusBadRequest)
			return
		}
		for _, o := range del.Objects {
			f.requests = append(f.requests, "DELETE "+o.Key)
			delete(f.objects, o.Key)
		}
		io.WriteString(w, "<DeleteResult></DeleteResult>")
	case r.Method == http.MethodDelete:
		f.requests = append(f.requests, "DELETE "+key)
		delete(f.objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "not faked", http.StatusNotImplemented)
	}
}

func (f *Server) list(w http.ResponseWriter, prefix, delimiter, startAfter, token string) {
	if token != "" {
		startAfter = token
	}
	var keys []string
	prefixes := map[string]bool{}
	for k := range f.objects {
		if !strings.HasPrefix(k, prefix) || k <= startAfter {
			continue
		}
		if delimiter != "" {
			if i := strings.Index(k[len(prefix):], delimiter); i >= 0 {
				prefixes[k[:len(prefix)+i+1]] = true
				continue
			}
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	truncated := len(keys) > PageSize
	if truncated {
		keys = keys[:PageSize]
	}
	fmt.Fprintf(w, `<ListBucketResult><Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount><IsTruncated>%v</IsTruncated>`, f.bucket, prefix, len(keys), truncated)
	if truncated {
		fmt.Fprintf(w, "<NextContinuationToken>%s</NextContinuationToken>", keys[len(keys)-1])
	}
	for _, k := range keys {
		obj := f.objects[k]
		fmt.Fprintf(w, "<Contents><Key>%s</Key><ETag>%s</ETag><Size>%d</Size><LastModified>%s</LastModified></Contents>",
			xmlText(k), xmlText(obj.etag), len(obj.body), obj.modified.UTC().Format(time.RFC3339Nano))
	}
	for p := range prefixes {
		fmt.Fprintf(w, "<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>", xmlText(p))
	}
	io.WriteString(w, "</ListBucketResult>")
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
