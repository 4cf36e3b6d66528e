package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// r2Rule writes an R2 document of one rule from its fields' JSON.
func r2Rule(fields string) string { return "[{" + fields + "}]" }

// TestValidateErrors lists invalid documents with the whole message each
// must produce: document, rule, field in the document's dialect, value,
// reason and fix.
func TestValidateErrors(t *testing.T) {
	const get = `"AllowedMethods": ["GET"]`
	const any = `"AllowedOrigins": ["*"]`
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"no rules", `[]`,
			`cors.json: a document has at least one rule; add a rule, such as {"AllowedOrigins": ["https://example.com"], "AllowedMethods": ["GET"]}`},
		{"no rules, AWS", `{"CORSRules": []}`,
			`cors.json: CORSRules: a document has at least one rule; add a rule, such as {"AllowedOrigins": ["https://example.com"], "AllowedMethods": ["GET"]}`},
		{"101 rules", "[" + strings.Repeat(`{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},`, 101) + "]",
			`cors.json: the document has 101 rules; S3 allows at most 100; merge rules that allow the same methods and headers`},
		{"no origin", r2Rule(`"ID": "site", ` + get),
			`cors.json: rule 1 (ID "site"): AllowedOrigins: a rule allows at least one origin; add one, such as "https://example.com", or "*" for any`},
		{"no method", r2Rule(any),
			`cors.json: rule 1: AllowedMethods: a rule allows at least one method; add some of GET, PUT, POST, DELETE, HEAD`},
		{"origin with trailing slash", r2Rule(`"AllowedOrigins": ["https://static.example.com/"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://static.example.com/": an origin has no path; drop the trailing "/": use "https://static.example.com"`},
		{"origin with a path", r2Rule(`"AllowedOrigins": ["https://a.example", "https://static.example.com/fonts/Calibri.woff2"], ` + get),
			`cors.json: rule 1: AllowedOrigins[2] "https://static.example.com/fonts/Calibri.woff2": an origin has no path; drop "/fonts/Calibri.woff2": use "https://static.example.com"`},
		{"origin with a query", r2Rule(`"AllowedOrigins": ["https://a.example?x=1"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://a.example?x=1": an origin has no query; drop "?x=1": use "https://a.example"`},
		{"origin with a fragment", r2Rule(`"AllowedOrigins": ["https://a.example#top"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://a.example#top": an origin has no fragment; drop "#top": use "https://a.example"`},
		{"origin with user info", r2Rule(`"AllowedOrigins": ["https://user:pw@a.example"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://user:pw@a.example": an origin has no user name or password; use "https://a.example"`},
		{"origin without scheme", r2Rule(`"AllowedOrigins": ["static.example.com"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "static.example.com": an origin starts with a scheme and ://; use "https://static.example.com"`},
		{"localhost without scheme", r2Rule(`"AllowedOrigins": ["localhost:3000"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "localhost:3000": an origin starts with a scheme and ://; use "http://localhost:3000"`},
		{"origin with two stars", r2Rule(`"AllowedOrigins": ["https://*.*.example.com"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://*.*.example.com": an origin has at most one *; keep one, such as "https://*.example.com"`},
		{"empty origin", r2Rule(`"AllowedOrigins": [""], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "": an origin is empty; write scheme://host[:port], such as "https://example.com", or "*"`},
		{"origin with spaces", r2Rule(`"AllowedOrigins": [" https://a.example "], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] " https://a.example ": an origin has spaces around it; use "https://a.example"`},
		{"null origin", r2Rule(`"AllowedOrigins": ["null"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "null": the "null" origin is sent by sandboxed frames and local files of any site; remove it`},
		{"origin with empty port", r2Rule(`"AllowedOrigins": ["http://localhost:"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "http://localhost:": a port is a number after the colon; drop the ":": use "http://localhost"`},
		{"origin with a big port", r2Rule(`"AllowedOrigins": ["http://localhost:70000"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "http://localhost:70000": a port is at most 65535; write scheme://host[:port], such as "https://example.com", or "*"`},
		{"origin with underscore", r2Rule(`"AllowedOrigins": ["https://my_site.example"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://my_site.example": a host has letters, digits, - and . only, not '_'; a browser never sends this origin; write the host as it appears in the address bar`},
		{"origin with unicode host", r2Rule(`"AllowedOrigins": ["https://bücher.example"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://bücher.example": a host is written in ASCII, as browsers send it; write the name in its punycode form (xn--...)`},
		{"origin without host", r2Rule(`"AllowedOrigins": ["https://"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://": an origin names a host; write scheme://host[:port], such as "https://example.com", or "*"`},
		{"lower-case method", r2Rule(any + `, "AllowedMethods": ["get"]`),
			`cors.json: rule 1: AllowedMethods[1] "get": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; write it as "GET"`},
		{"PATCH", r2Rule(any + `, "AllowedMethods": ["GET", "PATCH"]`),
			`cors.json: rule 1: AllowedMethods[2] "PATCH": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; remove it, or use one of GET, PUT, POST, DELETE, HEAD`},
		{"OPTIONS", r2Rule(any + `, "AllowedMethods": ["OPTIONS"]`),
			`cors.json: rule 1: AllowedMethods[1] "OPTIONS": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; remove it: preflights are answered for the rule's other methods`},
		{"method star", r2Rule(any + `, "AllowedMethods": ["*"]`),
			`cors.json: rule 1: AllowedMethods[1] "*": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; list the methods instead: GET, PUT, POST, DELETE, HEAD`},
		{"header with two stars", r2Rule(any + `, ` + get + `, "AllowedHeaders": ["x-*-*"]`),
			`cors.json: rule 1: AllowedHeaders[1] "x-*-*": a header name has at most one *; keep one, such as "x-amz-*"`},
		{"headers in one string", r2Rule(any + `, ` + get + `, "AllowedHeaders": ["content-type, x-amz-date"]`),
			`cors.json: rule 1: AllowedHeaders[1] "content-type, x-amz-date": one header name per entry; write "content-type", "x-amz-date" as separate entries`},
		{"header with a colon", r2Rule(any + `, ` + get + `, "AllowedHeaders": ["x-id:"]`),
			"cors.json: rule 1: AllowedHeaders[1] \"x-id:\": a header name has letters, digits and !#$%&'*+-.^_`|~ only; remove ':'"},
		{"empty header", r2Rule(any + `, ` + get + `, "AllowedHeaders": [""]`),
			`cors.json: rule 1: AllowedHeaders[1] "": a header name is empty; remove it`},
		{"expose star", r2Rule(any + `, ` + get + `, "ExposeHeaders": ["ETag", "*"]`),
			`cors.json: rule 1: ExposeHeaders[2] "*": ExposeHeaders take no *; name each header that scripts may read, such as "ETag"`},
		{"expose with spaces", r2Rule(any + `, ` + get + `, "ExposeHeaders": ["ETag "]`),
			`cors.json: rule 1: ExposeHeaders[1] "ETag ": a header name has spaces around it; use "ETag"`},
		{"MaxAgeSeconds too large", r2Rule(any + `, ` + get + `, "MaxAgeSeconds": 86401`),
			`cors.json: rule 1: MaxAgeSeconds "86401": MaxAgeSeconds is from 0 to 86400; use 86400 at most (browsers cap it lower still)`},
		{"MaxAgeSeconds negative", r2Rule(any + `, ` + get + `, "MaxAgeSeconds": -1`),
			`cors.json: rule 1: MaxAgeSeconds "-1": MaxAgeSeconds is from 0 to 86400; use 0 or more`},
		{"ID too long", r2Rule(`"ID": "` + strings.Repeat("i", 256) + `", ` + any + `, ` + get),
			`cors.json: rule 1 (ID "` + strings.Repeat("i", 100) + `"... (256 bytes)): ID "` + strings.Repeat("i", 100) + `"... (256 bytes): an ID is at most 255 characters; shorten it`},
		{"ID with a newline", r2Rule(`"ID": "a\nb", ` + any + `, ` + get),
			`cors.json: rule 1 (ID "a\nb"): ID "a\nb": an ID has no control characters; remove them`},
		{"wrangler naming", `{"rules": [{"id": "w", "allowed": {"origins": ["https://static.example.com/"], "methods": ["GET", "PATCH"], "headers": ["a b"]}, "exposeHeaders": ["*"], "maxAgeSeconds": 90000}]}`,
			`cors.json: rule 1 (ID "w"): allowed.origins[1] "https://static.example.com/": an origin has no path; drop the trailing "/": use "https://static.example.com"` + "\n" +
				`cors.json: rule 1 (ID "w"): allowed.methods[2] "PATCH": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; remove it, or use one of GET, PUT, POST, DELETE, HEAD` + "\n" +
				"cors.json: rule 1 (ID \"w\"): allowed.headers[1] \"a b\": a header name has letters, digits and !#$%&'*+-.^_`|~ only; remove ' '\n" +
				`cors.json: rule 1 (ID "w"): exposeHeaders[1] "*": ExposeHeaders take no *; name each header that scripts may read, such as "ETag"` + "\n" +
				`cors.json: rule 1 (ID "w"): maxAgeSeconds "90000": MaxAgeSeconds is from 0 to 86400; use 86400 at most (browsers cap it lower still)`},
		{"XML naming", `<CORSConfiguration><CORSRule><AllowedOrigin>https://a.example</AllowedOrigin><AllowedOrigin>https://static.example.com/</AllowedOrigin><AllowedMethod>get</AllowedMethod></CORSRule></CORSConfiguration>`,
			`cors.json: rule 1: AllowedOrigin[2] "https://static.example.com/": an origin has no path; drop the trailing "/": use "https://static.example.com"` + "\n" +
				`cors.json: rule 1: AllowedMethod[1] "get": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; write it as "GET"`},
		{"XML empty configuration", `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></CORSConfiguration>`,
			`cors.json: CORSRule: a document has at least one rule; add a rule, such as <CORSRule><AllowedOrigin>https://example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>`},
		{"AWS, problems of two rules", `{"CORSRules": [{"ID": "a", "AllowedOrigins": ["https://a.example/"], "AllowedMethods": ["GET"]}, {"ID": "b", "AllowedOrigins": ["*"]}]}`,
			`cors.json: rule 1 (ID "a"): AllowedOrigins[1] "https://a.example/": an origin has no path; drop the trailing "/": use "https://a.example"` + "\n" +
				`cors.json: rule 2 (ID "b"): AllowedMethods: a rule allows at least one method; add some of GET, PUT, POST, DELETE, HEAD`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cors.json", []byte(tt.in))
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Parse error = %v, want a *ValidationError", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Parse error =\n%s\nwant\n%s", got, tt.want)
			}
			if lines := strings.Count(tt.want, "\n") + 1; len(verr.Problems) != lines {
				t.Errorf("%d problems, want %d", len(verr.Problems), lines)
			}
		})
	}
}

func TestValidationErrorFields(t *testing.T) {
	_, err := Parse("cors.json", []byte(`{"rules": [{"id": "a", "allowed": {"origins": ["https://ok.example", "https://static.example.com/"], "methods": ["GET"]}}]}`))
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 1 {
		t.Fatalf("Parse error = %v", err)
	}
	want := Problem{Rule: 1, RuleID: "a", Field: "allowed.origins[2]", Value: "https://static.example.com/",
		Reason: "an origin has no path", Fix: `drop the trailing "/": use "https://static.example.com"`}
	if verr.Name != "cors.json" || verr.Problems[0] != want {
		t.Errorf("problem = %+v in %q, want %+v", verr.Problems[0], verr.Name, want)
	}
}

// TestValidateAccepts lists documents at the edges of what is allowed.
func TestValidateAccepts(t *testing.T) {
	rule := func(origins, extra string) string {
		return `{"AllowedOrigins": [` + origins + `], "AllowedMethods": ["GET", "PUT", "POST", "DELETE", "HEAD"]` + extra + `}`
	}
	tests := []struct{ name, in string }{
		{"100 rules", "[" + strings.Repeat(rule(`"*"`, "")+",", MaxRules) + "]"},
		{"MaxAgeSeconds 0", "[" + rule(`"*"`, `, "MaxAgeSeconds": 0`) + "]"},
		{"MaxAgeSeconds 86400", "[" + rule(`"*"`, `, "MaxAgeSeconds": 86400`) + "]"},
		{"origins of every form", "[" + rule(`"https://example.com", "HTTPS://Example.COM", "http://localhost:3000",
			"http://localhost:*", "https://*.example.com", "https://*", "*://example.com", "http://[::1]:8080",
			"http://[::*]", "https://example.com.", "chrome-extension://abcdefgh", "http://127.0.0.1:65535"`, "") + "]"},
		{"headers of every form", "[" + rule(`"*"`, `, "AllowedHeaders": ["*", "x-amz-*", "*-id", "Content-Type", "x-a*b"],
			"ExposeHeaders": ["ETag", "x-amz-request-id"]`) + "]"},
		{"ID of 255 characters", "[" + rule(`"*"`, `, "ID": "`+strings.Repeat("é", 255)+`"`) + "]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse("ok.json", []byte(tt.in)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestValidateBuiltDocument(t *testing.T) {
	if err := (*Document)(nil).Validate("nil"); err == nil {
		t.Error("a nil document validated")
	}
	doc := &Document{Rules: []Rule{{AllowedOrigins: []string{"https://a.example/"}, AllowedMethods: []string{"GET"}}}}
	err := doc.Validate("Caddyfile:3")
	want := `Caddyfile:3: rule 1: AllowedOrigins[1] "https://a.example/": an origin has no path; drop the trailing "/": use "https://a.example"`
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %s", err, want)
	}
	if _, err := Compile("nil", nil); err == nil {
		t.Error("Compile(nil) succeeded")
	}
	if got := (&ValidationError{Name: "x"}).Error(); got != "x: invalid CORS policy" {
		t.Errorf("empty ValidationError = %q", got)
	}
}

func ExampleValidationError() {
	_, err := Parse("cors.json", []byte(`[{"AllowedOrigins": ["https://static.example.com/"], "AllowedMethods": ["GET", "get"]}]`))
	fmt.Println(err)
	// Output:
	// cors.json: rule 1: AllowedOrigins[1] "https://static.example.com/": an origin has no path; drop the trailing "/": use "https://static.example.com"
	// cors.json: rule 1: AllowedMethods[2] "get": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; write it as "GET"
}
