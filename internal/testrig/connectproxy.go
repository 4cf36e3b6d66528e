package testrig

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// ConnectProxy is an HTTP proxy on a loopback port that answers CONNECT
// only, and only for the names it was given, each tunnelled to a loopback
// address. It lets a program reach an https server by a name that resolves
// nowhere (r2.test), on the port that name's URL implies (443), while the
// server listens on a free loopback port: the client's TLS runs end to end
// through the tunnel, with that name for SNI and certificate check, and
// nothing leaves the machine.
//
// Go programs (Caddy's reverse_proxy, the AWS SDK for Go) take it from
// HTTPS_PROXY=<URL>; see CaddyEnv.
type ConnectProxy struct {
	// URL is the proxy's address, http://127.0.0.1:<port>.
	URL string

	routes map[string]string

	mu       sync.Mutex
	connects []string          // every CONNECT target asked for, in order
	open     map[net.Conn]bool // hijacked connections, closed at the end
	closed   bool
}

// StartConnectProxy starts a ConnectProxy with routes from "host:port" as
// clients name it ("r2.test:443") to the loopback address that serves it
// ("127.0.0.1:41234"). A CONNECT to any other name is refused with 403, and
// every other request with 405. The proxy stops when the test ends.
func StartConnectProxy(t testing.TB, routes map[string]string) *ConnectProxy {
	t.Helper()
	for name, addr := range routes {
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			t.Fatalf("testrig: ConnectProxy route %s -> %q: the target must be a loopback ip:port", name, addr)
		}
	}
	p := &ConnectProxy{routes: routes, open: map[net.Conn]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = srv.URL
	t.Cleanup(func() {
		srv.Close()
		p.mu.Lock()
		p.closed = true
		for c := range p.open {
			c.Close()
		}
		p.mu.Unlock()
	})
	return p
}

// Connects returns the CONNECT targets asked for so far, in order.
func (p *ConnectProxy) Connects() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.connects...)
}

func (p *ConnectProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "testrig: this proxy answers CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	p.connects = append(p.connects, r.Host)
	p.mu.Unlock()
	target, ok := p.routes[r.Host]
	if !ok {
		http.Error(w, fmt.Sprintf("testrig: no route for %s", r.Host), http.StatusForbidden)
		return
	}
	up, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		http.Error(w, fmt.Sprintf("testrig: dialing %s for %s: %v", target, r.Host, err), http.StatusBadGateway)
		return
	}
	client, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		http.Error(w, "testrig: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if !p.track(client, up) {
		return
	}
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		p.untrack(client, up)
		return
	}
	// Bytes the server read past the CONNECT request (a client that did not
	// wait for the answer) are in buf.
	go func() {
		io.Copy(up, buf)
		p.untrack(client, up)
	}()
	go func() {
		io.Copy(client, up)
		p.untrack(client, up)
	}()
}

// track registers the two ends of a tunnel, or closes them when the proxy
// has stopped.
func (p *ConnectProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.open[c] = true
	}
	return true
}

// untrack closes both ends of a tunnel once either side is done.
func (p *ConnectProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		c.Close()
		delete(p.open, c)
	}
}
