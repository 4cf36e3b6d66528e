package integration

// Rolling a policy out: report_only first, where the origin's own CORS
// keeps answering while the refusals are counted, then enforce. And the
// admin explain of the live configuration.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// TestBrowserReportOnlyThenEnforce: a page on an origin the policy refuses
// keeps working in report_only mode, MinIO's permissive CORS answering it,
// and each refusal is counted in /metrics; after a reload to enforce, the
// same page is blocked, preflight and all, while the allowed origin works
// throughout.
func TestBrowserReportOnlyThenEnforce(t *testing.T) {
	m := testrig.StartMinIO(t)
	pg := startPages(t)
	app, evil := pg.origin("app.test"), pg.origin("evil.test")
	edgeURL := "http://" + testrig.FreeAddr(t)

	data := []byte(`{"message": "hello from the bucket"}`)
	m.CreateBucket(t, "rollout")
	makePublic(t, m, "rollout")
	m.PutObject(t, "rollout", "data.json", data, "application/json")

	caddyfile := func(mode string) string {
		return fmt.Sprintf(`%s {
	bucket_cors {
		policy rollout {
			rule {
				id      app
				origins %s
				methods GET HEAD
				headers content-type
			}
		}
		mode %s
		debug
	}
	reverse_proxy %s
}
`, edgeURL, app, mode, hostPort(t, m.Endpoint))
	}
	c := testrig.StartCaddy(t, caddyfile("report_only"))
	ctx := testrig.Browser(t)
	appPage, evilPage := pg.url("app.test", "/"), pg.url("evil.test", "/")
	// A GET with Content-Type: application/json is no simple request: the
	// browser sends a preflight first.
	preflighted := &testrig.FetchOptions{Headers: map[string]string{"Content-Type": "application/json"}}
	refused := func(mode string) string {
		return storeSeries("bucketcors_decisions_total", "mode="+mode, "decision=refused")
	}

	// fetchAll fetches the object from a page, simply and with a preflight;
	// each phase has its own URLs, so that no preflight the browser cached
	// in one phase answers for the next.
	fetchAll := func(page, phase string) (simple, withPreflight testrig.FetchResult, simpleURL, preflightURL string) {
		simpleURL = edgeURL + "/rollout/data.json?phase=" + phase + "&kind=simple"
		preflightURL = edgeURL + "/rollout/data.json?phase=" + phase + "&kind=preflight"
		return testrig.Fetch(t, ctx, page, simpleURL, nil), testrig.Fetch(t, ctx, page, preflightURL, preflighted), simpleURL, preflightURL
	}
	checkRead := func(what string, r testrig.FetchResult) {
		t.Helper()
		if r.Status != 200 || r.Error != "" || r.Body != string(data) {
			t.Errorf("%s: status %d, error %q, body %q; want 200 and the object\nconsole:\n%s", what, r.Status, r.Error, r.Body, consoleText(r))
		}
		checkNoCORSConsole(t, what, r.Console)
	}

	t.Run("report_only: the refused origin still reads, and is counted", func(t *testing.T) {
		before := storeMetrics(t, c.AdminURL())
		simple, withPreflight, _, _ := fetchAll(evilPage, "report")
		checkRead("simple fetch from the refused origin", simple)
		checkRead("preflighted fetch from the refused origin", withPreflight)
		// The simple GET, the preflight and the GET after it.
		after := storeMetrics(t, c.AdminURL())
		if got := after[refused("report_only")] - before[refused("report_only")]; got != 3 {
			t.Errorf("%s went up by %v, want 3", refused("report_only"), got)
		}
		if after[refused("enforce")] != 0 {
			t.Errorf("%s = %v, want 0: nothing was enforced", refused("enforce"), after[refused("enforce")])
		}
		// The log has the refusal once, with the verdict.
		want := fmt.Sprintf(`refused: rule 1 (\"app\"): origin %s not listed`, evil)
		if n := strings.Count(c.Logs(), want); n != 1 {
			t.Errorf("the log has %q %d times, want once (one line a minute per bucket and origin):\n%s", want, n, c.Logs())
		}
	})

	t.Run("report_only: the allowed origin reads", func(t *testing.T) {
		simple, withPreflight, _, _ := fetchAll(appPage, "report")
		checkRead("simple fetch from the allowed origin", simple)
		checkRead("preflighted fetch from the allowed origin", withPreflight)
	})

	c.Reload(t, caddyfile("enforce"))

	t.Run("enforce: the refused origin is blocked", func(t *testing.T) {
		before := storeMetrics(t, c.AdminURL())
		simple, withPreflight, simpleURL, preflightURL := fetchAll(evilPage, "enforce")
		checkBlocked(t, "simple fetch from the refused origin", simple, simpleURL, evil,
			"No 'Access-Control-Allow-Origin' header is present on the requested resource.")
		checkBlocked(t, "preflighted fetch from the refused origin", withPreflight, preflightURL, evil,
			"Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.")
		t.Logf("Chromium's console on the blocked preflight:\n%s", consoleText(withPreflight))
		// The simple GET and the preflight; the browser sends no GET after
		// a refused preflight.
		after := storeMetrics(t, c.AdminURL())
		if got := after[refused("enforce")] - before[refused("enforce")]; got != 2 {
			t.Errorf("%s went up by %v, want 2", refused("enforce"), got)
		}
		if after[refused("report_only")] != before[refused("report_only")] {
			t.Errorf("%s went from %v to %v after the switch to enforce", refused("report_only"), before[refused("report_only")], after[refused("report_only")])
		}
	})

	t.Run("enforce: the allowed origin reads", func(t *testing.T) {
		simple, withPreflight, _, _ := fetchAll(appPage, "enforce")
		checkRead("simple fetch from the allowed origin", simple)
		checkRead("preflighted fetch from the allowed origin", withPreflight)
	})

	t.Run("the debug header says why", func(t *testing.T) {
		r := do(t, http.MethodOptions, edgeURL+"/rollout/data.json", map[string]string{
			"Origin": evil, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "content-type",
		}, nil)
		want := fmt.Sprintf(`refused: rule 1 ("app"): origin %s not listed`, evil)
		if r.status != http.StatusForbidden || r.header.Get("Bucket-Cors-Debug") != want {
			t.Errorf("preflight from %s: status %d, Bucket-Cors-Debug %q; want 403 and %q", evil, r.status, r.header.Get("Bucket-Cors-Debug"), want)
		}
	})
}

// adminExplanation is the part of POST /bucket_cors/explain's answer these
// tests read.
type adminExplanation struct {
	Handlers []struct {
		Mode        string `json:"mode"`
		Source      string `json:"source"`
		Version     string `json:"version"`
		Explanation struct {
			Verdict string `json:"verdict"`
			Allowed bool   `json:"allowed"`
			Status  int    `json:"status"`
		} `json:"explanation"`
	} `json:"handlers"`
}

// TestAdminExplainOfALiveCaddy: the admin endpoint of a running Caddy
// judges a request by the policy it serves, and names the policy's source
// and version; a request it cannot judge is a 400 that says why.
func TestAdminExplainOfALiveCaddy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	doc := `[{"ID": "uploads", "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["content-type"]}]`
	if err := os.WriteFile(filepath.Join(dir, "uploads.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	c := testrig.StartCaddy(t, fmt.Sprintf(`http://%s {
	bucket_cors {
		policy_file uploads uploads.json
		mode report_only
	}
	respond "origin" 200
}
`, testrig.FreeAddr(t)), testrig.WorkingDir(dir))

	post := func(request string) (int, string) {
		t.Helper()
		resp, err := testrig.AdminClient.Post(c.AdminURL()+"/bucket_cors/explain", "application/json", strings.NewReader(request))
		if err != nil {
			t.Fatalf("POST explain: %v", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("POST explain: reading the answer: %v", err)
		}
		return resp.StatusCode, string(body)
	}

	tests := []struct {
		name        string
		body        string
		wantVerdict string
		wantStatus  int
	}{
		{"a preflight the rule allows",
			`{"bucket": "uploads", "origin": "https://app.example.com", "method": "PUT", "headers": ["content-type"]}`,
			`rule 1 ("uploads") allowed`, http.StatusOK},
		{"a preflight for a header the rule does not allow",
			`{"bucket": "uploads", "origin": "https://app.example.com", "method": "PUT", "headers": ["x-foo"]}`,
			`refused: rule 1 ("uploads"): header x-foo not allowed`, http.StatusForbidden},
		{"a bucket without policy",
			`{"bucket": "photos", "origin": "https://app.example.com", "method": "GET", "actual": true}`,
			"refused: the bucket has no CORS policy", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(tc.body)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			var ans adminExplanation
			if err := json.Unmarshal([]byte(body), &ans); err != nil || len(ans.Handlers) != 1 {
				t.Fatalf("answer %s: %v, want one handler", body, err)
			}
			h := ans.Handlers[0]
			if h.Mode != "report_only" || h.Explanation.Verdict != tc.wantVerdict || h.Explanation.Status != tc.wantStatus {
				t.Errorf("mode %q, verdict %q, status %d; want report_only, %q, %d", h.Mode, h.Explanation.Verdict, h.Explanation.Status, tc.wantVerdict, tc.wantStatus)
			}
			if tc.wantVerdict != "refused: the bucket has no CORS policy" && (h.Source != "uploads.json" || !strings.Contains(h.Version, "@")) {
				t.Errorf("source %q, version %q; want uploads.json and its size@mtime", h.Source, h.Version)
			}
		})
	}

	t.Run("a bad bucket name is a 400 that says so", func(t *testing.T) {
		status, body := post(`{"bucket": "my bucket", "origin": "https://app.example.com", "method": "GET"}`)
		if status != http.StatusBadRequest || !strings.Contains(body, `\"my bucket\" is not a bucket name`) {
			t.Errorf("status %d, body %s; want 400 naming the bucket", status, body)
		}
	})
}
