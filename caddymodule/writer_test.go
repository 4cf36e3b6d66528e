package caddymodule

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// originHeaders sets what an origin like MinIO sends and the policy must
// replace: permissive CORS (one line not in canonical case) and its own Vary.
func originHeaders(h http.Header) {
	h.Set("Access-Control-Allow-Origin", otherOrigin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h["access-control-expose-headers"] = []string{"*"}
	h.Set("Vary", "Accept-Encoding")
	h.Set("Content-Type", "text/plain")
}

// writerHandler is the handler the writer tests run: assets allows the app.
func writerHandler(t *testing.T) *Handler {
	return handlerFromCaddyfile(t, `bucket_cors {
	`+assetsPolicy+`
}`)
}

// TestEveryWayOfAnsweringGetsTheGrantOnce: whether next sends its status
// first or starts with Write, ReadFrom or a flush, the answer carries the
// grant, none of the origin's CORS headers and Vary: Origin exactly once.
func TestEveryWayOfAnsweringGetsTheGrantOnce(t *testing.T) {
	h := writerHandler(t)
	readFrom := func(w http.ResponseWriter, s string) error {
		rf, ok := w.(io.ReaderFrom)
		if !ok {
			return errors.New("the writer is not an io.ReaderFrom")
		}
		// A reader with no WriteTo, so that only ReadFrom can copy it.
		_, err := rf.ReadFrom(io.MultiReader(strings.NewReader(s)))
		return err
	}
	flush := func(w http.ResponseWriter) error { return http.NewResponseController(w).Flush() }

	tests := []struct {
		name       string
		answer     func(w http.ResponseWriter) error
		wantStatus int
	}{
		{"WriteHeader then Write", func(w http.ResponseWriter) error {
			w.WriteHeader(http.StatusOK)
			_, err := w.Write([]byte("hello"))
			return err
		}, http.StatusOK},
		{"Write without WriteHeader", func(w http.ResponseWriter) error {
			_, err := w.Write([]byte("hello"))
			return err
		}, http.StatusOK},
		{"ReadFrom without WriteHeader", func(w http.ResponseWriter) error {
			return readFrom(w, "hello")
		}, http.StatusOK},
		{"WriteHeader 404 then ReadFrom", func(w http.ResponseWriter) error {
			w.WriteHeader(http.StatusNotFound)
			return readFrom(w, "hello")
		}, http.StatusNotFound},
		{"Flush before anything else", func(w http.ResponseWriter) error {
			if err := flush(w); err != nil {
				return err
			}
			_, err := w.Write([]byte("hello"))
			return err
		}, http.StatusOK},
		{"Write, Flush, Write, Flush", func(w http.ResponseWriter) error {
			for _, part := range []string{"hel", "lo"} {
				if _, err := w.Write([]byte(part)); err != nil {
					return err
				}
				if err := flush(w); err != nil {
					return err
				}
			}
			return nil
		}, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				originHeaders(w.Header())
				return tc.answer(w)
			})
			srv := frontServer(t, h, next)
			resp, body := do(t, srv.Client(), newRequest(t, http.MethodGet, srv.URL+"/assets/a.txt", "Origin", appOrigin))
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			checkCORSHeaders(t, resp.Header, with(appGrant, "Vary", "Accept-Encoding", "Vary", grantVaryLine))
			if string(body) != "hello" {
				t.Errorf("body = %q, want hello", body)
			}
		})
	}
}

// TestEarlyHintsCarryNoCORSHeaders: a 103 goes out without the origin's
// CORS headers and without the grant, which is for the final answer only.
func TestEarlyHintsCarryNoCORSHeaders(t *testing.T) {
	h := writerHandler(t)
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		// As reverse_proxy relays an origin's 103, then its final answer.
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		originHeaders(w.Header())
		w.WriteHeader(http.StatusEarlyHints)
		originHeaders(w.Header())
		w.WriteHeader(http.StatusOK)
		_, err := w.Write([]byte("hello"))
		return err
	})
	srv := frontServer(t, h, next)

	var hints []http.Header
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
		if code == http.StatusEarlyHints {
			hints = append(hints, http.Header(header).Clone())
		}
		return nil
	}}
	req := newRequest(t, http.MethodGet, srv.URL+"/assets/a.txt", "Origin", appOrigin)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, _ := do(t, srv.Client(), req)

	if len(hints) != 1 {
		t.Fatalf("got %d 103 answers, want 1", len(hints))
	}
	if hints[0].Get("Link") == "" {
		t.Errorf("the 103 lost its Link header: %v", hints[0])
	}
	// The 103 keeps the origin's Vary (it is not CORS) and nothing else.
	checkCORSHeaders(t, hints[0], http.Header{"Vary": {"Accept-Encoding"}})
	checkCORSHeaders(t, resp.Header, with(appGrant, "Vary", "Accept-Encoding", "Vary", grantVaryLine))
}

// TestResponseControllerReachesTheServer: reverse_proxy and other handlers
// use http.ResponseController for deadlines, full duplex, flushing and
// hijacking (websockets); each must get through the wrapper to the
// server's own writer.
func TestResponseControllerReachesTheServer(t *testing.T) {
	h := writerHandler(t)
	tests := []struct {
		name string
		use  func(rc *http.ResponseController, w http.ResponseWriter) error
	}{
		{"SetWriteDeadline", func(rc *http.ResponseController, w http.ResponseWriter) error {
			return rc.SetWriteDeadline(time.Now().Add(testTimeout))
		}},
		{"SetReadDeadline", func(rc *http.ResponseController, w http.ResponseWriter) error {
			return rc.SetReadDeadline(time.Now().Add(testTimeout))
		}},
		{"EnableFullDuplex", func(rc *http.ResponseController, w http.ResponseWriter) error {
			return rc.EnableFullDuplex()
		}},
		{"Flush", func(rc *http.ResponseController, w http.ResponseWriter) error {
			return rc.Flush()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				if err := tc.use(http.NewResponseController(w), w); err != nil {
					return caddyhttp.Error(http.StatusTeapot, err)
				}
				_, err := w.Write([]byte("hello"))
				return err
			})
			srv := frontServer(t, h, next)
			resp, body := do(t, srv.Client(), newRequest(t, http.MethodGet, srv.URL+"/assets/a.txt", "Origin", appOrigin))
			if resp.StatusCode != http.StatusOK || string(body) != "hello" {
				t.Errorf("%s failed through the wrapper: status %d, body %q", tc.name, resp.StatusCode, body)
			}
			checkCORSHeaders(t, resp.Header, with(appGrant, "Vary", grantVaryLine))
		})
	}

	t.Run("Hijack", func(t *testing.T) {
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			conn, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return caddyhttp.Error(http.StatusTeapot, err)
			}
			defer conn.Close()
			rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
			return rw.Flush()
		})
		srv := frontServer(t, h, next)
		resp, body := do(t, srv.Client(), newRequest(t, http.MethodGet, srv.URL+"/assets/a.txt", "Origin", appOrigin))
		if resp.StatusCode != http.StatusOK || string(body) != "hijacked" {
			t.Errorf("Hijack failed through the wrapper: status %d, body %q", resp.StatusCode, body)
		}
	})
}

// TestStreamedBodyIsNotBuffered: a large body goes through the wrapper as
// it is written. next (as reverse_proxy streaming from an origin) sends a
// first part, then waits until the client has read that part before it
// sends the rest; a wrapper that held the body back would never let it.
func TestStreamedBodyIsNotBuffered(t *testing.T) {
	h := writerHandler(t)
	const part = 1 << 20 // well past every buffer between next and the client
	first := bytes.Repeat([]byte("a"), part)
	rest := bytes.Repeat([]byte("b"), 8*part)

	tests := []struct {
		name string
		// send writes the first part, calls wait, then writes the rest.
		send func(w http.ResponseWriter, wait func() error) error
	}{
		{"Write and flush in chunks", func(w http.ResponseWriter, wait func() error) error {
			rc := http.NewResponseController(w)
			for chunk := range slicesOf(first, 32<<10) {
				if _, err := w.Write(chunk); err != nil {
					return err
				}
				if err := rc.Flush(); err != nil {
					return err
				}
			}
			if err := wait(); err != nil {
				return err
			}
			for chunk := range slicesOf(rest, 32<<10) {
				if _, err := w.Write(chunk); err != nil {
					return err
				}
			}
			return nil
		}},
		{"ReadFrom a reader that pauses", func(w http.ResponseWriter, wait func() error) error {
			_, err := w.(io.ReaderFrom).ReadFrom(io.MultiReader(
				bytes.NewReader(first),
				&waitingReader{wait: wait, r: bytes.NewReader(rest)},
			))
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			firstRead := make(chan struct{})
			nextDone := make(chan struct{})
			next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				defer close(nextDone)
				w.Header().Set("Content-Type", "application/octet-stream")
				return tc.send(w, func() error {
					select {
					case <-firstRead:
						return nil
					case <-ctx.Done():
						return errors.New("the client never got the first part: the body was held back")
					}
				})
			})
			srv := frontServer(t, h, next)
			req := newRequest(t, http.MethodGet, srv.URL+"/assets/big.bin", "Origin", appOrigin)
			resp, err := srv.Client().Do(req.WithContext(ctx))
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			defer resp.Body.Close()
			checkCORSHeaders(t, resp.Header, with(appGrant, "Vary", grantVaryLine))

			got := make([]byte, part)
			if _, err := io.ReadFull(resp.Body, got); err != nil {
				t.Fatalf("reading the first part: %v", err)
			}
			select {
			case <-nextDone:
				t.Fatal("next finished before the client read the first part")
			default:
			}
			close(firstRead)
			tail, err := io.ReadAll(bufio.NewReader(resp.Body))
			if err != nil {
				t.Fatalf("reading the rest: %v", err)
			}
			if !bytes.Equal(got, first) || !bytes.Equal(tail, rest) {
				t.Errorf("body changed on the way: %d+%d bytes", len(got), len(tail))
			}
		})
	}
}

// slicesOf yields b in chunks of n bytes.
func slicesOf(b []byte, n int) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			k := min(n, len(b))
			if !yield(b[:k]) {
				return
			}
			b = b[k:]
		}
	}
}

// waitingReader calls wait before its first Read.
type waitingReader struct {
	wait   func() error
	waited bool
	r      io.Reader
}

func (w *waitingReader) Read(p []byte) (int, error) {
	if !w.waited {
		w.waited = true
		if err := w.wait(); err != nil {
			return 0, err
		}
	}
	return w.r.Read(p)
}

// TestOriginCORSHeadersOfAnyCaseAreRemoved: a header map filled without
// canonical keys (as some handlers do) loses its CORS lines all the same.
func TestOriginCORSHeadersOfAnyCaseAreRemoved(t *testing.T) {
	h := writerHandler(t)
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		hdr := w.Header()
		hdr["access-control-allow-origin"] = []string{"*"}
		hdr["ACCESS-CONTROL-ALLOW-METHODS"] = []string{"PATCH"}
		hdr["Access-control-max-age"] = []string{"1"}
		w.WriteHeader(http.StatusOK)
		return nil
	})
	rec, err := serveRecorded(h, newRequest(t, http.MethodPut, "http://proxy.example/assets/a.txt", "Origin", otherOrigin), next)
	if err != nil {
		t.Fatal(err)
	}
	for key := range rec.Header() {
		if strings.HasPrefix(strings.ToLower(key), "access-control-") {
			t.Errorf("the origin's %s got through", key)
		}
	}
	checkCORSHeaders(t, rec.Header(), varyOrigin)
}

// TestAnswerWithoutAnyWriteGetsTheGrant: when next returns without writing
// (no handler after bucket_cors answered), net/http sends the header map as
// it stands; it must hold the policy's headers, not the ones an earlier
// handler or the origin put there.
func TestAnswerWithoutAnyWriteGetsTheGrant(t *testing.T) {
	h := writerHandler(t)
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		originHeaders(w.Header())
		return nil
	})
	srv := frontServer(t, h, next)
	resp, _ := do(t, srv.Client(), newRequest(t, http.MethodGet, srv.URL+"/assets/a.txt", "Origin", appOrigin))
	checkCORSHeaders(t, resp.Header, with(appGrant, "Vary", "Accept-Encoding", "Vary", grantVaryLine))
}
