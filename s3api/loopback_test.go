package s3api

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// loopback is an HTTP server on 127.0.0.1 that hands back each request it
// receives, as a handler sees it: Host in r.Host, the target in
// r.RequestURI, Transfer-Encoding in r.TransferEncoding, and so on. Signing
// a request and verifying what the server received is what proves a
// verifier, since a signature covers the request as sent, and the Go server
// does not keep every part where the client put it.
type loopback struct {
	srv *httptest.Server
	got chan *http.Request
}

func newLoopback(t *testing.T) *loopback {
	t.Helper()
	l := &loopback{got: make(chan *http.Request, 1)}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c := r.Clone(context.Background())
		c.Body = io.NopCloser(bytes.NewReader(body))
		l.got <- c
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(l.srv.Close)
	return l
}

// url returns the server's URL for target ("/bucket?cors").
func (l *loopback) url(target string) string { return l.srv.URL + target }

// hostport returns the server's address, the Host a client sends it.
func (l *loopback) hostport() string { return l.srv.Listener.Addr().String() }

// send sends req with an ordinary client and returns the request as the
// server received it, its body readable again.
func (l *loopback) send(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	resp, err := l.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("sending %s %s: %v", req.Method, req.URL, err)
	}
	resp.Body.Close()
	return l.receive(t, resp.StatusCode)
}

// sendRaw writes raw bytes as the request (for requests no client would
// build, such as the test suite's folded header lines) and returns the
// request as the server received it.
func (l *loopback) sendRaw(t *testing.T, raw []byte) *http.Request {
	t.Helper()
	conn, err := net.Dial("tcp", l.hostport())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to\n%s\n: %v", raw, err)
	}
	resp.Body.Close()
	return l.receive(t, resp.StatusCode)
}

func (l *loopback) receive(t *testing.T, status int) *http.Request {
	t.Helper()
	if status != http.StatusNoContent {
		t.Fatalf("the loopback server answered %d: the Go server refused the request itself", status)
	}
	select {
	case r := <-l.got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the loopback server received nothing")
		return nil
	}
}
