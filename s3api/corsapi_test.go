package s3api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketcors/bucketcors/policy"
)

// testCORSXML is a PutBucketCors body as the AWS CLI sends it.
const testCORSXML = `<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <ID>web</ID>
    <AllowedOrigin>https://app.example.com</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <ExposeHeader>x-amz-checksum-crc32</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>
`

// memStore is a Store in memory. It keeps each policy as the S3 XML a real
// store writes, so that what a PUT stored can be read back as bytes.
type memStore struct {
	mu   sync.Mutex
	docs map[string][]byte
	// err, when set, is the answer to every call: the store is down.
	err error
}

func newMemStore() *memStore { return &memStore{docs: make(map[string][]byte)} }

func (s *memStore) GetPolicy(_ context.Context, bucket string) (*policy.Policy, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, false, s.err
	}
	data, ok := s.docs[bucket]
	if !ok {
		return nil, false, nil
	}
	pol, err := policy.Parse("stored "+bucket, data)
	return pol, true, err
}

func (s *memStore) PutPolicy(_ context.Context, bucket string, pol *policy.Policy) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	data, err := pol.Document().MarshalS3XML()
	if err != nil {
		return err
	}
	s.docs[bucket] = data
	return nil
}

func (s *memStore) DeletePolicy(_ context.Context, bucket string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	delete(s.docs, bucket)
	return nil
}

func (s *memStore) stored(bucket string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.docs[bucket]
	return data, ok
}

// change is one call of CORSAPI.Changed.
type change struct {
	bucket string
	pol    *policy.Policy
}

// changeLog records the calls of CORSAPI.Changed.
type changeLog struct {
	mu      sync.Mutex
	changes []change
}

func (l *changeLog) changed(bucket string, pol *policy.Policy) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes = append(l.changes, change{bucket, pol})
}

// take returns the changes recorded since the last take.
func (l *changeLog) take() []change {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.changes
	l.changes = nil
	return c
}

// newAPIServer serves api on 127.0.0.1 with path-style buckets and hands
// back each call's record.
func newAPIServer(t *testing.T, api *CORSAPI) (*httptest.Server, <-chan Call) {
	t.Helper()
	calls := make(chan Call, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		calls <- api.Serve(w, r, bucket)
	}))
	t.Cleanup(srv.Close)
	return srv, calls
}

// mustRules decodes an S3 XML document's rules.
func mustRules(t *testing.T, data []byte) []policy.Rule {
	t.Helper()
	doc, err := policy.Decode("test", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if doc.Dialect != policy.DialectXML {
		t.Fatalf("the document is not S3 XML:\n%s", data)
	}
	return doc.Rules
}

// TestCORSAPIEndToEnd puts, gets and deletes a bucket's CORS configuration
// with aws-sdk-go-v2's signer through a real server, over a store in
// memory.
func TestCORSAPIEndToEnd(t *testing.T) {
	t.Parallel()
	store, log := newMemStore(), &changeLog{}
	api := &CORSAPI{Verifier: testVerifier(testSignedAt), Store: store, Changed: log.changed}
	srv, calls := newAPIServer(t, api)
	want := mustRules(t, []byte(testCORSXML))

	do := func(method string, body []byte) (*http.Response, []byte, Call) {
		t.Helper()
		req := newSDKRequest(t, method, srv.URL+"/uploads?cors", "", body)
		if body != nil {
			req.Header.Set("Content-MD5", contentMD5(body))
		}
		sdkSign(t, req, sha256Hex(body), testSignedAt)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, got, <-calls
	}
	checkCall := func(call Call, action string, status int, code string) {
		t.Helper()
		if call.AccessKey != testAccessKey || call.Action != action || call.Status != status {
			t.Errorf("call = %+v, want access key %s, action %s, status %d", call, testAccessKey, action, status)
		}
		switch {
		case code == "" && call.Err != nil:
			t.Errorf("call.Err = %v, want none", call.Err)
		case code != "" && (call.Err == nil || AsError(call.Err).Code != code):
			t.Errorf("call.Err = %v, want %s", call.Err, code)
		}
	}

	resp, body, call := do("GET", nil)
	checkCall(call, "GetBucketCors", 404, "NoSuchCORSConfiguration")
	if resp.StatusCode != 404 || !bytes.Contains(body, []byte("<Code>NoSuchCORSConfiguration</Code><Message>The CORS configuration does not exist</Message>")) {
		t.Errorf("GET before any PUT: %d\n%s", resp.StatusCode, body)
	}

	resp, body, call = do("PUT", []byte(testCORSXML))
	checkCall(call, "PutBucketCors", 200, "")
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("PUT answered %d %q, want 200 and no body", resp.StatusCode, body)
	}
	stored, ok := store.stored("uploads")
	if !ok {
		t.Fatal("PUT stored nothing")
	}
	if got := mustRules(t, stored); !reflect.DeepEqual(got, want) {
		t.Errorf("stored rules %+v\nwant        %+v", got, want)
	}
	if call.Warnings != nil {
		t.Errorf("warnings on a sound policy: %v", call.Warnings)
	}
	if changes := log.take(); len(changes) != 1 || changes[0].bucket != "uploads" || changes[0].pol == nil ||
		!reflect.DeepEqual(changes[0].pol.Document().Rules, want) {
		t.Errorf("Changed was told %+v, want the new policy of uploads once", changes)
	}

	resp, body, call = do("GET", nil)
	checkCall(call, "GetBucketCors", 200, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/xml" {
		t.Errorf("GET answered %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, stored) {
		t.Errorf("GET answered\n%s\nwant what was stored\n%s", body, stored)
	}
	if got := mustRules(t, body); !reflect.DeepEqual(got, want) {
		t.Errorf("GET answered rules %+v\nwant %+v", got, want)
	}

	resp, body, call = do("DELETE", nil)
	checkCall(call, "DeleteBucketCors", 204, "")
	if resp.StatusCode != 204 || len(body) != 0 {
		t.Errorf("DELETE answered %d %q, want 204 and no body", resp.StatusCode, body)
	}
	if _, ok := store.stored("uploads"); ok {
		t.Error("DELETE left the policy in the store")
	}
	if changes := log.take(); len(changes) != 1 || changes[0] != (change{"uploads", nil}) {
		t.Errorf("Changed was told %+v, want uploads with no policy", changes)
	}

	resp, _, call = do("GET", nil)
	checkCall(call, "GetBucketCors", 404, "NoSuchCORSConfiguration")
	if resp.StatusCode != 404 {
		t.Errorf("GET after DELETE answered %d, want 404", resp.StatusCode)
	}
	if changes := log.take(); len(changes) != 0 {
		t.Errorf("Changed was told of reads: %+v", changes)
	}
}

// TestCORSAPIPresignedGet: a presigned GetBucketCors URL (as a browser or
// curl would use it) is answered like a signed call.
func TestCORSAPIPresignedGet(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	store.docs["uploads"] = []byte(testCORSXML)
	srv, calls := newAPIServer(t, &CORSAPI{Verifier: testVerifier(testSignedAt.Add(time.Minute)), Store: store})
	req := sdkPresign(t, newSDKRequest(t, "GET", srv.URL+"/uploads?cors", "", nil), nil, 5*time.Minute, testSignedAt)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	call := <-calls
	if resp.StatusCode != 200 || call.Err != nil || call.Action != "GetBucketCors" {
		t.Fatalf("answered %d (%+v)\n%s", resp.StatusCode, call, body)
	}
	if got := mustRules(t, body); !reflect.DeepEqual(got, mustRules(t, []byte(testCORSXML))) {
		t.Errorf("GET answered other rules:\n%s", body)
	}
}

// TestCORSAPIWarnings: a policy S3 accepts but that does not do what it
// seems to is stored, and the call carries the warnings for the log.
func TestCORSAPIWarnings(t *testing.T) {
	t.Parallel()
	doc := []byte(strings.Replace(testCORSXML, "https://app.example.com", "https://*.vercel.app", 1))
	api := &CORSAPI{Verifier: testVerifier(testSignedAt), Store: newMemStore()}
	r := httptest.NewRequest("PUT", "http://s3.example.com/uploads?cors", bytes.NewReader(doc))
	testSigner.sign(r, testSignedAt, sha256Hex(doc))
	rec := httptest.NewRecorder()
	call := api.Serve(rec, r, "uploads")
	if rec.Code != 200 || call.Err != nil {
		t.Fatalf("PUT answered %d: %v", rec.Code, call.Err)
	}
	var v *policy.ValidationError
	if !errors.As(call.Warnings, &v) || len(v.Problems) == 0 || !strings.Contains(call.Warnings.Error(), "vercel.app") {
		t.Errorf("call.Warnings = %v, want the public-suffix warning", call.Warnings)
	}
}

// TestCORSAPIFixed: a bucket whose policy the proxy's configuration sets is
// read through the API but not changed.
func TestCORSAPIFixed(t *testing.T) {
	t.Parallel()
	fixed, err := policy.Parse("Caddyfile", []byte(testCORSXML))
	if err != nil {
		t.Fatal(err)
	}
	store := newMemStore()
	api := &CORSAPI{Verifier: testVerifier(testSignedAt), Store: store,
		Fixed: func(bucket string) (*policy.Policy, bool) { return fixed, bucket == "uploads" },
	}
	r := httptest.NewRequest("GET", "http://s3.example.com/uploads?cors", nil)
	testSigner.sign(r, testSignedAt, emptySHA256)
	rec := httptest.NewRecorder()
	if call := api.Serve(rec, r, "uploads"); call.Status != 200 || call.Err != nil {
		t.Fatalf("GET answered %+v", call)
	}
	if got := mustRules(t, rec.Body.Bytes()); !reflect.DeepEqual(got, fixed.Document().Rules) {
		t.Errorf("GET answered\n%s\nwant the fixed policy", rec.Body.Bytes())
	}
	if len(store.docs) != 0 {
		t.Errorf("the store was written: %v", store.docs)
	}
}
