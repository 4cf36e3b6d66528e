package policy

import (
	"strings"
	"testing"
)

// advice is one Problem that Lint should give: where, and words its reason
// holds.
type advice struct {
	rule         int
	field, value string
	says         string
}

func TestLint(t *testing.T) {
	// quiet rules draw no advice; each case changes one thing.
	const (
		reader = `{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "HEAD"]}`
		upload = `{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT", "GET", "HEAD"],
			"AllowedHeaders": ["*"], "ExposeHeaders": ["ETag", "x-amz-checksum-crc32"]}`
	)
	tests := []struct {
		name string
		doc  string
		want []advice
	}{
		{"quiet rules", `[` + reader + `,` + upload + `]`, nil},

		// A * right under a public suffix.
		{"* under a private public suffix",
			`[{"AllowedOrigins": ["https://app.example.com", "https://*.vercel.app"], "AllowedMethods": ["GET", "HEAD"]}]`,
			[]advice{{1, "AllowedOrigins[2]", "https://*.vercel.app", "every site under vercel.app, a public suffix"}}},
		{"* under a two-label ICANN suffix, and a port",
			`[{"AllowedOrigins": ["https://*.co.uk", "https://*.github.io:8443"], "AllowedMethods": ["GET", "HEAD"]}]`,
			[]advice{
				{1, "AllowedOrigins[1]", "https://*.co.uk", "every site under co.uk"},
				{1, "AllowedOrigins[2]", "https://*.github.io:8443", "every site under github.io"},
			}},
		{"* under a top-level domain",
			`[{"AllowedOrigins": ["https://*.com"], "AllowedMethods": ["GET", "HEAD"]}]`,
			[]advice{{1, "AllowedOrigins[1]", "https://*.com", "every site under com"}}},
		{"* under one's own domain, a local name, or a site on a public suffix",
			`[{"AllowedOrigins": ["https://*.example.com", "https://*.example.co.uk", "http://*.localhost",
				"https://app.vercel.app", "https://*"], "AllowedMethods": ["GET", "HEAD"]}]`,
			nil},

		// A rule that an earlier one covers.
		{"an earlier * rule covers everything",
			`[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"]},
			  {"ID": "late", "AllowedOrigins": ["https://a.example.com"], "AllowedMethods": ["GET"], "AllowedHeaders": ["range"]}]`,
			[]advice{{2, "", "", "rule 1 allows every request that this rule allows"}}},
		{"a pattern covers exact origins and a narrower pattern; x-amz-* covers X-Amz-Date",
			`[{"ID": "wide", "AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["PUT", "GET", "HEAD"],
				"AllowedHeaders": ["x-amz-*", "content-type"], "ExposeHeaders": ["ETag", "x-amz-checksum-crc32"]},
			  {"AllowedOrigins": ["https://app.example.com", "https://*.cdn.example.com"], "AllowedMethods": ["GET"],
				"AllowedHeaders": ["X-Amz-Date"]}]`,
			[]advice{
				{1, "AllowedHeaders", "", "asks for amz-sdk-invocation-id, amz-sdk-request, authorization,"},
				{2, "", "", `rule 1 (ID "wide") allows every request`},
			}},
		{"a later rule with a method, a header or an origin of its own is reachable",
			`[{"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["range"]},
			  {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "HEAD", "DELETE"]},
			  {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["range", "if-match"]},
			  {"AllowedOrigins": ["https://example.com"], "AllowedMethods": ["GET", "HEAD"]},
			  {"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"]}]`,
			nil},

		// MaxAgeSeconds.
		{"MaxAgeSeconds past Chromium's cap",
			`[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "HEAD"], "MaxAgeSeconds": 7201}]`,
			[]advice{{1, "MaxAgeSeconds", "7201", "Chromium caches a preflight answer for 2 hours"}}},
		{"MaxAgeSeconds at Chromium's cap, or past S3's limit (validation's)",
			`[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "HEAD"], "MaxAgeSeconds": 7200},
			  {"AllowedOrigins": ["https://b.example.com"], "AllowedMethods": ["GET", "HEAD"], "MaxAgeSeconds": 86401}]`,
			nil},

		// GET without HEAD.
		{"GET without HEAD",
			`[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["DELETE", "GET"]}]`,
			[]advice{{1, "AllowedMethods[2]", "GET", "HEAD is not"}}},
		{"HEAD without GET, or neither",
			`[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["HEAD"]},
			  {"AllowedOrigins": ["https://b.example.com"], "AllowedMethods": ["DELETE"]}]`,
			nil},

		// What aws-sdk-js v3 reads from an upload's answer.
		{"PUT without ETag or the CRC32 checksum exposed",
			`[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["*"],
				"ExposeHeaders": ["x-amz-version-id"]}]`,
			[]advice{
				{1, "ExposeHeaders", "", "PUT is allowed but ETag is not exposed"},
				{1, "ExposeHeaders", "", "PUT is allowed but x-amz-checksum-crc32 is not exposed"},
			}},
		{"POST with the CRC32 checksum but not ETag",
			`[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["POST"], "AllowedHeaders": ["*"],
				"ExposeHeaders": ["X-Amz-Checksum-CRC32"]}]`,
			[]advice{{1, "ExposeHeaders", "", "POST is allowed but ETag is not exposed"}}},
		{"exposed in any case",
			`[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["*"],
				"ExposeHeaders": ["etag", "X-AMZ-CHECKSUM-CRC32"]}]`,
			nil},

		// What aws-sdk-js v3 sends with an upload.
		{"x-amz-* without authorization or amz-sdk-*",
			`[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["Content-Type", "X-Amz-*"],
				"ExposeHeaders": ["ETag", "x-amz-checksum-crc32"]}]`,
			[]advice{{1, "AllowedHeaders", "",
				"asks for amz-sdk-invocation-id, amz-sdk-request, authorization, which this rule does not allow"}}},
		{"the four patterns, or *, allow them all",
			`[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT"],
				"AllowedHeaders": ["authorization", "content-type", "x-amz-*", "amz-sdk-*"],
				"ExposeHeaders": ["ETag", "x-amz-checksum-crc32"]},
			  {"AllowedOrigins": ["https://b.example.com"], "AllowedMethods": ["POST"], "AllowedHeaders": ["*"],
				"ExposeHeaders": ["ETag", "x-amz-checksum-crc32"]}]`,
			nil},

		// Plain http next to https.
		{"http next to https",
			`[{"AllowedOrigins": ["https://app.example.com", "http://app.example.com", "http://*.example.com"], "AllowedMethods": ["GET", "HEAD"]}]`,
			[]advice{
				{1, "AllowedOrigins[2]", "http://app.example.com", "a plain-http origin in a rule that also allows https ones"},
				{1, "AllowedOrigins[3]", "http://*.example.com", "a plain-http origin"},
			}},
		{"http on this machine next to https, or http alone",
			`[{"AllowedOrigins": ["https://app.example.com", "http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:5173",
				"http://app.localhost"], "AllowedMethods": ["GET", "HEAD"]},
			  {"AllowedOrigins": ["http://intranet.example"], "AllowedMethods": ["GET", "HEAD"]}]`,
			nil},

		// Advice speaks the document's dialect.
		{"wrangler's field names",
			`{"rules": [{"id": "up", "allowed": {"origins": ["https://app.example.com"], "methods": ["PUT", "GET", "HEAD"], "headers": ["*"]},
				"exposeHeaders": ["ETag", "x-amz-checksum-crc32"], "maxAgeSeconds": 86400}]}`,
			[]advice{{1, "maxAgeSeconds", "86400", "Chromium"}}},
		{"S3 XML's field names",
			`<CORSConfiguration><CORSRule><AllowedOrigin>https://*.vercel.app</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`,
			[]advice{
				{1, "AllowedOrigin[1]", "https://*.vercel.app", "public suffix"},
				{1, "AllowedMethod[1]", "GET", "HEAD is not"},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Decode("cors.json", []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			got := Lint(doc)
			for i, p := range got {
				if i >= len(tc.want) {
					t.Errorf("unexpected advice: %+v", p)
					continue
				}
				w := tc.want[i]
				if p.Rule != w.rule || p.Field != w.field || p.Value != w.value || !strings.Contains(p.Reason, w.says) || !p.Warning {
					t.Errorf("advice %d = %+v\nwant rule %d, field %q, value %q, saying %q, a warning", i, p, w.rule, w.field, w.value, w.says)
				}
			}
			for _, w := range tc.want[min(len(got), len(tc.want)):] {
				t.Errorf("missing advice: %+v", w)
			}
		})
	}
}

// TestLintRendering: advice renders as a validation problem does, one line
// naming the document, the rule, the field and the value, with its fix.
func TestLintRendering(t *testing.T) {
	doc, err := Decode("cors.json", []byte(`{"CORSRules": [{"ID": "web", "AllowedOrigins": ["https://*.vercel.app"],
		"AllowedMethods": ["PUT", "GET", "HEAD"], "AllowedHeaders": ["content-type"], "ExposeHeaders": ["ETag", "x-amz-checksum-crc32"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split((&ValidationError{Name: "cors.json", Problems: Lint(doc)}).Error(), "\n")
	want := []string{
		`cors.json: rule 1 (ID "web"): AllowedOrigins[1] "https://*.vercel.app": the * stands for every site under vercel.app, ` +
			`a public suffix where anyone can register a name; list your own sites instead, such as "https://myapp.vercel.app"`,
		`cors.json: rule 1 (ID "web"): AllowedHeaders: the preflight of a PUT by aws-sdk-js v3 asks for amz-sdk-invocation-id, ` +
			`amz-sdk-request, authorization, x-amz-checksum-crc32, x-amz-content-sha256, x-amz-date, x-amz-sdk-checksum-algorithm, ` +
			`x-amz-security-token, x-amz-user-agent, which this rule does not allow; if pages upload with the SDK, ` +
			`add "authorization", "x-amz-*", "amz-sdk-*" to AllowedHeaders, or allow "*"`,
	}
	if len(lines) != len(want) {
		t.Fatalf("Lint gave\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		// The other words a renderer may add to a warning are its own.
		if !strings.Contains(lines[i], strings.TrimPrefix(want[i], "cors.json: ")) {
			t.Errorf("line %d =\n%s\nwant\n%s", i+1, lines[i], want[i])
		}
	}
}

// TestLintLeavesOPTIONSToValidation: OPTIONS in AllowedMethods is what S3
// refuses, so validation reports it and Lint does not repeat it.
func TestLintLeavesOPTIONSToValidation(t *testing.T) {
	doc, err := Decode("cors.json", []byte(`[{"AllowedOrigins": ["https://a.example.com"], "AllowedMethods": ["OPTIONS", "HEAD"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate("cors.json"); err == nil || !strings.Contains(err.Error(), "unsupported HTTP method") {
		t.Errorf("Validate = %v, want the unsupported method", err)
	}
	if got := Lint(doc); len(got) != 0 {
		t.Errorf("Lint = %+v, want nothing", got)
	}
}

func TestPatternCovers(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"*", "*", true},
		{"*", "x-amz-date", true},
		{"x-amz-*", "*", false},
		{"X-Amz-*", "x-amz-date", true},
		{"x-amz-*", "x-amz-", false}, // * stands for one character or more
		{"x-amz-*", "x-amz-meta-*", true},
		{"x-amz-meta-*", "x-amz-*", false},
		{"*-id", "amz-sdk-invocation-id", true},
		{"https://*.example.com", "https://example.com", false},
		{"https://*.example.com", "https://a.b.example.com", true},
		{"https://*.example.com", "https://*.b.example.com", true},
		{"https://*.example.com", "https://*example.com", false},
		{"https://a.example.com", "https://A.Example.com", true},
		{"https://*.example.com", "http://a.example.com", false},
	}
	for _, tc := range tests {
		if got := patternCovers(tc.pattern, tc.value); got != tc.want {
			t.Errorf("patternCovers(%q, %q) = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
}
