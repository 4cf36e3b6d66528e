package testrig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestFreePort(t *testing.T) {
	seen := map[int]bool{}
	for range 20 {
		p := FreePort(t)
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		l.Close()
	}
	if a := FreeAddr(t); !strings.HasPrefix(a, "127.0.0.1:") {
		t.Errorf("FreeAddr = %q", a)
	}
}

func TestPrepareCaddyfile(t *testing.T) {
	const opts = "\tdefault_bind 127.0.0.1\n\tskip_install_trust\n"
	for _, tc := range []struct{ name, in, want string }{
		{"no global block",
			"http://127.0.0.1:1 {\n\trespond hi\n}\n",
			"{\n" + opts + "}\n\nhttp://127.0.0.1:1 {\n\trespond hi\n}\n"},
		{"global block after comments",
			"# c\n\n{\n\tdebug\n}\n:1 {\n}\n",
			"# c\n\n{\n" + opts + "\tdebug\n}\n:1 {\n}\n"},
		{"CRLF",
			"{\r\n\tdebug\r\n}\r\n",
			"{\r\n" + opts + "\tdebug\r\n}\r\n"},
		{"options already there",
			"{\n\tdefault_bind 127.0.0.2\n\tskip_install_trust\n}\n",
			"{\n\tdefault_bind 127.0.0.2\n\tskip_install_trust\n}\n"},
	} {
		if got := prepareCaddyfile(tc.in); got != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestDialAddrs(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:80":        "127.0.0.1:80",
		"tcp/[::1]:81":        "[::1]:81",
		"127.0.0.1:8000-8002": "127.0.0.1:8000 127.0.0.1:8001 127.0.0.1:8002",
		"udp/127.0.0.1:443":   "",
		"unix//tmp/x.sock":    "",
	} {
		got, err := dialAddrs(in)
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("dialAddrs(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{":80", "0.0.0.0:80", "10.0.0.1:80"} {
		if _, err := dialAddrs(in); err == nil {
			t.Errorf("dialAddrs(%q) accepted a non-loopback address", in)
		}
	}
}

func TestMissingProgramSkips(t *testing.T) {
	t.Setenv("BUCKETCORS_REQUIRE_INTEGRATION", "")
	t.Setenv("BUCKETCORS_MINIO", filepath.Join(t.TempDir(), "minio"))
	found := false
	ok := t.Run("minio", func(t *testing.T) {
		minioBinary(t)
		found = true
	})
	if !ok || found {
		t.Errorf("a missing MinIO did not skip: ok %v, found %v", ok, found)
	}
}

// TestPortTaken has MinIO's and Caddy's first address taken, as another
// process could take it after FreePort: they start on another.
func TestPortTaken(t *testing.T) {
	// A server that answers, as the program that took the port would.
	taken := httptest.NewServer(http.NotFoundHandler())
	defer taken.Close()
	first := true
	pickAddr = func(t testing.TB) string {
		if first {
			first = false
			return taken.Listener.Addr().String()
		}
		return FreeAddr(t)
	}
	defer func() { pickAddr = FreeAddr }()

	m := StartMinIO(t)
	if m.Endpoint == "http://"+taken.Listener.Addr().String() {
		t.Fatal("MinIO reports the taken address")
	}
	first = true
	c := StartCaddy(t, fmt.Sprintf("http://%s {\n\trespond ok\n}\n", FreeAddr(t)))
	if c.AdminURL() == "http://"+taken.Listener.Addr().String() {
		t.Fatal("Caddy reports the taken admin address")
	}
}

func TestMinIO(t *testing.T) {
	t.Parallel()
	m := StartMinIO(t)
	m.CreateBucket(t, "rig")
	m.PutObject(t, "rig", "dir/a.txt", []byte("hello"), "text/plain")
	if body, ok := m.GetObject(t, "rig", "dir/a.txt"); !ok || string(body) != "hello" {
		t.Fatalf("GetObject = %q, %v", body, ok)
	}
	if _, ok := m.GetObject(t, "rig", "nope"); ok {
		t.Fatal("GetObject of a missing key reported it exists")
	}

	// Stopped, it refuses connections; started again, it has kept the data.
	m.Stop(t)
	if resp, err := http.Get(m.Endpoint + "/minio/health/live"); err == nil {
		resp.Body.Close()
		t.Fatal("MinIO answers after Stop")
	}
	m.Start(t)
	if body, ok := m.GetObject(t, "rig", "dir/a.txt"); !ok || string(body) != "hello" {
		t.Fatalf("after restart, GetObject = %q, %v", body, ok)
	}
}

// get returns the status and body of a GET.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func TestCaddy(t *testing.T) {
	t.Parallel()
	m := StartMinIO(t)
	m.CreateBucket(t, "rig")
	site, proxy := FreeAddr(t), FreeAddr(t)
	caddyfile := func(greeting string) string {
		return fmt.Sprintf(`http://%s {
	respond "%s"
}

http://%s {
	reverse_proxy %s
}
`, site, greeting, proxy, strings.TrimPrefix(m.Endpoint, "http://"))
	}
	c := StartCaddy(t, caddyfile("hello"))

	if code, body := get(t, "http://"+site+"/"); code != 200 || body != "hello" {
		t.Errorf("respond site: %d %q", code, body)
	}
	if code, _ := get(t, "http://"+proxy+"/minio/health/ready"); code != 200 {
		t.Errorf("MinIO through Caddy: %d", code)
	}
	// Caddy passes the Host through to MinIO, so a SigV4 request signed for
	// Caddy's address is valid.
	client := m.Client(t, func(o *s3.Options) { o.BaseEndpoint = aws.String("http://" + proxy) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("rig")}); err != nil {
		t.Errorf("HeadBucket through Caddy: %v", err)
	}
	if code, body := get(t, c.AdminURL()+"/config/"); code != 200 || !strings.Contains(body, `"127.0.0.1:`) {
		t.Errorf("admin /config/: %d %s", code, body)
	}

	// Caddy closes the old admin server's idle connections after a load, so
	// the admin client must not keep one for the next request.
	for i := range 2 {
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, c.AdminURL()+"/config/", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := AdminClient.Do(req)
		if err != nil {
			t.Fatalf("AdminClient GET /config/: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if reused {
			t.Errorf("AdminClient request %d reused a connection", i+1)
		}
	}

	c.Reload(t, caddyfile("reloaded"))
	if code, body := get(t, "http://"+site+"/"); code != 200 || body != "reloaded" {
		t.Errorf("after Reload: %d %q", code, body)
	}
	// A refused config leaves the running one in place.
	err := c.TryReload(t, "http://"+site+" {\n\tno_such_directive\n}\n")
	if err == nil || !strings.Contains(err.Error(), "no_such_directive") {
		t.Errorf("TryReload of a bad Caddyfile: %v", err)
	}
	if code, body := get(t, "http://"+site+"/"); code != 200 || body != "reloaded" {
		t.Errorf("after a refused reload: %d %q", code, body)
	}
	// Pid is Caddy's own process (where /proc exists to tell; comm is the
	// program's name cut to 15 bytes).
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", c.Pid())); err == nil {
		name := filepath.Base(CaddyBinary(t))
		if len(name) > 15 {
			name = name[:15]
		}
		if got := strings.TrimSpace(string(comm)); got != name {
			t.Errorf("Pid %d is %q, not Caddy (%q)", c.Pid(), got, name)
		}
	}
	if !strings.Contains(c.Logs(), "serving initial configuration") {
		t.Errorf("Logs lack Caddy's start-up line:\n%s", c.Logs())
	}
}

func TestValidateAdapt(t *testing.T) {
	t.Parallel()
	good := fmt.Sprintf("http://%s {\n\trespond ok\n}\n", FreeAddr(t))
	if out, err := Validate(t, good); err != nil || !strings.Contains(out, "Valid configuration") {
		t.Errorf("Validate(good) = %v\n%s", err, out)
	}
	js, _, err := Adapt(t, good)
	if err != nil || !strings.Contains(js, `"static_response"`) {
		t.Errorf("Adapt(good) = %v\n%s", err, js)
	}

	bad := "http://127.0.0.1:1 {\n\tno_such_directive\n}\n"
	if out, err := Validate(t, bad); err == nil || !strings.Contains(out, "Caddyfile:2") {
		t.Errorf("Validate(bad) = %v\n%s", err, out)
	}
	if js, out, err := Adapt(t, bad); err == nil || js != "" || !strings.Contains(out, "no_such_directive") {
		t.Errorf("Adapt(bad) = %v, json %q\n%s", err, js, out)
	}
}

func TestBrowser(t *testing.T) {
	t.Parallel()
	m := StartMinIO(t)
	page, plain, proxy := FreeAddr(t), FreeAddr(t), FreeAddr(t)
	StartCaddy(t, fmt.Sprintf(`http://%s {
	handle /hello {
		respond "hello"
	}
	handle {
		header Content-Type "text/html; charset=utf-8"
		respond "<!doctype html><title>rig</title>"
	}
}

http://%s {
	respond "no CORS here"
}

http://%s {
	reverse_proxy %s
}
`, page, plain, proxy, strings.TrimPrefix(m.Endpoint, "http://")))
	ctx := Browser(t)
	pageURL := "http://" + page + "/"

	if title := EvalAsync[string](t, ctx, pageURL, `Promise.resolve(document.title)`); title != "rig" {
		t.Errorf("title = %q", title)
	}
	r := Fetch(t, ctx, "", "/hello", nil)
	if r.Status != 200 || r.Body != "hello" || r.Error != "" {
		t.Errorf("same-origin fetch: %+v", r)
	}
	// Cross-origin, without CORS headers: the browser blocks the response.
	r = Fetch(t, ctx, "", "http://"+plain+"/", nil)
	if r.Error == "" || r.Status != 0 || !strings.Contains(strings.Join(r.Console, "\n"), "blocked by CORS policy") {
		t.Errorf("cross-origin fetch without CORS: %+v", r)
	}
	// MinIO's own global CORS echoes any origin: the 403 is readable.
	r = Fetch(t, ctx, "", "http://"+proxy+"/rig/x", &FetchOptions{Method: "PUT", Body: "x"})
	if r.Status != 403 || !strings.Contains(r.Body, "<Code>") {
		t.Errorf("cross-origin fetch to MinIO: %+v", r)
	}

	// *.test names reach loopback servers, each name its own origin.
	blank := strings.Replace(BlankPage(t), "127.0.0.1", "app.test", 1)
	if origin := EvalAsync[string](t, ctx, blank, `location.origin`); origin+"/" != blank {
		t.Errorf("origin of %s = %q", blank, origin)
	}
}

func TestAWS(t *testing.T) {
	t.Parallel()
	m := StartMinIO(t)
	m.CreateBucket(t, "rig-aws")
	out, err := m.AWS(t, "s3api", "list-buckets", "--output", "json")
	if err != nil || !strings.Contains(out, `"rig-aws"`) {
		t.Fatalf("list-buckets = %v\n%s", err, out)
	}
	// An S3 error comes back with the CLI's message.
	_, err = m.AWS(t, "s3api", "get-object", "--bucket", "rig-aws", "--key", "nope", "/dev/null")
	if err == nil || !strings.Contains(err.Error(), "NoSuchKey") {
		t.Errorf("get-object of a missing key: %v", err)
	}
}

// TestMinIOTLSThroughConnectProxy starts MinIO over https with a
// certificate of the test's CA, and reaches it by a name that resolves
// nowhere through a ConnectProxy, as Caddy does with HTTPS_PROXY.
func TestMinIOTLSThroughConnectProxy(t *testing.T) {
	t.Parallel()
	ca := NewCA(t)
	m := StartMinIO(t, MinIOTLS(ca, ca.Issue(t, "store.test", "127.0.0.1")))
	if !strings.HasPrefix(m.Endpoint, "https://127.0.0.1:") {
		t.Fatalf("Endpoint = %q, want https://127.0.0.1:<port>", m.Endpoint)
	}
	m.CreateBucket(t, "rig-tls")
	m.PutObject(t, "rig-tls", "a.txt", []byte("over https"), "text/plain")
	if body, ok := m.GetObject(t, "rig-tls", "a.txt"); !ok || string(body) != "over https" {
		t.Fatalf("GetObject = %q, %v", body, ok)
	}

	proxy := StartConnectProxy(t, map[string]string{"store.test:443": strings.TrimPrefix(m.Endpoint, "https://")})
	proxyURL, err := url.Parse(proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy:           http.ProxyURL(proxyURL),
		TLSClientConfig: ca.ClientConfig(),
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://store.test/minio/health/live")
	if err != nil {
		t.Fatalf("GET https://store.test through the proxy: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET https://store.test/minio/health/live: %s", resp.Status)
	}
	// A name without a route is refused, and the certificate is checked
	// against the name dialled.
	if _, err := client.Get("https://elsewhere.test/"); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("GET through the proxy to a name without a route: %v, want 403 Forbidden", err)
	}
	if got := proxy.Connects(); len(got) != 2 || got[0] != "store.test:443" || got[1] != "elsewhere.test:443" {
		t.Errorf("Connects() = %v", got)
	}
	untrusted := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	if _, err := untrusted.Get("https://store.test/minio/health/live"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("GET with the system's roots: %v, want a certificate error", err)
	}
}

// TestStoreCounter sends the SDK's calls through a StoreCounter in front of
// MinIO: each is answered as MinIO answers it (the signature made for the
// counter verifies) and recorded with its kind, bucket and key.
func TestStoreCounter(t *testing.T) {
	t.Parallel()
	m := StartMinIO(t)
	m.CreateBucket(t, "rig")
	counter := StartStoreCounter(t, m.Endpoint)
	client := m.Client(t, func(o *s3.Options) { o.BaseEndpoint = aws.String(counter.URL) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	mark := counter.Mark()
	calls := []struct {
		kind, key string
		call      func() error
	}{
		{KindPut, "a.xml", func() error {
			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rig"), Key: aws.String("a.xml"), Body: strings.NewReader("<a/>")})
			return err
		}},
		{KindGet, "a.xml", func() error {
			out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rig"), Key: aws.String("a.xml")})
			if err == nil {
				body, _ := io.ReadAll(out.Body)
				out.Body.Close()
				if string(body) != "<a/>" {
					err = fmt.Errorf("body %q", body)
				}
			}
			return err
		}},
		{KindGet, "a.xml", func() error {
			_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("rig"), Key: aws.String("a.xml")})
			return err
		}},
		{KindList, "", func() error {
			out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("rig"), Prefix: aws.String("a"), StartAfter: aws.String("0")})
			if err == nil && aws.ToInt32(out.KeyCount) != 1 {
				err = fmt.Errorf("%d keys, want 1", aws.ToInt32(out.KeyCount))
			}
			return err
		}},
		{KindOther, "", func() error {
			_, err := client.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("rig")})
			return err
		}},
		{KindDelete, "a.xml", func() error {
			_, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("rig"), Key: aws.String("a.xml")})
			return err
		}},
	}
	for _, c := range calls {
		if err := c.call(); err != nil {
			t.Fatalf("%s of %q through the counter: %v", c.kind, c.key, err)
		}
	}
	seen := counter.Since(mark)
	if len(seen) != len(calls) {
		t.Fatalf("the counter recorded %d requests, want %d: %+v", len(seen), len(calls), seen)
	}
	for i, c := range calls {
		if got := seen[i]; got.Kind != c.kind || got.Bucket != "rig" || got.Key != c.key {
			t.Errorf("request %d: recorded %s %s/%s (%s), want %s rig/%s", i, got.Method, got.Bucket, got.Key, got.Kind, c.kind, c.key)
		}
	}
	if got := CountKinds(seen); got[KindGet] != 2 || got[KindList] != 1 {
		t.Errorf("CountKinds = %v", got)
	}
	if n := len(counter.Since(counter.Mark())); n != 0 {
		t.Errorf("Since(Mark()) = %d requests, want none", n)
	}
	if q := seen[3].Query; q.Get("list-type") != "2" || q.Get("prefix") != "a" || q.Get("start-after") != "0" {
		t.Errorf("the listing's query was recorded as %v", q)
	}
	if taken := counter.Take(); len(taken) != len(calls) || len(counter.Take()) != 0 {
		t.Errorf("Take = %d requests, then more: want the %d made, then none", len(taken), len(calls))
	}

	// OnList: the hook runs before the listing is passed on, and may make
	// requests through the counter: the listing sees the object it put.
	var hooked []int
	counter.OnList(func(n int) {
		hooked = append(hooked, n)
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rig"), Key: aws.String("b.xml"), Body: strings.NewReader("<b/>")}); err != nil {
			t.Error(err)
		}
	})
	out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("rig")})
	counter.OnList(nil)
	if err != nil || aws.ToInt32(out.KeyCount) != 1 || len(hooked) != 1 || hooked[0] != 1 {
		t.Errorf("a listing with a hook that puts b.xml: %v, %d keys, hook called with %v; want 1 key and [1]", err, aws.ToInt32(out.KeyCount), hooked)
	}
	if got := CountKinds(counter.Take()); got[KindList] != 1 || got[KindPut] != 1 {
		t.Errorf("with the hook: recorded %v, want a list and the hook's put", got)
	}

	// OnListAnswered: the hook runs once MinIO has made the page, before it
	// is passed on: the page does not hold the object the hook puts.
	hooked = nil
	counter.OnListAnswered(func(n int) {
		hooked = append(hooked, n)
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rig"), Key: aws.String("c.xml"), Body: strings.NewReader("<c/>")}); err != nil {
			t.Error(err)
		}
	})
	out, err = client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("rig")})
	counter.OnListAnswered(nil)
	if err != nil || aws.ToInt32(out.KeyCount) != 1 || len(hooked) != 1 || hooked[0] != 1 {
		t.Errorf("a listing with an after-answer hook that puts c.xml: %v, %d keys, hook called with %v; want 1 key (b.xml) and [1]", err, aws.ToInt32(out.KeyCount), hooked)
	}
	if got := CountKinds(counter.Take()); got[KindList] != 1 || got[KindPut] != 1 {
		t.Errorf("with the after-answer hook: recorded %v, want a list and the hook's put", got)
	}
	if _, ok := m.GetObject(t, "rig", "c.xml"); !ok {
		t.Error("the after-answer hook's put did not reach MinIO")
	}

	// SetDown: 503 ServiceUnavailable, recorded, nothing passed on; then
	// MinIO answers again.
	once := m.Client(t, func(o *s3.Options) { o.BaseEndpoint = aws.String(counter.URL); o.RetryMaxAttempts = 1 })
	counter.SetDown(true)
	_, err = once.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("rig"), Key: aws.String("b.xml")})
	var resp *smithyhttp.ResponseError
	if !errors.As(err, &resp) || resp.HTTPStatusCode() != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "ServiceUnavailable") {
		t.Errorf("a delete while down: %v, want 503 ServiceUnavailable", err)
	}
	counter.SetDown(false)
	if _, ok := m.GetObject(t, "rig", "b.xml"); !ok {
		t.Error("the delete made while down was passed on to MinIO")
	}
	if _, err := once.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("rig"), Key: aws.String("b.xml")}); err != nil {
		t.Errorf("after SetDown(false): %v", err)
	}
	if got := CountKinds(counter.Take()); got[KindDelete] != 1 || got[KindGet] != 1 {
		t.Errorf("down and up again: recorded %v, want the delete and the head", got)
	}
}

// TestPutObjects stores 2,500 objects in one batch upload: each is there,
// with its own body, and no archive is left in the bucket.
func TestPutObjects(t *testing.T) {
	t.Parallel()
	m := StartMinIO(t)
	m.CreateBucket(t, "rig")
	const n = 2500
	m.PutObjects(t, "rig", n, func(i int) (string, []byte) {
		return fmt.Sprintf("dir/%04d.txt", i), []byte(fmt.Sprintf("object %d", i))
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	keys := 0
	p := s3.NewListObjectsV2Paginator(m.Client(t), &s3.ListObjectsV2Input{Bucket: aws.String("rig")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			if !strings.HasPrefix(aws.ToString(o.Key), "dir/") {
				t.Errorf("unexpected object %s", aws.ToString(o.Key))
			}
			keys++
		}
	}
	if keys != n {
		t.Errorf("%d objects listed, want %d", keys, n)
	}
	for _, i := range []int{0, 1234, n - 1} {
		key := fmt.Sprintf("dir/%04d.txt", i)
		if body, ok := m.GetObject(t, "rig", key); !ok || string(body) != fmt.Sprintf("object %d", i) {
			t.Errorf("GetObject %s = %q, %v", key, body, ok)
		}
	}
}
