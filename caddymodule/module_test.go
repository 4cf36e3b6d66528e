package caddymodule

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestJSONConfigMistakesStopTheConfig: a JSON config (written by hand or
// adapted) that Provision or Validate refuses says what is wrong; nothing
// of it is half-loaded.
func TestJSONConfigMistakesStopTheConfig(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   []string
	}{
		{
			name:   "an inline policy that does not validate",
			config: `{"policies": {"assets": [{"AllowedOrigins": ["https://a.example.com/"], "AllowedMethods": ["GET"]}]}}`,
			want:   []string{`policies["assets"]: rule 1: AllowedOrigins[1] "https://a.example.com/": an origin has no path`},
		},
		{
			name:   "an inline policy in another dialect, with a mistake",
			config: `{"policies": {"assets": {"CORSRules": [{"ID": "x", "AllowedOrigins": ["*"], "AllowedMethods": ["OPTIONS"]}]}}}`,
			want:   []string{`policies["assets"]: rule 1 (ID "x")`, "Found unsupported HTTP method"},
		},
		{
			name:   "an inline policy and a policy file for one bucket",
			config: `{"policies": {"media": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}, "policy_files": {"media": "testdata/policies/media.xml"}}`,
			want:   []string{`bucket "media" has both an inline policy and policy_file testdata/policies/media.xml; give each bucket one`},
		},
		{
			name:   "two default policies",
			config: `{"policies": {"*": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}, "policy_files": {"*": "testdata/policies/seed.json"}}`,
			want:   []string{`bucket "*" has both an inline policy and policy_file`},
		},
		{
			name:   "a policy file that is missing",
			config: `{"policy_files": {"assets": "testdata/policies/nope.json"}}`,
			want:   []string{"policy file: open testdata/policies/nope.json"},
		},
		{
			name:   "a policy for something that is no bucket name",
			config: `{"policies": {"my bucket": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}}`,
			want:   []string{`policy for bucket "my bucket": not a bucket name; use the bucket's own name, or "*" for the default policy`},
		},
		{
			name:   "a policy store without endpoint, keys or bucket",
			config: `{"policy_store": {"region": "us-east-1"}}`,
			want: []string{
				`policy_store: endpoint "" is not a URL`,
				"policy_store: access_key and secret_key are both needed",
				"policy_store: bucket is needed",
			},
		},
		{
			name:   "a policy origin whose endpoint is no URL",
			config: `{"policy_origin": {"endpoint": "r2.example.com", "access_key": "a", "secret_key": "b"}}`,
			want:   []string{`policy_origin: endpoint "r2.example.com" is not a URL; give the S3 API's base URL`},
		},
		{
			name:   "mistakes in several places are reported together",
			config: `{"policies": {"assets": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}, "policy_files": {"media": "testdata/policies/slash-origin.json"}}`,
			want:   []string{`policies["assets"]: rule 1`, "testdata/policies/slash-origin.json: rule 1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := new(Handler)
			if err := json.Unmarshal([]byte(tc.config), h); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := newTestContext()
			defer cancel()
			err := h.Provision(ctx)
			if err == nil {
				defer h.Cleanup()
				err = h.Validate()
			}
			if err == nil {
				t.Fatalf("config accepted: %s", tc.config)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q:\n%v", want, err)
				}
			}
		})
	}
}

// TestPoliciesOfEveryDialectAndSource: inline JSON of each dialect and
// policy files of each format (the R2 seed with its trailing comma among
// them) all answer for their buckets.
func TestPoliciesOfEveryDialectAndSource(t *testing.T) {
	h := new(Handler)
	config := `{
		"policies": {
			"r2": [{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}],
			"aws": {"CORSRules": [{"ID": "a", "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}]},
			"wrangler": {"rules": [{"id": "w", "allowed": {"origins": ["https://app.example.com"], "methods": ["GET"]}}]}
		},
		"policy_files": {
			"seed": "testdata/policies/seed.json",
			"media": "testdata/policies/media.xml"
		}
	}`
	if err := json.Unmarshal([]byte(config), h); err != nil {
		t.Fatal(err)
	}
	provision(t, h)

	for bucket, origin := range map[string]string{
		"r2": appOrigin, "aws": appOrigin, "wrangler": appOrigin,
		"seed": "http://localhost:3000", "media": "https://player.example.com",
	} {
		t.Run(bucket, func(t *testing.T) {
			req := newRequest(t, http.MethodOptions, "http://proxy.example/"+bucket+"/key", "Origin", origin, "Access-Control-Request-Method", "GET")
			rec, err := serveRecorded(h, req, mustNotRun(t))
			if err != nil {
				t.Fatal(err)
			}
			if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("status %d, Access-Control-Allow-Origin %q; want 200 and %s", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"), origin)
			}
		})
	}
}
