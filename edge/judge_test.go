package edge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bucketcors/bucketcors/policy"
)

// TestJudge: how enforcing judges a request by a policy that allows GET
// and PUT with content-type from the app: a request that names a method or
// headers to come is judged as a preflight, whatever its own method.
func TestJudge(t *testing.T) {
	pol, err := policy.Read("test", strings.NewReader(`[{"AllowedOrigins": ["https://app.example.com"],
		"AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["content-type"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	const app, other = "https://app.example.com", "https://other.example.com"
	for _, tc := range []struct {
		name    string
		method  string
		headers []string // name, value, ...
		want    bool
	}{
		{"GET from the app", http.MethodGet, []string{"Origin", app}, true},
		{"GET from another origin", http.MethodGet, []string{"Origin", other}, false},
		{"DELETE from the app", http.MethodDelete, []string{"Origin", app}, false},
		{"GET naming PUT to come", http.MethodGet, []string{"Origin", app, "Access-Control-Request-Method", "PUT"}, true},
		{"GET naming DELETE to come", http.MethodGet, []string{"Origin", app, "Access-Control-Request-Method", "DELETE"}, false},
		{"GET naming an allowed header", http.MethodGet, []string{"Origin", app, "Access-Control-Request-Headers", "content-type"}, true},
		{"GET naming another header", http.MethodGet, []string{"Origin", app, "Access-Control-Request-Headers", "x-custom"}, false},
		{"GET with two Origin lines", http.MethodGet, []string{"Origin", app, "Origin", app}, false},
		{"preflight for PUT", http.MethodOptions, []string{"Origin", app, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type"}, true},
		{"preflight for another header", http.MethodOptions, []string{"Origin", app, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-custom"}, false},
		{"preflight naming no method", http.MethodOptions, []string{"Origin", app}, false},
		{"preflight from another origin", http.MethodOptions, []string{"Origin", other, "Access-Control-Request-Method", "GET"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/assets/key", nil)
			for i := 0; i < len(tc.headers); i += 2 {
				r.Header.Add(tc.headers[i], tc.headers[i+1])
			}
			if got := Allows(pol, r); got != tc.want {
				t.Errorf("Allows = %v, want %v", got, tc.want)
			}
			if tc.method == http.MethodOptions || len(r.Header["Origin"]) != 1 {
				return
			}
			grant := ActualGrant(pol, r, r.Header.Get("Origin"))
			if grant.Allowed != tc.want || (tc.want && grant.AllowOrigin != app) {
				t.Errorf("ActualGrant = %+v, want allowed %v for %s", grant, tc.want, app)
			}
			if g := ActualGrant(nil, r, app); g.Allowed {
				t.Errorf("ActualGrant with no policy = %+v, want no grant", g)
			}
		})
	}
}
