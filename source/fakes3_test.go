package source

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

// fakeS3 is an in-memory S3 bucket for the index's tests: GetObject (with
// If-None-Match), PutObject, DeleteObject and ListObjectsV2 (prefix,
// delimiter "/", start-after, max-keys, continuation), counting requests.
type fakeS3 struct {
	mu       sync.Mutex
	objects  map[string]fakeObject
	requests []string // "GET <key>", "LIST <prefix> <start-after>", ...
	down     bool     // every request answers 503
	// onList, when set, is called before a listing page is answered,
	// outside the lock, with the page's number (from 1).
	onList func(page int)
	pages  int
}

type fakeObject struct {
	body     []byte
	etag     string
	modified time.Time
}

func newFakeS3(t *testing.T) (*fakeS3, *Store) {
	t.Helper()
	f := &fakeS3{objects: make(map[string]fakeObject)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client, err := NewS3Client(Endpoint{URL: srv.URL, AccessKey: "k", SecretKey: "s"}, "policy_store")
	if err != nil {
		t.Fatal(err)
	}
	return f, &Store{Client: client, Bucket: "policies", Prefix: "cors/"}
}

// put stores an object as a write straight into the store would.
func (f *fakeS3) put(key, body string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	sum := md5.Sum([]byte(body))
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	f.objects[key] = fakeObject{body: []byte(body), etag: etag, modified: time.Now()}
	return etag
}

// take returns the requests seen since the last take.
func (f *fakeS3) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

func (f *fakeS3) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	key := strings.TrimPrefix(r.URL.Path, "/policies/")
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
	case r.Method == http.MethodDelete:
		f.requests = append(f.requests, "DELETE "+key)
		delete(f.objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "not faked", http.StatusNotImplemented)
	}
}

// fakePage is how many keys a fake listing page holds, small so that the
// tests see several pages.
const fakePage = 2

func (f *fakeS3) list(w http.ResponseWriter, prefix, delimiter, startAfter, token string) {
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
	truncated := len(keys) > fakePage
	if truncated {
		keys = keys[:fakePage]
	}
	fmt.Fprintf(w, `<ListBucketResult><Name>policies</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount><IsTruncated>%v</IsTruncated>`, prefix, len(keys), truncated)
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
