package caddymodule

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// adminExplanation is the answer of POST /bucket_cors/explain.
type adminExplanation struct {
	Bucket  string `json:"bucket"`
	Request struct {
		Origin  string   `json:"origin"`
		Method  string   `json:"method"`
		Headers []string `json:"headers"`
		Actual  bool     `json:"actual"`
	} `json:"request"`
	Handlers []struct {
		Mode        string          `json:"mode"`
		Source      string          `json:"source"`
		Version     string          `json:"version"`
		AgeSeconds  float64         `json:"age_seconds"`
		Warnings    []string        `json:"warnings"`
		Policy      json.RawMessage `json:"policy"`
		Explanation struct {
			Verdict   string `json:"verdict"`
			Preflight bool   `json:"preflight"`
			Allowed   bool   `json:"allowed"`
			Rule      int    `json:"rule"`
			RuleID    string `json:"ruleId"`
			Status    int    `json:"status"`
			Headers   []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"headers"`
			Body string `json:"body"`
		} `json:"explanation"`
	} `json:"handlers"`
}

// explainByAdmin posts body to the admin explain and decodes its answer.
func explainByAdmin(t *testing.T, body string) adminExplanation {
	t.Helper()
	rec, err := callAdminWith(t, http.MethodPost, "/bucket_cors/explain", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST explain %s: %v", body, err)
	}
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("POST explain %s: status %d, Content-Type %q", body, rec.Code, rec.Header().Get("Content-Type"))
	}
	var ans adminExplanation
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		t.Fatalf("POST explain %s: %v\n%s", body, err, rec.Body)
	}
	if len(ans.Handlers) != 1 {
		t.Fatalf("POST explain %s: %d handlers answered, want one\n%s", body, len(ans.Handlers), rec.Body)
	}
	return ans
}

// TestAdminExplainJudgesByTheLivePolicy: the admin explain gives, for the
// policy a bucket gets right now, the CLI's verdict and answer, with the
// policy's source, version, age and warnings.
func TestAdminExplainJudgesByTheLivePolicy(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	slash, err := os.ReadFile(filepath.Join("testdata", "policies", "slash-origin.json"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "static.json", string(slash))
	modified := time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "static.json"), modified, modified); err != nil {
		t.Fatal(err)
	}
	handlerAt(t, clock, `bucket_cors {
	`+assetsPolicy+`
	policy_dir `+dir+`
	cache {
		ttl 30s
	}
}`)
	explainByAdmin(t, `{"bucket": "static", "origin": "https://static.example.com", "method": "GET"}`) // loads it now
	clock.Advance(12 * time.Second)

	tests := []struct {
		name        string
		body        string
		wantSource  string
		wantVersion string
		wantAge     float64 // -1: the age of a policy read at provision
		wantVerdict string
		wantStatus  int    // 0: an actual request, answered by the origin
		wantOrigin  string // the Access-Control-Allow-Origin of the answer, "" for none
		wantWarning string // a substring of the one warning, "" for none
	}{
		{
			name:        "a preflight the first rule allows",
			body:        `{"bucket": "assets", "origin": "https://app.example.com", "method": "PUT", "headers": ["content-type"]}`,
			wantSource:  "policies",
			wantAge:     -1,
			wantVerdict: `rule 1 ("web") allowed`,
			wantStatus:  http.StatusOK,
			wantOrigin:  appOrigin,
		},
		{
			name:        "a preflight no rule allows",
			body:        `{"bucket": "assets", "origin": "https://evil.example.net", "method": "PUT", "actual": false}`,
			wantSource:  "policies",
			wantAge:     -1,
			wantVerdict: `refused: rule 1 ("web"): origin https://evil.example.net not listed; rule 2 ("public-read"): method PUT not allowed`,
			wantStatus:  http.StatusForbidden,
		},
		{
			name:        "an actual request the public rule allows",
			body:        `{"bucket": "assets", "origin": "https://evil.example.net", "method": "GET", "actual": true}`,
			wantSource:  "policies",
			wantAge:     -1,
			wantVerdict: `rule 2 ("public-read") allowed`,
			wantOrigin:  "*",
		},
		{
			name:        "a policy read from policy_dir, with its version, age and warning",
			body:        `{"bucket": "static", "origin": "https://static.example.com", "method": "GET"}`,
			wantSource:  "policy_dir",
			wantVersion: strconv.Itoa(len(slash)) + "@2026-02-01T08:30:00.000000000Z",
			wantAge:     12,
			wantVerdict: `refused: rule 1 ("static"): origin https://static.example.com not listed`,
			wantStatus:  http.StatusForbidden,
			wantWarning: `"https://static.example.com/"`,
		},
		{
			name:        "a bucket without a policy",
			body:        `{"bucket": "photos", "origin": "https://app.example.com", "method": "GET"}`,
			wantSource:  "none",
			wantVerdict: "refused: the bucket has no CORS policy",
			wantStatus:  http.StatusForbidden,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ans := explainByAdmin(t, tc.body)
			var sent explainRequest
			if err := json.Unmarshal([]byte(tc.body), &sent); err != nil {
				t.Fatal(err)
			}
			if ans.Bucket != sent.Bucket || ans.Request.Origin != sent.Origin || ans.Request.Method != sent.Method ||
				!reflect.DeepEqual(ans.Request.Headers, sent.Headers) || ans.Request.Actual != sent.Actual {
				t.Errorf("the answer names bucket %q and request %+v; want those sent: %s", ans.Bucket, ans.Request, tc.body)
			}
			got := ans.Handlers[0]
			if got.Mode != ModeEnforce {
				t.Errorf("mode = %q, want enforce", got.Mode)
			}
			if got.Source != tc.wantSource || got.Version != tc.wantVersion {
				t.Errorf("source %q, version %q; want %q, %q", got.Source, got.Version, tc.wantSource, tc.wantVersion)
			}
			if tc.wantAge >= 0 && got.AgeSeconds != tc.wantAge {
				t.Errorf("age = %vs, want %vs", got.AgeSeconds, tc.wantAge)
			}
			if tc.wantAge < 0 && (got.AgeSeconds < 0 || got.AgeSeconds > testTimeout.Seconds()) {
				t.Errorf("age = %vs, want the time since the handler was provisioned", got.AgeSeconds)
			}
			switch {
			case tc.wantWarning == "" && len(got.Warnings) > 0:
				t.Errorf("warnings %q, want none", got.Warnings)
			case tc.wantWarning != "" && (len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], tc.wantWarning)):
				t.Errorf("warnings %q, want one that names %s", got.Warnings, tc.wantWarning)
			}
			if (tc.wantSource == "none") != (string(got.Policy) == "null") {
				t.Errorf("policy = %s for source %q", got.Policy, got.Source)
			}
			e := got.Explanation
			if e.Verdict != tc.wantVerdict || e.Allowed != (tc.wantOrigin != "") {
				t.Errorf("verdict %q (allowed %v), want %q", e.Verdict, e.Allowed, tc.wantVerdict)
			}
			if e.Preflight != !sent.Actual || e.Status != tc.wantStatus {
				t.Errorf("preflight %v, status %d; want %v, %d", e.Preflight, e.Status, !sent.Actual, tc.wantStatus)
			}
			allowOrigin := ""
			for _, h := range e.Headers {
				if h.Name == "Access-Control-Allow-Origin" {
					allowOrigin = h.Value
				}
			}
			if allowOrigin != tc.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q; headers %+v", allowOrigin, tc.wantOrigin, e.Headers)
			}
			if (tc.wantStatus == http.StatusForbidden) != strings.Contains(e.Body, "<Code>AccessForbidden</Code>") {
				t.Errorf("body %q for status %d", e.Body, e.Status)
			}
		})
	}
}

// TestAdminExplainNamesTheMode: a report_only handler says so, so that an
// operator knows the verdict is not enforced.
func TestAdminExplainNamesTheMode(t *testing.T) {
	handlerFromCaddyfile(t, "bucket_cors {\n"+assetsPolicy+"\nmode report_only\n}")
	got := explainByAdmin(t, `{"bucket": "assets", "origin": "https://evil.example.net", "method": "PUT"}`).Handlers[0]
	if got.Mode != ModeReportOnly || got.Explanation.Allowed {
		t.Errorf("mode %q, allowed %v; want report_only and a refusal", got.Mode, got.Explanation.Allowed)
	}
}

// TestAdminExplainRefusesWrongRequests: a request the explain cannot judge
// is an API error with the status and words that say what to send.
func TestAdminExplainRefusesWrongRequests(t *testing.T) {
	handlerFromCaddyfile(t, "bucket_cors {\n"+assetsPolicy+"\n}")
	tests := []struct {
		name       string
		method     string
		body       string
		wantStatus int
		want       string
	}{
		{"GET", http.MethodGet, "", http.StatusMethodNotAllowed, "use POST"},
		{"no body", http.MethodPost, "", http.StatusBadRequest, "not an explain request"},
		{"not JSON", http.MethodPost, "bucket=assets", http.StatusBadRequest, "not an explain request"},
		{"a misspelt field", http.MethodPost, `{"bucket": "assets", "header": ["x"]}`, http.StatusBadRequest, `unknown field "header"`},
		{"headers as one string", http.MethodPost, `{"bucket": "assets", "headers": "a, b"}`, http.StatusBadRequest, "not an explain request"},
		{"two objects", http.MethodPost, `{"bucket": "assets"} {}`, http.StatusBadRequest, "more than one JSON object"},
		{"no bucket", http.MethodPost, `{"origin": "https://app.example.com", "method": "GET"}`, http.StatusBadRequest, `"bucket" is missing`},
		{"a bucket name with a slash", http.MethodPost, `{"bucket": "a/b", "method": "GET"}`, http.StatusBadRequest, `"a/b" is not a bucket name`},
		{"an actual request without method", http.MethodPost, `{"bucket": "assets", "actual": true}`, http.StatusBadRequest, `"actual" needs "method"`},
		{"a body too large", http.MethodPost, `{"bucket": "assets", "origin": "` + strings.Repeat("a", maxExplainBody) + `"}`, http.StatusBadRequest, "over 65536 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := callAdminWith(t, tc.method, "/bucket_cors/explain", strings.NewReader(tc.body))
			var apiErr caddy.APIError
			if !errors.As(err, &apiErr) || apiErr.HTTPStatus != tc.wantStatus {
				t.Fatalf("error = %#v, want an APIError with status %d", err, tc.wantStatus)
			}
			if !strings.Contains(apiErr.Err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", apiErr.Err, tc.want)
			}
		})
	}
}
