package integration

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// TestBrowserEnforcesBucketPolicies loads pages from an allowed origin
// (app.test) and a refused one (evil.test) in Chromium and lets them reach
// objects of MinIO through the proxy, so that the browser's own CORS
// enforcement, acting on the headers the module sends, decides each case.
// MinIO on its own would let every origin read everything.
func TestBrowserEnforcesBucketPolicies(t *testing.T) {
	m := testrig.StartMinIO(t)
	pg := startPages(t)
	app, evil := pg.origin("app.test"), pg.origin("evil.test")
	edgeURL := "http://" + testrig.FreeAddr(t)
	// A proxy whose upstream is down: nothing listens on port 1 (tcpmux),
	// so Caddy's dial is refused at once and it answers 502.
	downURL, deadUpstream := "http://"+testrig.FreeAddr(t), "127.0.0.1:1"

	data := []byte(`{"message": "hello from the bucket"}`)
	font, err := os.ReadFile("../example/bucket/assets/Roboto-Light.ttf")
	if err != nil {
		t.Fatal(err)
	}
	// Public buckets, as assets are served, and a private one reached with
	// presigned URLs.
	for _, b := range []string{"assets", "plain", "shared"} {
		m.CreateBucket(t, b)
		makePublic(t, m, b)
		m.PutObject(t, b, "data.json", data, "application/json")
	}
	m.PutObject(t, "assets", "Roboto-Light.ttf", font, "font/ttf")
	m.CreateBucket(t, "private")
	m.PutObject(t, "private", "secret.txt", []byte("secret"), "text/plain")

	testrig.StartCaddy(t, fmt.Sprintf(`%[1]s {
	bucket_cors {
		# The R2 page's example: a site may GET the bucket's objects and read
		# their ETag.
		policy assets {
			rule {
				origins %[2]s
				methods GET HEAD
				expose  ETag
				max_age 3600
			}
		}
		# The same without ExposeHeaders.
		policy plain {
			rule {
				origins %[2]s
				methods GET HEAD
			}
		}
		# Any origin, which by the Fetch standard excludes credentials.
		policy shared {
			rule {
				origins *
				methods GET
			}
		}
		policy private {
			rule {
				origins %[2]s
				methods GET
			}
		}
	}
	reverse_proxy %[3]s
}

%[4]s {
	bucket_cors {
		policy private {
			rule {
				origins %[2]s
				methods GET
			}
		}
	}
	reverse_proxy %[5]s
}
`, edgeURL, app, hostPort(t, m.Endpoint), downURL, deadUpstream))

	ctx := testrig.Browser(t)
	appPage, evilPage := pg.url("app.test", "/"), pg.url("evil.test", "/")

	t.Run("allowed origin reads the object and its exposed ETag", func(t *testing.T) {
		u := edgeURL + "/assets/data.json"
		r := testrig.Fetch(t, ctx, appPage, u, nil)
		if r.Status != 200 || r.Error != "" || r.Body != string(data) {
			t.Fatalf("fetch %s from %s: status %d, error %q, body %q; want 200 and the object", u, app, r.Status, r.Error, r.Body)
		}
		if want := headETag(t, m, "assets", "data.json"); r.Headers["etag"] != want {
			t.Errorf("ETag readable from JavaScript = %q, want MinIO's %q", r.Headers["etag"], want)
		}
		checkNoCORSConsole(t, "fetch from the allowed origin", r.Console)
	})

	t.Run("ETag is null to JavaScript when the rule does not expose it", func(t *testing.T) {
		u := edgeURL + "/plain/data.json"
		etag := testrig.EvalAsync[*string](t, ctx, appPage, fmt.Sprintf(`fetch(%q).then(async (r) => {
			if (r.status !== 200 || await r.text() !== %q) throw new Error("unexpected answer " + r.status);
			return r.headers.get("ETag");
		})`, u, data))
		if etag != nil {
			t.Errorf(`headers.get("ETag") = %q, want null: the rule exposes no header`, *etag)
		}
	})

	t.Run("refused origin gets the browser's CORS error", func(t *testing.T) {
		// MinIO itself would let this page read the object: its own CORS
		// echoes any origin. That is what the proxy must stop.
		direct := m.Endpoint + "/assets/data.json"
		if r := testrig.Fetch(t, ctx, evilPage, direct, nil); r.Status != 200 || r.Body != string(data) {
			t.Fatalf("fetch of MinIO itself from %s: status %d, error %q; want 200, MinIO allowing every origin", evil, r.Status, r.Error)
		}
		u := edgeURL + "/assets/data.json"
		r := testrig.Fetch(t, ctx, evilPage, u, nil)
		checkBlocked(t, "fetch from the refused origin", r, u, evil,
			"No 'Access-Control-Allow-Origin' header is present on the requested resource.")
		if r.Body != "" || len(r.Headers) != 0 {
			t.Errorf("the page saw headers %v and body %q of a refused response", r.Headers, r.Body)
		}
	})

	t.Run("credentials include works with a rule naming the origin", func(t *testing.T) {
		u := edgeURL + "/assets/data.json"
		r := testrig.Fetch(t, ctx, appPage, u, &testrig.FetchOptions{Credentials: "include"})
		if r.Status != 200 || r.Error != "" || r.Body != string(data) {
			t.Errorf("credentialed fetch from %s: status %d, error %q, body %q; want 200 and the object", app, r.Status, r.Error, r.Body)
		}
		checkNoCORSConsole(t, "credentialed fetch", r.Console)
	})

	t.Run("credentials include fails with a wildcard rule", func(t *testing.T) {
		u := edgeURL + "/shared/data.json"
		// Without credentials, the * rule lets any page read the object…
		if r := testrig.Fetch(t, ctx, evilPage, u, nil); r.Status != 200 || r.Body != string(data) {
			t.Fatalf("fetch under a * rule: status %d, error %q; want 200", r.Status, r.Error)
		}
		// …with them, the Fetch standard refuses Access-Control-Allow-Origin: *.
		r := testrig.Fetch(t, ctx, evilPage, u, &testrig.FetchOptions{Credentials: "include"})
		checkBlocked(t, "credentialed fetch under a * rule", r, u, evil,
			"The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' "+
				"when the request's credentials mode is 'include'.")
	})

	t.Run("MinIO's 404 reaches the page with its status", func(t *testing.T) {
		u := presignGet(t, m, edgeURL, "private", "missing.txt")
		r := testrig.Fetch(t, ctx, appPage, u, nil)
		if r.Status != 404 || r.Error != "" || !strings.Contains(r.Body, "<Code>NoSuchKey</Code>") {
			t.Errorf("fetch of a missing key: status %d, error %q, body %q; want 404 NoSuchKey", r.Status, r.Error, r.Body)
		}
		checkNoCORSConsole(t, "fetch of a missing key", r.Console)
		// A refused origin learns nothing, not even the status.
		r = testrig.Fetch(t, ctx, evilPage, u, nil)
		checkBlocked(t, "fetch of a missing key from the refused origin", r, u, evil,
			"No 'Access-Control-Allow-Origin' header is present on the requested resource.")
	})

	t.Run("Caddy's 502 reaches the page with its status when the store is down", func(t *testing.T) {
		u := downURL + "/private/secret.txt"
		r := testrig.Fetch(t, ctx, appPage, u, nil)
		if r.Status != 502 || r.Error != "" {
			t.Errorf("fetch through a proxy whose upstream is down: status %d, error %q; want 502", r.Status, r.Error)
		}
		checkNoCORSConsole(t, "fetch of a 502", r.Console)
		r = testrig.Fetch(t, ctx, evilPage, u, nil)
		checkBlocked(t, "fetch of a 502 from the refused origin", r, u, evil,
			"No 'Access-Control-Allow-Origin' header is present on the requested resource.")
	})

	t.Run("MinIO's 403 reaches the page with its status", func(t *testing.T) {
		unsigned := edgeURL + "/private/secret.txt"
		presigned := presignGet(t, m, edgeURL, "private", "secret.txt")
		tampered := tamperSignature(t, presigned)
		for _, tc := range []struct{ name, url, code string }{
			{"unsigned request to a private bucket", unsigned, "AccessDenied"},
			{"presigned URL with a wrong signature", tampered, "SignatureDoesNotMatch"},
		} {
			r := testrig.Fetch(t, ctx, appPage, tc.url, nil)
			if r.Status != 403 || r.Error != "" || !strings.Contains(r.Body, "<Code>"+tc.code+"</Code>") {
				t.Errorf("%s: status %d, error %q, body %q; want 403 %s", tc.name, r.Status, r.Error, r.Body, tc.code)
			}
			checkNoCORSConsole(t, tc.name, r.Console)
		}
		// The object is intact, and the right URL reads it.
		if r := testrig.Fetch(t, ctx, appPage, presigned, nil); r.Status != 200 || r.Body != "secret" {
			t.Errorf("presigned GET: status %d, error %q, body %q; want 200 secret", r.Status, r.Error, r.Body)
		}
	})

	t.Run("cross-origin font loads from the allowed origin only", func(t *testing.T) {
		fontURL := edgeURL + "/assets/Roboto-Light.ttf"
		pg.add("/font.html", fmt.Sprintf(`<!doctype html>
<style>
@font-face { font-family: "BucketRoboto"; src: url(%q) format("truetype"); }
p { font-family: "BucketRoboto", monospace; }
</style>
<p>The quick brown fox jumps over the lazy dog.</p>`, fontURL))
		const loadFont = `(async () => {
			try { await document.fonts.load('1rem "BucketRoboto"'); } catch (e) {}
			const face = [...document.fonts].find((f) => f.family.replace(/"/g, "") === "BucketRoboto");
			return face ? face.status : "missing";
		})()`

		status, console := evalConsole[string](t, ctx, pg.url("app.test", "/font.html"), loadFont)
		if status != "loaded" {
			t.Errorf("font from %s: FontFace status %q, want loaded\nconsole:\n%s", app, status, strings.Join(console, "\n"))
		}
		checkNoCORSConsole(t, "font from the allowed origin", console)

		status, console = evalConsole[string](t, ctx, pg.url("evil.test", "/font.html"), loadFont)
		if status != "error" {
			t.Errorf("font from %s: FontFace status %q, want error", evil, status)
		}
		want := fmt.Sprintf("Access to font at '%s' from origin '%s' has been blocked by CORS policy: "+
			"No 'Access-Control-Allow-Origin' header is present on the requested resource.", fontURL, evil)
		if !strings.Contains(strings.Join(console, "\n"), want) {
			t.Errorf("font from %s: console lacks %q; it has:\n%s", evil, want, strings.Join(console, "\n"))
		}
	})
}

// evalConsole is testrig.EvalAsync that also returns what the page's
// console got meanwhile, where Chromium says why it blocked a request.
func evalConsole[T any](t testing.TB, ctx context.Context, pageURL, js string) (T, []string) {
	t.Helper()
	return evalConsoleWithin[T](t, ctx, pageURL, js, callTimeout)
}

// evalConsoleWithin is evalConsole with a time limit of timeout for the
// script.
func evalConsoleWithin[T any](t testing.TB, ctx context.Context, pageURL, js string, timeout time.Duration) (T, []string) {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, timeout+callTimeout)
	defer cancel()
	messages := chromedp.Console(cctx) // subscribes now, before the page loads
	v := testrig.EvalAsyncWithin[T](t, ctx, pageURL, js, timeout)
	// Console messages are events that may trail the result: log a marker and
	// read up to it.
	marker := fmt.Sprintf("integration: done %p", &v)
	testrig.EvalAsync[chromedp.Void](t, ctx, "", fmt.Sprintf("console.debug(%q)", marker))
	var console []string
	for msg, err := range messages {
		if err != nil {
			t.Fatalf("reading the console of %s: %v", pageURL, err)
		}
		if msg.Text == marker {
			break
		}
		console = append(console, msg.String())
	}
	return v, console
}
