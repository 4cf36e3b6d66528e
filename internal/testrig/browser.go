package testrig

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// How long Chromium may take to start, and one EvalAsync or Fetch to run.
const (
	browserStartTimeout = time.Minute
	evalTimeout         = 30 * time.Second
)

// browserHostRules keeps Chromium's traffic on this machine. Chromium calls
// Google's servers at start-up whatever the flags say (its component updater,
// the account list of sign-in); with these rules no such name resolves, so
// no packet leaves.
const browserHostRules = "MAP *.test 127.0.0.1, EXCLUDE localhost, EXCLUDE 127.0.0.1, MAP * ~NOTFOUND"

// Browser starts headless Chromium and returns a chromedp context of its
// first tab; chromedp.NewContext(ctx) opens more tabs of the same browser.
// The browser stops when the test ends; its output is shown when the test
// fails.
//
// The profile is fresh, so caches, including the CORS preflight cache, start
// empty: chromedp makes a user-data directory and removes it when the
// browser stops, after killing any of Chromium's child processes that are
// left (which a t.TempDir would not do, failing its clean-up). Chromium's
// own temporary files (its singleton socket folder) go to a folder of the
// test's that is removed once the browser has stopped: left in /tmp, a
// killed browser's folders pile up run after run.
//
// Host names: 127.0.0.1 and localhost are themselves, every name under .test
// resolves to 127.0.0.1 (so http://app.test:<port> and
// http://other.test:<port> are two origins on one loopback server), and
// every other name fails to resolve.
func Browser(t testing.TB) context.Context {
	t.Helper()
	bin := chromiumBinary(t)
	out := &logBuffer{}
	tmp, err := os.MkdirTemp("", "bucketcors-chromium-")
	if err != nil {
		t.Fatalf("testrig: a temporary folder for Chromium: %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, // root in a container has no usable sandbox
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// chromedp's list, plus features that call Google's servers.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,NetworkTimeServiceQuerying,"+
			"CertificateTransparencyComponentUpdater,OptimizationHints,MediaRouter,DialMediaRouteProvider"),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", browserHostRules),
		chromedp.Env("TMPDIR="+tmp),
		chromedp.CombinedOutput(out),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		acancel() // waits for the browser to exit
		if err := os.RemoveAll(tmp); err != nil {
			t.Errorf("testrig: removing Chromium's temporary folder: %v", err)
		}
		if t.Failed() {
			t.Logf("Chromium output:\n%s", out.String())
		}
	})
	// The first Run starts the browser and ties it to the context it gets,
	// so it cannot take a context with a timeout: bound it from here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("testrig: starting Chromium %s: %v\n%s", bin, err, out.String())
		}
	case <-time.After(browserStartTimeout):
		cancel()
		t.Fatalf("testrig: Chromium %s did not start in %v\n%s", bin, browserStartTimeout, out.String())
	}
	return ctx
}

// EvalAsync navigates the tab of ctx (from Browser) to pageURL, unless
// pageURL is empty, then evaluates js there, awaits the Promise it returns
// (a value that is no Promise is taken as it is), and decodes the result, by
// way of JSON, into a T. Navigation failures, exceptions and rejected
// promises fail the test; so does taking longer than 30 seconds. Scripts
// that test failures should catch them and return what they want to check.
func EvalAsync[T any](t testing.TB, ctx context.Context, pageURL, js string) T {
	t.Helper()
	return EvalAsyncWithin[T](t, ctx, pageURL, js, evalTimeout)
}

// EvalAsyncWithin is EvalAsync with a time limit of timeout instead of 30
// seconds, for scripts that take longer: uploads of many megabytes, which
// headless Chromium sends at a few megabytes a second on a busy machine.
func EvalAsyncWithin[T any](t testing.TB, ctx context.Context, pageURL, js string, timeout time.Duration) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if pageURL != "" {
		if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
			t.Fatalf("testrig: navigating to %s: %v", pageURL, err)
		}
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("testrig: evaluating in %s: %v\nscript:\n%s", pageURL, err, js)
	}
	return v
}

// FetchOptions are the parts of fetch()'s init argument that Fetch passes.
// Zero fields are left out, so fetch's defaults apply.
type FetchOptions struct {
	Method      string            `json:"method,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Body        string            `json:"body,omitempty"`
	Mode        string            `json:"mode,omitempty"`        // cors (default), no-cors, same-origin
	Credentials string            `json:"credentials,omitempty"` // same-origin (default), include, omit
	Cache       string            `json:"cache,omitempty"`       // no-store, say
}

// FetchResult is what a page's script sees of a fetch.
type FetchResult struct {
	// Status is the HTTP status; 0 when the fetch failed (Error is set) or
	// the response is opaque (no-cors).
	Status int `json:"status"`
	// Headers are the response headers the script can read, by lowercase
	// name: the CORS-safelisted ones and those in
	// Access-Control-Expose-Headers.
	Headers map[string]string `json:"headers"`
	// Body is the response body as text.
	Body string `json:"body"`
	// Error is the message of the rejected fetch, "TypeError: Failed to
	// fetch" for a request that CORS blocks, and empty otherwise.
	Error string `json:"error"`
	// Console has what the page's console got while Fetch ran, as
	// "<type>: <text>": Chromium's reason for blocking a request is there
	// ("error: Access to fetch at '...' from origin '...' has been blocked
	// by CORS policy: ..."), and nowhere else the page can see.
	Console []string `json:"-"`
}

// fetchJS runs fetch(url, init) and returns a FetchResult.
const fetchJS = `(async (url, init) => {
	try {
		const r = await fetch(url, init);
		const headers = {};
		r.headers.forEach((v, k) => { headers[k] = v; });
		return {status: r.status, headers, body: await r.text(), error: ""};
	} catch (e) {
		return {status: 0, headers: {}, body: "", error: String(e)};
	}
})(%s, %s)`

// Fetch navigates the tab of ctx to pageURL (unless it is empty) and runs
// fetch(url, opts) from there, so the request has that page's origin. A
// fetch that fails, as one blocked by CORS does, is no test failure: it
// returns with Error set, and the console says why.
func Fetch(t testing.TB, ctx context.Context, pageURL, url string, opts *FetchOptions) FetchResult {
	t.Helper()
	if opts == nil {
		opts = &FetchOptions{}
	}
	u, err := json.Marshal(url)
	if err != nil {
		t.Fatalf("testrig: %v", err)
	}
	init, err := json.Marshal(opts)
	if err != nil {
		t.Fatalf("testrig: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, evalTimeout)
	defer cancel()
	messages := chromedp.Console(cctx) // subscribes now, before the fetch
	res := EvalAsync[FetchResult](t, ctx, pageURL, fmt.Sprintf(fetchJS, u, init))
	// The console's messages come as events that may trail the fetch's
	// answer: log a marker and read up to it.
	marker := "testrig: fetch done " + randomHex(16)
	EvalAsync[chromedp.Void](t, ctx, "", fmt.Sprintf("console.debug(%q)", marker))
	for m, err := range messages {
		if err != nil {
			t.Fatalf("testrig: reading the console after fetch(%s): %v", url, err)
		}
		if m.Text == marker {
			break
		}
		res.Console = append(res.Console, m.String())
	}
	return res
}

// BlankPage starts an HTTP server on a loopback port chosen by the kernel
// (so no race for it) that answers every request with an empty HTML page,
// and returns its URL, http://127.0.0.1:<port>/. Each call gives a page of
// another origin; http://<name>.test:<port>/ reaches the same server from
// origins with other host names (see Browser). The server stops when the
// test ends.
func BlankPage(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><html><head><title>testrig</title></head><body></body></html>\n")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}
