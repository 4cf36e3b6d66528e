package policy

import (
	"testing"
)

// TestS3RecordedAnswers replays answers that AWS S3 gave, as LocalStack's
// S3 CORS snapshot tests (tests/aws/services/s3/test_s3_cors.py, validated
// against AWS) recorded them: each case names the test and the snapshot.
func TestS3RecordedAnswers(t *testing.T) {
	const (
		localhost4200 = `{"CORSRules": [{"AllowedOrigins": ["https://localhost:4200"], "AllowedMethods": ["GET", "PUT"],
			"MaxAgeSeconds": 3000, "AllowedHeaders": ["*"]}]}`
		anyOrigin = `{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT"],
			"MaxAgeSeconds": 3000, "AllowedHeaders": ["*"]}]}`
		getOnly = `{"CORSRules": [{"AllowedOrigins": ["https://localhost:4200"], "AllowedMethods": ["GET"],
			"MaxAgeSeconds": 3000, "AllowedHeaders": ["*"]}]}`
		namedHeaders = `{"CORSRules": [{"AllowedOrigins": ["https://localhost:4200"], "AllowedMethods": ["GET"], "MaxAgeSeconds": 3000,
			"AllowedHeaders": ["x-amz-expected-bucket-owner", "x-amz-server-side-encryption-customer-algorithm", "x-AMZ-server-SIDE-encryption"]}]}`
		exposing = `{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"],
			"ExposeHeaders": ["x-amz-id-2", "x-amz-request-id", "x-amz-request-payer"]}]}`
		defaults     = `{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}`
		partial      = `{"CORSRules": [{"AllowedOrigins": ["http://*.origin.com"], "AllowedMethods": ["GET", "PUT"], "MaxAgeSeconds": 3000}]}`
		underscoreIn = `{"CORSRules": [{"AllowedOrigins": ["http://my_host.internal:8080"], "AllowedMethods": ["GET"]}]}`
	)
	granted := func(origin, methods, maxAge string) Grant {
		return Grant{Allowed: true, RuleIndex: 1, AllowOrigin: origin, AllowCredentials: origin != "*", AllowMethods: methods, MaxAge: maxAge}
	}
	tests := []struct {
		name, policy           string
		origin, method, header string
		want                   PreflightResult
	}{
		{"match_origins opt-right-origin", localhost4200, "https://localhost:4200", "PUT", "",
			PreflightResult{Grant: granted("https://localhost:4200", "GET, PUT", "3000")}},
		{"match_origins opt-wrong-origin", localhost4200, "http://localhost:4200", "PUT", "", denied(DeniedOrigin)},
		{"match_origins opt-random-wildcard-origin", anyOrigin, "http://random:1234", "PUT", "",
			PreflightResult{Grant: granted("*", "GET, PUT", "3000")}},
		{"match_methods opt-get", getOnly, "https://localhost:4200", "GET", "",
			PreflightResult{Grant: granted("https://localhost:4200", "GET", "3000")}},
		{"match_methods opt-put", getOnly, "https://localhost:4200", "PUT", "", denied(DeniedMethod)},
		{"match_headers opt-get", getOnly, "https://localhost:4200", "GET", "x-amz-request-payer",
			PreflightResult{Grant: granted("https://localhost:4200", "GET", "3000"), AllowHeaders: "x-amz-request-payer"}},
		{"match_headers opt-get-two", getOnly, "https://localhost:4200", "GET", "x-amz-request-payer, x-amz-expected-bucket-owner",
			PreflightResult{Grant: granted("https://localhost:4200", "GET", "3000"), AllowHeaders: "x-amz-request-payer, x-amz-expected-bucket-owner"}},
		{"match_headers opt-get-non-allowed", namedHeaders, "https://localhost:4200", "GET", "x-amz-request-payer",
			PreflightResult{Grant: Grant{Denied: DeniedHeader}, DeniedHeader: "x-amz-request-payer"}},
		{"match_headers opt-get-allowed", namedHeaders, "https://localhost:4200", "GET", "x-amz-expected-bucket-owner",
			PreflightResult{Grant: granted("https://localhost:4200", "GET", "3000"), AllowHeaders: "x-amz-expected-bucket-owner"}},
		{"match_headers opt-get-allowed-diff-casing", namedHeaders, "https://localhost:4200", "GET", "x-amz-expected-bucket-owner, x-amz-server-side-encryption",
			PreflightResult{Grant: granted("https://localhost:4200", "GET", "3000"), AllowHeaders: "x-amz-expected-bucket-owner, x-amz-server-side-encryption"}},
		{"expose_headers opt-get: Origin localhost:4566", exposing, "localhost:4566", "GET", "",
			PreflightResult{Grant: Grant{Allowed: true, RuleIndex: 1, AllowOrigin: "*", AllowMethods: "GET",
				ExposeHeaders: "x-amz-id-2, x-amz-request-id, x-amz-request-payer"}}},
		{"put_cors_default_values opt-get", defaults, "localhost:4566", "GET", "",
			PreflightResult{Grant: granted("*", "GET", "")}},
		{"put_cors_default_values opt-get-headers", defaults, "localhost:4566", "GET", "x-amz-request-payer",
			PreflightResult{Grant: Grant{Denied: DeniedHeader}, DeniedHeader: "x-amz-request-payer"}},
		{"options_match_partial_origin", partial, "http://test.origin.com", "GET", "",
			PreflightResult{Grant: granted("http://test.origin.com", "GET, PUT", "3000")}},
		{"options_fails_partial_origin", partial, "http://test.origin.com/", "GET", "", denied(DeniedOrigin)},
		{"an origin with _ in its host, as browsers send it", underscoreIn, "http://my_host.internal:8080", "GET", "",
			PreflightResult{Grant: granted("http://my_host.internal:8080", "GET", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("recorded", []byte(tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			if tt.header != "" {
				lines = []string{tt.header}
			}
			if got := p.Preflight(tt.origin, tt.method, lines); got != tt.want {
				t.Errorf("Preflight(%q, %q, %q) =\n%+v\nAWS answered\n%+v", tt.origin, tt.method, lines, got, tt.want)
			}
		})
	}
}

// TestS3RecordedEmptyOrigin: PutBucketCors accepts AllowedOrigins [""] and
// GetBucketCors gives it back (test_put_cors_empty_origin). Compile keeps it
// with a warning; CompileStrict refuses it.
func TestS3RecordedEmptyOrigin(t *testing.T) {
	const doc = `{"CORSRules": [{"AllowedOrigins": [""], "AllowedMethods": ["GET", "PUT", "HEAD"]}]}`
	const message = `bucket: rule 1: AllowedOrigins[1] "": an origin is empty; write scheme://host[:port], such as "https://example.com", or "*"`
	p, err := Parse("bucket", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Warnings(); got == nil || got.Error() != message || !got.Problems[0].Warning {
		t.Errorf("Warnings() = %v", got)
	}
	if got := p.Document().Rules[0].AllowedOrigins; len(got) != 1 || got[0] != "" {
		t.Errorf("the document kept AllowedOrigins %q", got)
	}
	xml, err := p.Document().MarshalS3XML()
	if err != nil {
		t.Fatal(err)
	}
	if again, err := Parse("again", xml); err != nil || again.Document().Rules[0].AllowedOrigins[0] != "" {
		t.Errorf("GetBucketCors's XML read back: %v", err)
	}
	for _, origin := range []string{"", "https://a.example", "null"} {
		if got := p.Actual(origin, "GET"); got.Allowed {
			t.Errorf("the empty entry allowed Origin %q", origin)
		}
	}
	if _, err := ParseStrict("bucket", []byte(doc)); err == nil || err.Error() != message {
		t.Errorf("ParseStrict error = %v, want %s", err, message)
	}
}

// TestS3RecordedRefusals: what PutBucketCors refused (test_put_cors_invalid_rules)
// Compile refuses too.
func TestS3RecordedRefusals(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"CORSRules": [{"AllowedOrigins": ["*", "https://test.com"], "AllowedMethods": ["GET", "PUT", "HEAD", "MYMETHOD"]}]}`,
			`bucket: rule 1: AllowedMethods[4] "MYMETHOD": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; remove it, or use one of GET, PUT, POST, DELETE, HEAD`},
		{`{"CORSRules": []}`,
			`bucket: CORSRules: a document has at least one rule; add a rule, such as {"AllowedOrigins": ["https://example.com"], "AllowedMethods": ["GET"]}`},
	}
	for _, tt := range tests {
		if _, err := Parse("bucket", []byte(tt.doc)); err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%s) error =\n%v\nwant\n%s", tt.doc, err, tt.want)
		}
	}
}
