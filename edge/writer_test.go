package edge

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/bucketcors/bucketcors/policy"
)

var testGrant = policy.Grant{
	Allowed: true, AllowOrigin: "https://app.example.com", AllowCredentials: true,
	AllowMethods: "GET, PUT", ExposeHeaders: "ETag", MaxAge: "3600",
}

// answers are the ways edge sets CORS headers, each writing one answer to w.
var answers = map[string]func(w http.ResponseWriter){
	"actual request": func(w http.ResponseWriter) {
		g := testGrant
		cw := NewWriter(w, &g, "")
		cw.WriteHeader(http.StatusOK)
		cw.Finish()
	},
	"actual request, origin's Vary": func(w http.ResponseWriter) {
		w.Header()["Vary"] = []string{"Accept-Encoding"}
		g := testGrant
		cw := NewWriter(w, &g, "")
		cw.WriteHeader(http.StatusOK)
		cw.Finish()
	},
	"preflight": func(w http.ResponseWriter) {
		WritePreflight(w, &policy.PreflightResult{Grant: testGrant, AllowHeaders: "content-type, x-amz-date"})
	},
	"refused preflight": func(w http.ResponseWriter) {
		_ = WriteRefusal(w, true, "PUT", "OBJECT")
	},
}

// TestAnswersShareNoHeaderSlices: a later handler (Caddy's `header`
// replace) may edit a header value in place, or append to it. Two answers
// written alike must not change each other, nor one answer's other headers.
func TestAnswersShareNoHeaderSlices(t *testing.T) {
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			first, second := httptest.NewRecorder(), httptest.NewRecorder()
			answer(first)
			answer(second)
			want := first.Header().Clone()
			if len(want) < 3 {
				t.Fatalf("only %d headers written: %v", len(want), want)
			}
			for key, values := range first.Header() {
				for i := range values {
					values[i] = "edited"
				}
				first.Header()[key] = append(values, "appended")
			}
			for key, values := range second.Header() {
				if !slices.Equal(values, want[key]) {
					t.Errorf("%s of the second answer = %q after the first was edited, want %q", key, values, want[key])
				}
			}
			for key, values := range first.Header() {
				edited := slices.Repeat([]string{"edited"}, len(want[key]))
				if !slices.Equal(values, append(edited, "appended")) {
					t.Errorf("%s of the edited answer = %q: an edit or an append ran into another header", key, values)
				}
			}
		})
	}
}
