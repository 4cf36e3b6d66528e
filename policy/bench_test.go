package policy

import (
	"fmt"
	"strings"
	"testing"
)

// benchPolicies are a one-rule policy and a ten-rule one with 50 origins and
// patterns in all (four exact origins and one pattern a rule).
func benchPolicies(b *testing.B) (one, ten, sdk *Policy) {
	one = mustParse(b, `[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "PUT"],
		"AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600}]`)
	methods := []string{`"GET"`, `"GET", "HEAD"`, `"PUT", "POST"`, `"GET", "PUT", "DELETE"`}
	var rules []string
	for i := range 10 {
		var origins []string
		for k := range 4 {
			origins = append(origins, fmt.Sprintf(`"https://site%d-%d.example.com"`, i, k))
		}
		origins = append(origins, fmt.Sprintf(`"https://*.tenant%d.example.net"`, i))
		rules = append(rules, fmt.Sprintf(`{"ID": "rule-%d", "AllowedOrigins": [%s], "AllowedMethods": [%s, "PUT"],
			"AllowedHeaders": ["content-type", "x-amz-*", "x-custom-%d"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}`,
			i, strings.Join(origins, ", "), methods[i%len(methods)], i))
	}
	ten = mustParse(b, "["+strings.Join(rules, ",")+"]")
	sdk = mustParse(b, `[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "PUT", "POST"],
		"AllowedHeaders": ["authorization", "content-type", "x-amz-*", "amz-sdk-*"], "ExposeHeaders": ["ETag"]}]`)
	return one, ten, sdk
}

var (
	browserHeaders = []string{"content-type,x-amz-date"}
	// sdkHeaders is what a browser asks for before an AWS SDK for JavaScript
	// v3 upload: ten names, lower case and sorted, as browsers send them.
	sdkHeaders = []string{"amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-checksum-crc32," +
		"x-amz-content-sha256,x-amz-date,x-amz-sdk-checksum-algorithm,x-amz-security-token,x-amz-user-agent"}
	hugeHeaders = []string{strings.Repeat("x-amz-date,", (1<<20)/len("x-amz-date,"))}
	manyNames   = []string{strings.Repeat("a,", 9999) + "a"}
	hugeOrigin  = "https://" + strings.Repeat("a", 64<<10) + ".example.com"
)

type benchRequest struct {
	name    string
	policy  *Policy
	origin  string
	method  string
	headers []string
	allowed bool
}

func benchRequests(b *testing.B) []benchRequest {
	one, ten, sdk := benchPolicies(b)
	return []benchRequest{
		{"1-rule/allowed", one, "https://app.example.com", "PUT", browserHeaders, true},
		{"sdk/allowed-10-names", sdk, "https://app.example.com", "PUT", sdkHeaders, true},
		{"1-rule/refused-origin", one, "https://evil.example.com", "PUT", browserHeaders, false},
		{"10-rules/allowed-first-rule", ten, "https://site0-2.example.com", "PUT", browserHeaders, true},
		{"10-rules/allowed-last-rule", ten, "https://site9-3.example.com", "PUT", browserHeaders, true},
		{"10-rules/allowed-by-pattern", ten, "https://eu.tenant7.example.net", "PUT", browserHeaders, true},
		{"10-rules/refused-origin", ten, "https://evil.example.com", "PUT", browserHeaders, false},
		{"10-rules/refused-method", ten, "https://site0-1.example.com", "DELETE", browserHeaders, false},
		{"10-rules/refused-header", ten, "https://site5-1.example.com", "PUT", []string{"content-type,x-evil"}, false},
		{"1MiB-headers/allowed-origin", ten, "https://site9-3.example.com", "PUT", hugeHeaders, false},
		{"1MiB-headers/refused-origin", ten, "https://evil.example.com", "PUT", hugeHeaders, false},
		{"10000-names/allowed-origin", ten, "https://site9-3.example.com", "PUT", manyNames, false},
		{"10000-names/refused-origin", ten, "https://evil.example.com", "PUT", manyNames, false},
		{"64KiB-origin/refused", ten, hugeOrigin, "PUT", browserHeaders, false},
	}
}

func BenchmarkPreflight(b *testing.B) {
	for _, req := range benchRequests(b) {
		b.Run(req.name, func(b *testing.B) {
			if got := req.policy.Preflight(req.origin, req.method, req.headers); got.Allowed != req.allowed {
				b.Fatalf("Allowed = %v (%v)", got.Allowed, got.Denied)
			}
			b.ReportAllocs()
			for b.Loop() {
				req.policy.Preflight(req.origin, req.method, req.headers)
			}
		})
	}
}

func BenchmarkActual(b *testing.B) {
	for _, req := range benchRequests(b) {
		if req.headers[0] != browserHeaders[0] {
			continue // an actual request has no Access-Control-Request-Headers
		}
		b.Run(req.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req.policy.Actual(req.origin, req.method)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("bench", []byte(uploads)); err != nil {
			b.Fatal(err)
		}
	}
}
