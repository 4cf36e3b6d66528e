package integration

// Helpers of faults_test.go, reload_test.go and load_test.go: clients whose
// connections a test can close, checks that return errors (for use in
// goroutines), Caddy's goroutine count and resident memory, a TCP proxy that
// delays or stalls, and a policy store that misbehaves on demand. Every name
// starts with rel so that it cannot clash with the other files of the
// package.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// The origins of the fault and reload tests: the policies let the app in
// and keep the other out.
const (
	relAppOrigin     = "https://app.example.com"
	relRefusedOrigin = "https://evil.example.net"
)

// relPolicyXML is a policy document (S3 XML) that lets origin GET, PUT and
// HEAD with a Content-Type, exposes ETag, and lets browsers cache the
// preflight for maxAge seconds.
func relPolicyXML(origin string, maxAge int) string {
	return fmt.Sprintf(`<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <AllowedOrigin>%s</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>content-type</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>%d</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>
`, origin, maxAge)
}

// relInlinePolicy is relPolicyXML as a Caddyfile policy block for bucket.
func relInlinePolicy(bucket, origin string, maxAge int) string {
	return fmt.Sprintf(`policy %s {
			rule {
				origins %s
				methods GET PUT HEAD
				headers content-type
				expose  ETag
				max_age %d
			}
		}`, bucket, origin, maxAge)
}

// relActualGrant is what relPolicyXML grants origin's GET or PUT.
func relActualGrant(origin string, maxAge int) storeGrant {
	return storeGrant{
		"Access-Control-Allow-Origin":      origin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "GET, PUT, HEAD",
		"Access-Control-Expose-Headers":    "ETag",
		"Access-Control-Max-Age":           strconv.Itoa(maxAge),
	}
}

// relPreflightGrant is what relPolicyXML grants origin's preflight of a PUT
// with Access-Control-Request-Headers: content-type.
func relPreflightGrant(origin string, maxAge int) storeGrant {
	g := relActualGrant(origin, maxAge)
	g["Access-Control-Allow-Headers"] = "content-type"
	return g
}

// relNewClient returns a client with a connection pool of its own, so that
// a test can close its idle connections before it counts Caddy's
// goroutines, and room for idle connections to keep every one of
// concurrency workers on a kept-alive connection. It never follows
// redirects.
func relNewClient(concurrency int, timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // loopback only, whatever the environment says
	tr.MaxIdleConns = concurrency + 10
	tr.MaxIdleConnsPerHost = concurrency + 10
	// The tests read what the proxy sends, byte for byte.
	tr.DisableCompression = true
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// relResp is an answer read whole.
type relResp struct {
	status int
	header http.Header
	body   []byte
}

// relSend sends one request and reads the whole answer. It returns an error
// instead of failing the test, so that workers can count it.
func relSend(client *http.Client, method, rawURL string, header map[string]string, body []byte) (relResp, error) {
	r, _, err := relSendTraced(client, method, rawURL, header, body)
	return r, err
}

// relConnInfo tells how a request went on its connection.
type relConnInfo struct {
	reused    bool // it went out on a kept-alive connection
	firstByte bool // some of an answer came back
}

// relSendTraced is relSend, also telling how the request went on its
// connection (of its last attempt, when the client retried it).
func relSendTraced(client *http.Client, method, rawURL string, header map[string]string, body []byte) (relResp, relConnInfo, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var reused, firstByte atomic.Bool
	trace := &httptrace.ClientTrace{
		// Each attempt starts afresh; one whose dial fails gets no GotConn.
		GetConn:              func(string) { reused.Store(false); firstByte.Store(false) },
		GotConn:              func(ci httptrace.GotConnInfo) { reused.Store(ci.Reused) },
		GotFirstResponseByte: func() { firstByte.Store(true) },
	}
	info := func() relConnInfo { return relConnInfo{reused: reused.Load(), firstByte: firstByte.Load()} }
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), method, rawURL, rd)
	if err != nil {
		return relResp{}, info(), err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return relResp{}, info(), err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return relResp{}, info(), fmt.Errorf("%s %s: reading the body: %w", method, rawURL, err)
	}
	return relResp{status: resp.StatusCode, header: resp.Header, body: b}, info(), nil
}

// relDroppedUnanswered says whether a request failed as one does whose new
// connection the server closed or reset before it answered anything (or
// reset as it was made): on a connection of its own (a kept-alive one the
// client would have retried), before any byte came back, with EOF or a
// reset.
func relDroppedUnanswered(info relConnInfo, err error) bool {
	return err != nil && !info.reused && !info.firstByte &&
		(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET))
}

// relPreflight sends a browser's preflight of method (and, when not empty,
// the request headers it names) from origin.
func relPreflight(client *http.Client, rawURL, origin, method, requestHeaders string) (relResp, error) {
	h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
	if requestHeaders != "" {
		h["Access-Control-Request-Headers"] = requestHeaders
	}
	return relSend(client, http.MethodOptions, rawURL, h, nil)
}

// relCheckGranted says how a preflight answer differs from a grant: 200, no
// body, exactly want's Access-Control-* headers, the preflight Vary.
func relCheckGranted(r relResp, want storeGrant) error {
	if r.status != http.StatusOK {
		return fmt.Errorf("status %d, want 200; body %.300q", r.status, r.body)
	}
	if len(r.body) != 0 {
		return fmt.Errorf("body %.300q, want none", r.body)
	}
	if err := relCheckCORS(r.header, want); err != nil {
		return err
	}
	if got := strings.Join(r.header.Values("Vary"), ", "); got != storePreflightVary {
		return fmt.Errorf("Vary %q, want %q", got, storePreflightVary)
	}
	return nil
}

// relCheckRefused says how a preflight answer differs from S3's 403:
// AccessForbidden with the message of a bucket without CORS (notEnabled) or
// of a request no rule allows, naming method, and no Access-Control-*
// header.
func relCheckRefused(r relResp, method string, notEnabled bool) error {
	msg, resource := storeMsgNotAllowed, "OBJECT"
	if notEnabled {
		msg, resource = storeMsgNotEnabled, "BUCKET"
	}
	if r.status != http.StatusForbidden {
		return fmt.Errorf("status %d, want 403 %q; body %.300q", r.status, msg, r.body)
	}
	if got := storeCORSHeaders(r.header); len(got) != 0 {
		return fmt.Errorf("a refusal carries Access-Control-* headers: %v", got)
	}
	e, err := relS3Error(r)
	if err != nil {
		return err
	}
	if e.Code != "AccessForbidden" || e.Message != msg || e.Method != method || e.ResourceType != resource {
		return fmt.Errorf("error %+v, want AccessForbidden %q, Method %s, ResourceType %s", e, msg, method, resource)
	}
	return nil
}

// relCheckUnavailable says how an answer differs from the module's 503 for
// a preflight whose bucket policy cannot be read: S3's XML
// ServiceUnavailable and no Access-Control-* header.
func relCheckUnavailable(r relResp) error {
	if r.status != http.StatusServiceUnavailable {
		return fmt.Errorf("status %d, want 503; body %.300q", r.status, r.body)
	}
	if got := storeCORSHeaders(r.header); len(got) != 0 {
		return fmt.Errorf("a 503 carries Access-Control-* headers: %v", got)
	}
	e, err := relS3Error(r)
	if err != nil {
		return err
	}
	if e.Code != "ServiceUnavailable" || e.Message == "" {
		return fmt.Errorf("error %+v, want ServiceUnavailable with a message", e)
	}
	return nil
}

// relS3Error decodes an S3 XML error body.
func relS3Error(r relResp) (storeS3Error, error) {
	var e storeS3Error
	if ct := r.header.Get("Content-Type"); ct != "application/xml" {
		return e, fmt.Errorf("Content-Type %q, want application/xml", ct)
	}
	if err := xml.Unmarshal(r.body, &e); err != nil {
		return e, fmt.Errorf("the body is not an S3 XML error (%v): %.300q", err, r.body)
	}
	return e, nil
}

// relCheckCORS says how the Access-Control-* headers of h differ from want
// (nil: none at all).
func relCheckCORS(h http.Header, want storeGrant) error {
	got := storeCORSHeaders(h)
	wantCanon := map[string]string{}
	for k, v := range want {
		wantCanon[http.CanonicalHeaderKey(k)] = v
	}
	if !reflect.DeepEqual(got, wantCanon) {
		return fmt.Errorf("Access-Control-* headers\n got %v\nwant %v", got, wantCanon)
	}
	return nil
}

// relCheckActual says how the headers of an answer to a GET or PUT differ
// from what the policy gives it: exactly want's Access-Control-* headers
// and Vary naming Origin once.
func relCheckActual(r relResp, want storeGrant) error {
	if err := relCheckCORS(r.header, want); err != nil {
		return err
	}
	n := 0
	for _, name := range varyNames(r.header) {
		if name == "origin" {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("Vary %q names Origin %d times, want once", r.header.Values("Vary"), n)
	}
	return nil
}

// relCheckOriginRefused checks that origin's preflight of a PUT is refused by the
// bucket's policy.
func relCheckOriginRefused(client *http.Client, url, origin string) error {
	r, err := relPreflight(client, url, origin, "PUT", "content-type")
	if err != nil {
		return err
	}
	return relCheckRefused(r, "PUT", false)
}

// relContainsAny says whether s contains one of subs.
func relContainsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// relCheck fails the test with what and err when err is not nil.
func relCheck(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// relGoroutines returns the number of goroutines of a Caddy, from the first
// line of its goroutine profile ("goroutine profile: total N"), and the
// profile itself.
func relGoroutines(adminURL string) (int, string, error) {
	resp, err := testrig.AdminClient.Get(adminURL + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("GET /debug/pprof/goroutine: %s", resp.Status)
	}
	m := regexp.MustCompile(`^goroutine profile: total (\d+)`).FindSubmatch(body)
	if m == nil {
		return 0, "", fmt.Errorf("GET /debug/pprof/goroutine: no total in %.200q", body)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n, string(body), nil
}

// relSettledGoroutines returns the fewest goroutines Caddy shows in a few
// reads, for a baseline: goroutines of connections that are closing come
// and go.
func relSettledGoroutines(t testing.TB, adminURL string) int {
	t.Helper()
	least := -1
	for range 5 {
		n, _, err := relGoroutines(adminURL)
		if err != nil {
			t.Fatalf("counting Caddy's goroutines: %v", err)
		}
		if least < 0 || n < least {
			least = n
		}
		time.Sleep(100 * time.Millisecond)
	}
	return least
}

// relWaitGoroutines polls Caddy's goroutine count until it is at most
// baseline+margin, and fails the test with the goroutine profile when it is
// not within timeout. It returns the count.
func relWaitGoroutines(t testing.TB, adminURL string, baseline, margin int, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n, profile, err := relGoroutines(adminURL)
		if err != nil {
			t.Fatalf("counting Caddy's goroutines: %v", err)
		}
		if n <= baseline+margin {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("Caddy has %d goroutines %v after the load ended, baseline %d (+%d allowed); its goroutines:\n%.20000s",
				n, timeout, baseline, margin, profile)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// relRSS returns the resident memory of a process, from
// /proc/<pid>/status.
func relRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
}

// relRSSOf returns the resident memory of a process, failing the test when
// it cannot be read.
func relRSSOf(t testing.TB, pid int) int64 {
	t.Helper()
	n, err := relRSS(pid)
	if err != nil {
		t.Fatalf("resident memory of pid %d: %v", pid, err)
	}
	return n
}

// relRSSSampler reads a process's resident memory every interval until
// stopped, keeping the most it saw.
type relRSSSampler struct {
	stopCh  chan struct{}
	done    chan struct{}
	max     atomic.Int64
	samples atomic.Int64
	err     atomic.Value // error
}

// relSampleRSS starts a sampler of pid.
func relSampleRSS(pid int, interval time.Duration) *relRSSSampler {
	s := &relRSSSampler{stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			n, err := relRSS(pid)
			if err != nil {
				s.err.Store(err)
				return
			}
			s.samples.Add(1)
			if n > s.max.Load() {
				s.max.Store(n)
			}
			select {
			case <-s.stopCh:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the most resident memory seen and the
// number of samples.
func (s *relRSSSampler) stop() (int64, int64, error) {
	close(s.stopCh)
	<-s.done
	err, _ := s.err.Load().(error)
	return s.max.Load(), s.samples.Load(), err
}

// relMiB shows a byte count in MiB.
func relMiB(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// relFreeBytes returns the free space of the file system that holds dir,
// as an unprivileged user sees it.
func relFreeBytes(t testing.TB, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatalf("free space of %s: %v", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// relLoad POSTs a Caddyfile to the admin endpoint's /load with
// Cache-Control: must-revalidate, which makes Caddy provision every handler
// anew even when the config is unchanged. The Caddyfile must carry the
// rig's global options itself (default_bind, skip_install_trust), as the
// rig adds nothing here.
func relLoad(adminURL, caddyfile string) error {
	req, err := http.NewRequest(http.MethodPost, adminURL+"/load", strings.NewReader(caddyfile))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/caddyfile")
	req.Header.Set("Cache-Control", "must-revalidate")
	resp, err := testrig.AdminClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /load: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// relGlobalOptions is the global options block the rig would add, written
// out so that relLoad can post a Caddyfile as it is.
const relGlobalOptions = "{\n\tdefault_bind 127.0.0.1\n\tskip_install_trust\n}\n\n"

// relLogLines returns Caddy's JSON log lines whose msg is msg and, when
// bucket is not empty, whose bucket field is bucket.
func relLogLines(c *testrig.Caddy, msg, bucket string) []map[string]any {
	lines := storeLogEntries(c.Logs(), msg)
	if bucket != "" {
		lines = storeLogsFor(lines, bucket)
	}
	return lines
}

// relLogTime returns the time of a Caddy JSON log line (ts, in seconds).
func relLogTime(line map[string]any) time.Time {
	ts, _ := line["ts"].(float64)
	sec := int64(ts)
	return time.Unix(sec, int64((ts-float64(sec))*1e9))
}

// relProxyMode is what relSlowProxy does with what its clients send.
type relProxyMode int

const (
	// relPass forwards every byte at once.
	relPass relProxyMode = iota
	// relDelay holds each chunk a client sends for the delay, then
	// forwards it.
	relDelay
	// relStall forwards nothing more: the connection stays open, unanswered,
	// until its client closes it.
	relStall
)

// relSlowProxy is a TCP proxy on 127.0.0.1 in front of one address, in the
// test process. A mode change applies also to connections already open, at
// the next chunk their client sends, so a kept-alive connection stalls too.
type relSlowProxy struct {
	// Addr is the proxy's host:port.
	Addr   string
	target string
	ln     net.Listener
	done   chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	mode    relProxyMode
	delay   time.Duration
	open    map[net.Conn]bool // client connections, to whether they stalled
	stalled int               // connections stalled so far
	closed  bool
}

// relStartSlowProxy starts a proxy to target (host:port) that passes
// everything until told otherwise. It stops when the test ends.
func relStartSlowProxy(t testing.TB, target string) *relSlowProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("slow proxy: %v", err)
	}
	p := &relSlowProxy{Addr: ln.Addr().String(), target: target, ln: ln, done: make(chan struct{}), open: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// set changes the mode; delay is used by relDelay.
func (p *relSlowProxy) set(mode relProxyMode, delay time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode, p.delay = mode, delay
}

// counts returns the number of client connections open now, of those the
// stalled ones, and the connections stalled so far.
func (p *relSlowProxy) counts() (open, stalledOpen, stalledEver int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.open {
		if s {
			stalledOpen++
		}
	}
	return len(p.open), stalledOpen, p.stalled
}

func (p *relSlowProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		p.open[c] = false
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(c)
	}
}

// serve forwards what client sends, chunk by chunk, as the mode says, and
// the target's answers back.
func (p *relSlowProxy) serve(client net.Conn) {
	defer p.wg.Done()
	var up net.Conn
	defer func() {
		if up != nil {
			up.Close()
		}
		p.mu.Lock()
		delete(p.open, client)
		p.mu.Unlock()
		client.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			p.mu.Lock()
			mode, delay := p.mode, p.delay
			if mode == relStall {
				p.open[client] = true
				p.stalled++
			}
			p.mu.Unlock()
			switch mode {
			case relStall:
				// The target is left; the client waits for an answer
				// that never comes, until it gives up and closes.
				if up != nil {
					up.Close()
				}
				_, _ = io.Copy(io.Discard, client)
				return
			case relDelay:
				select {
				case <-time.After(delay):
				case <-p.done:
					return
				}
			}
			if up == nil {
				var derr error
				up, derr = net.DialTimeout("tcp", p.target, 10*time.Second)
				if derr != nil {
					return
				}
				p.wg.Add(1)
				go p.answer(client, up)
			}
			if _, werr := up.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// answer copies the target's answers to client; when the target closes, so
// does client, unless the connection stalled meanwhile.
func (p *relSlowProxy) answer(client, up net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(client, up)
	p.mu.Lock()
	stalled := p.open[client]
	p.mu.Unlock()
	if !stalled {
		client.Close()
	}
}

func (p *relSlowProxy) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	for c := range p.open {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

// relStoreMode is how relFaultyStore answers for a bucket.
type relStoreMode string

const (
	relStoreGood     relStoreMode = "good"     // the bucket's document
	relStore500      relStoreMode = "500"      // S3's 500 InternalError
	relStoreGarbage  relStoreMode = "garbage"  // 200 with bytes that are no document
	relStoreHuge     relStoreMode = "huge"     // 200 with a 10 MiB XML document
	relStoreNotValid relStoreMode = "notvalid" // 200 with well-formed XML that does not validate
)

// relHugeSize is the size of the document relStoreHuge sends.
const relHugeSize = 10 << 20

// relHugeFirst is how much of the huge document is sent before the store
// waits for the client to leave: well past the 64 KiB the module reads.
const relHugeFirst = 1 << 20

// relFaultyStore stands in for the S3 store that holds the policies
// (<store bucket>/<bucket>.xml): it answers GetObject with each bucket's
// document, or as the bucket's mode says. It checks no signature.
type relFaultyStore struct {
	mu    sync.Mutex
	docs  map[string]string // bucket to document
	modes map[string]relStoreMode
	// Of the huge answers: bytes of the body written, and how many were
	// cut short by the client closing the connection before the whole
	// body was sent.
	hugeWritten  []int64
	hugeCutShort int
}

func relNewFaultyStore() *relFaultyStore {
	return &relFaultyStore{docs: map[string]string{}, modes: map[string]relStoreMode{}}
}

// set gives bucket a document and a mode.
func (s *relFaultyStore) set(bucket string, mode relStoreMode, doc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modes[bucket] = mode
	if doc != "" {
		s.docs[bucket] = doc
	}
}

// huge returns what the huge answers wrote and how many were cut short.
func (s *relFaultyStore) huge() ([]int64, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.hugeWritten...), s.hugeCutShort
}

func (s *relFaultyStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	bucket, isXML := strings.CutSuffix(key, ".xml")
	s.mu.Lock()
	mode, known := s.modes[bucket]
	doc := s.docs[bucket]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/xml")
	if r.Method != http.MethodGet || !isXML || !known {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>%s</Key></Error>`, key)
		return
	}
	switch mode {
	case relStoreGood:
		io.WriteString(w, doc)
	case relStore500:
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`)
	case relStoreGarbage:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte("\x00\x9f\x92\x96 <CORSConfiguration><CORSRule><AllowedOrigin>https://app.exa\xff\xfe"))
	case relStoreNotValid:
		io.WriteString(w, storePolicyBad)
	case relStoreHuge:
		s.serveHuge(w, r)
	}
}

// serveHuge sends the start of a 10 MiB document (a valid rule, then a
// comment that runs on), then waits for the client to close the connection
// before it would send the rest: a client that reads it whole waits.
func (s *relFaultyStore) serveHuge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", strconv.Itoa(relHugeSize))
	w.WriteHeader(http.StatusOK)
	head := `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule><!--`
	pad := bytes.Repeat([]byte("padding "), 4096)
	var written int64
	write := func(p []byte) bool {
		n, err := w.Write(p)
		written += int64(n)
		return err == nil
	}
	ok := write([]byte(head))
	for ok && written+int64(len(pad)) <= relHugeFirst {
		ok = write(pad)
	}
	if ok {
		http.NewResponseController(w).Flush()
	}
	cutShort := false
	select {
	case <-r.Context().Done():
		cutShort = true
	case <-time.After(30 * time.Second):
	}
	for ok && !cutShort && written < relHugeSize-3 {
		ok = write(pad[:min(int64(len(pad)), relHugeSize-3-written)])
	}
	if ok && !cutShort {
		write([]byte("-->"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hugeWritten = append(s.hugeWritten, written)
	if cutShort {
		s.hugeCutShort++
	}
}

// relStartFaultyStore serves a relFaultyStore on 127.0.0.1 until the test
// ends.
func relStartFaultyStore(t testing.TB) (*relFaultyStore, *httptest.Server) {
	t.Helper()
	s := relNewFaultyStore()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

// relErrors collects the unexpected outcomes of many workers: a count per
// kind and the first few messages of each.
type relErrors struct {
	mu      sync.Mutex
	count   map[string]int
	samples map[string][]string
}

func newRelErrors() *relErrors {
	return &relErrors{count: map[string]int{}, samples: map[string][]string{}}
}

// add records one unexpected outcome of kind.
func (e *relErrors) add(kind string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.count[kind]++
	if len(e.samples[kind]) < 3 {
		e.samples[kind] = append(e.samples[kind], err.Error())
	}
}

// report fails the test with every unexpected outcome, if any.
func (e *relErrors) report(t testing.TB) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for kind, n := range e.count {
		t.Errorf("%d unexpected outcomes of %s, e.g.:\n  %s", n, kind, strings.Join(e.samples[kind], "\n  "))
	}
}

// total returns the number of unexpected outcomes.
func (e *relErrors) total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.count {
		n += c
	}
	return n
}

// relEnvDuration reads a duration from the environment, or def when unset.
func relEnvDuration(t testing.TB, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 30s", name, v)
	}
	return d
}

// relEnvInt reads a positive integer from the environment, or def when
// unset. A size may end in KiB, MiB or GiB.
func relEnvInt(t testing.TB, name string, def int64) int64 {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if s, ok := strings.CutSuffix(v, suffix); ok {
			v, mult = s, m
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive whole number (a size may end in KiB, MiB or GiB)", name, os.Getenv(name))
	}
	return n * mult
}
