package integration

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// TestCaddyBinaryListsTheModules checks the binary users build: the handler
// and the admin API module are compiled in.
func TestCaddyBinaryListsTheModules(t *testing.T) {
	out, err := exec.Command(testrig.CaddyBinary(t), "list-modules").CombinedOutput()
	if err != nil {
		t.Fatalf("caddy list-modules: %v\n%s", err, out)
	}
	modules := strings.Fields(string(out))
	for _, want := range []string{"http.handlers.bucket_cors", "admin.api.bucket_cors"} {
		if !containsString(modules, want) {
			t.Errorf("caddy list-modules does not list %s", want)
		}
	}
}

// TestCaddyBinaryRefusesABadPolicy checks that `caddy validate` and `caddy
// adapt` fail on a bad policy with the policy's own error and the line it
// is on.
func TestCaddyBinaryRefusesABadPolicy(t *testing.T) {
	const caddyfile = `http://127.0.0.1:18099 {
	bucket_cors {
		policy assets {
			rule {
				origins https://static.example.com/
				methods GET PATCH
			}
		}
	}
	respond 204
}
`
	wants := []string{
		`Caddyfile:3 (policy assets)`,
		`"https://static.example.com/": an origin has no path; drop the trailing "/": use "https://static.example.com"`,
		`"PATCH": Found unsupported HTTP method in CORS config`,
	}
	validateOut, err := testrig.Validate(t, caddyfile)
	if err == nil {
		t.Fatalf("caddy validate accepted the bad policy:\n%s", validateOut)
	}
	_, adaptOut, err := testrig.Adapt(t, caddyfile)
	if err == nil {
		t.Fatalf("caddy adapt accepted the bad policy:\n%s", adaptOut)
	}
	// Caddy logs the error as JSON: read it with its quotes unescaped.
	validateOut = strings.ReplaceAll(validateOut, `\"`, `"`)
	adaptOut = strings.ReplaceAll(adaptOut, `\"`, `"`)
	for _, want := range wants {
		if !strings.Contains(validateOut, want) {
			t.Errorf("caddy validate's error does not say %q:\n%s", want, validateOut)
		}
		if !strings.Contains(adaptOut, want) {
			t.Errorf("caddy adapt's error does not say %q:\n%s", want, adaptOut)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
