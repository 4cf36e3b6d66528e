package integration

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// exampleDemoPorts are the fixed ports of Caddyfile.example: the proxy, the
// stand-in bucket store, and the pages of the allowed and the refused
// origin.
var exampleDemoPorts = []int{8080, 8081, 3000, 3001}

// TestCaddyfileExampleDemo runs Caddyfile.example as the README says
// (`caddy run --config Caddyfile.example` from the repository's root, with
// no other server) and checks that its demo shows what the README promises,
// in the browser and with curl-like requests.
func TestCaddyfileExampleDemo(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	caddyfile, err := os.ReadFile(filepath.Join(root, "Caddyfile.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, port := range exampleDemoPorts {
		if err := portFree(port); err != nil {
			t.Fatalf("Caddyfile.example listens on the fixed ports %v, and port %d is taken (%v): "+
				"stop whatever listens there and run the test again", exampleDemoPorts, port, err)
		}
	}
	// The rig runs a copy with `default_bind 127.0.0.1` added to its global
	// options; the site roots (example/bucket, example/site) are relative,
	// so Caddy runs in the repository's root as the README's command does.
	testrig.StartCaddy(t, string(caddyfile), testrig.WorkingDir(root))

	t.Run("curl: the preflight of the allowed origin", func(t *testing.T) {
		r := do(t, http.MethodOptions, "http://localhost:8080/assets/data.json", map[string]string{
			"Origin":                        "http://localhost:3000",
			"Access-Control-Request-Method": "GET",
		}, nil)
		if r.status != 200 || len(r.body) != 0 {
			t.Errorf("OPTIONS: %d %q; want 200 with no body", r.status, r.body)
		}
		checkCORS(t, "OPTIONS", r.header, map[string]string{
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET, HEAD",
			"Access-Control-Allow-Origin":      "http://localhost:3000",
			"Access-Control-Expose-Headers":    "ETag",
			"Access-Control-Max-Age":           "3600",
		})
		if got := r.header.Values("Vary"); len(got) != 1 || got[0] != "Origin, Access-Control-Request-Headers, Access-Control-Request-Method" {
			t.Errorf("OPTIONS: Vary %q", got)
		}
	})

	t.Run("curl: the object to the refused origin, with no Access-Control header", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(root, "example/bucket/assets/data.json"))
		if err != nil {
			t.Fatal(err)
		}
		// The stand-in store itself grants every origin, as MinIO does.
		r := do(t, http.MethodGet, "http://localhost:8081/assets/data.json", map[string]string{"Origin": "http://localhost:3001"}, nil)
		if got := corsHeaders(r.header); r.status != 200 || got["Access-Control-Allow-Origin"] != "http://localhost:3001" {
			t.Fatalf("the stand-in store: %d %v; want 200 allowing http://localhost:3001", r.status, sortedPairs(got))
		}

		r = do(t, http.MethodGet, "http://localhost:8080/assets/data.json", map[string]string{"Origin": "http://localhost:3001"}, nil)
		if r.status != 200 || string(r.body) != string(data) {
			t.Errorf("GET: %d %q; want 200 and example/bucket/assets/data.json", r.status, r.body)
		}
		checkCORS(t, "GET from the refused origin", r.header, nil)
		// The README shows the response abridged: the file_server's own
		// "Vary: Accept-Encoding" is there too, and must stay.
		checkVaryOrigin(t, "GET from the refused origin", r.header)
		if names := varyNames(r.header); !slices.Contains(names, "accept-encoding") {
			t.Errorf("GET: Vary %q lost the store's Accept-Encoding", r.header.Values("Vary"))
		}
	})

	ctx := testrig.Browser(t)
	// demoResults waits until the page's three results leave "pending" and
	// returns them.
	const demoResults = `new Promise((resolve) => {
		const ids = ["font-result", "fetch-result", "put-result"];
		const check = () => {
			const texts = ids.map((id) => document.getElementById(id).textContent);
			if (texts.every((text) => text !== "pending")) resolve(texts);
			else setTimeout(check, 20);
		};
		check();
	})`
	for _, tc := range []struct {
		page string
		want []string
	}{
		{"http://localhost:3000/", []string{
			"allowed: font loaded",
			"allowed: 200 hello from the bucket, ETag readable: true",
			// The policy allows GET and HEAD only.
			"blocked: TypeError: Failed to fetch",
		}},
		{"http://localhost:3001/", []string{
			"blocked: font error",
			"blocked: TypeError: Failed to fetch",
			"blocked: TypeError: Failed to fetch",
		}},
	} {
		t.Run("browser: "+tc.page, func(t *testing.T) {
			got := testrig.EvalAsync[[]string](t, ctx, tc.page, demoResults)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("%s shows\n  %s\nwant\n  %s", tc.page, strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// portFree reports why port cannot be listened on, on 127.0.0.1 and (where
// the machine has IPv6) on [::1], where a browser's "localhost" may go first.
func portFree(port int) error {
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	l.Close()
	l6, err := net.Listen("tcp6", fmt.Sprintf("[::1]:%d", port))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return err
		}
		return nil // no IPv6 loopback
	}
	l6.Close()
	return nil
}
