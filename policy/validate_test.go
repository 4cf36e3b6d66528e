package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// r2Rule writes an R2 document of one rule from its fields' JSON.
func r2Rule(fields string) string { return "[{" + fields + "}]" }

// refused marks a case that Compile refuses with the same message as
// CompileStrict: every problem is an error, something S3 refuses.
const refused = "(refused)"

// TestValidateProblems lists documents with the whole message each must
// produce under CompileStrict (document, rule, field in the document's
// dialect, value, reason and fix), and what Compile, which judges by S3's
// rules, makes of them: refused, or compiled with those problems as warnings.
func TestValidateProblems(t *testing.T) {
	const get = `"AllowedMethods": ["GET"]`
	const any = `"AllowedOrigins": ["*"]`
	tests := []struct {
		name string
		in   string
		want string // CompileStrict's error
		// s3 is Compile's error: refused when it is want, "" when the
		// document compiles with want's lines as warnings.
		s3 string
	}{
		{"no rules", `[]`,
			`cors.json: a document has at least one rule; add a rule, such as {"AllowedOrigins": ["https://example.com"], "AllowedMethods": ["GET"]}`, refused},
		{"no rules, AWS", `{"CORSRules": []}`,
			`cors.json: CORSRules: a document has at least one rule; add a rule, such as {"AllowedOrigins": ["https://example.com"], "AllowedMethods": ["GET"]}`, refused},
		{"101 rules", "[" + strings.Repeat(`{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},`, 101) + "]",
			`cors.json: the document has 101 rules; S3 allows at most 100; merge rules that allow the same methods and headers`, refused},
		{"no origin", r2Rule(`"ID": "site", ` + get),
			`cors.json: rule 1 (ID "site"): AllowedOrigins: a rule allows at least one origin; add one, such as "https://example.com", or "*" for any`, refused},
		{"no method", r2Rule(any),
			`cors.json: rule 1: AllowedMethods: a rule allows at least one method; add some of GET, PUT, POST, DELETE, HEAD`, refused},
		{"origin with trailing slash", r2Rule(`"AllowedOrigins": ["https://static.example.com/"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://static.example.com/": an origin has no path; drop the trailing "/": use "https://static.example.com"`, ""},
		{"origin with a path", r2Rule(`"AllowedOrigins": ["https://a.example", "https://static.example.com/fonts/Calibri.woff2"], ` + get),
			`cors.json: rule 1: AllowedOrigins[2] "https://static.example.com/fonts/Calibri.woff2": an origin has no path; drop "/fonts/Calibri.woff2": use "https://static.example.com"`, ""},
		{"origin with a query", r2Rule(`"AllowedOrigins": ["https://a.example?x=1"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://a.example?x=1": an origin has no query; drop "?x=1": use "https://a.example"`, ""},
		{"origin with a fragment", r2Rule(`"AllowedOrigins": ["https://a.example#top"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://a.example#top": an origin has no fragment; drop "#top": use "https://a.example"`, ""},
		{"origin with user info", r2Rule(`"AllowedOrigins": ["https://user:pw@a.example"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://user:pw@a.example": an origin has no user name or password; use "https://a.example"`, ""},
		{"origin without scheme", r2Rule(`"AllowedOrigins": ["static.example.com"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "static.example.com": an origin starts with a scheme and ://; use "https://static.example.com"`, ""},
		{"localhost without scheme", r2Rule(`"AllowedOrigins": ["localhost:3000"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "localhost:3000": an origin starts with a scheme and ://; use "http://localhost:3000"`, ""},
		{"origin with two stars", r2Rule(`"AllowedOrigins": ["https://*.*.example.com"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://*.*.example.com": an origin has at most one *; keep one, such as "https://*.example.com"`, refused},
		{"empty origin", r2Rule(`"AllowedOrigins": [""], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "": an origin is empty; write scheme://host[:port], such as "https://example.com", or "*"`, ""},
		{"origin with spaces", r2Rule(`"AllowedOrigins": [" https://a.example "], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] " https://a.example ": an origin has spaces around it; use "https://a.example"`, ""},
		{"null origin", r2Rule(`"AllowedOrigins": ["null"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "null": the "null" origin is sent by sandboxed frames and local files of any site; remove it`, ""},
		{"origin with empty port", r2Rule(`"AllowedOrigins": ["http://localhost:"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "http://localhost:": a port is a number after the colon; drop the ":": use "http://localhost"`, ""},
		{"origin with a big port", r2Rule(`"AllowedOrigins": ["http://localhost:70000"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "http://localhost:70000": a port is at most 65535; write scheme://host[:port], such as "https://example.com", or "*"`, ""},
		{"origin with punctuation in its host", r2Rule(`"AllowedOrigins": ["https://my!site.example"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://my!site.example": a host has letters, digits, -, _ and . only, not '!'; a browser never sends this origin; write the host as it appears in the address bar`, ""},
		{"origin with a control character", r2Rule(`"AllowedOrigins": ["https://a.example\u0001"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://a.example\x01": a host has letters, digits, -, _ and . only, not '\x01'; a browser never sends this origin; write the host as it appears in the address bar`, refused},
		{"header with a control character", r2Rule(any + `, ` + get + `, "AllowedHeaders": ["x-id\u0000"]`),
			"cors.json: rule 1: AllowedHeaders[1] \"x-id\\x00\": a header name has letters, digits and !#$%&'*+-.^_`|~ only; remove '\\x00'", refused},
		{"ID with a control character XML cannot carry", r2Rule(`"ID": "a\u0007b", ` + any + `, ` + get),
			`cors.json: rule 1 (ID "a\ab"): ID "a\ab": an ID has no control characters; remove them`, refused},
		{"origin with unicode host", r2Rule(`"AllowedOrigins": ["https://bücher.example"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://bücher.example": a host is written in ASCII, as browsers send it; write the name in its punycode form (xn--...)`, ""},
		{"origin without host", r2Rule(`"AllowedOrigins": ["https://"], ` + get),
			`cors.json: rule 1: AllowedOrigins[1] "https://": an origin names a host; write scheme://host[:port], such as "https://example.com", or "*"`, ""},
		{"lower-case method", r2Rule(any + `, "AllowedMethods": ["get"]`),
			`cors.json: rule 1: AllowedMethods[1] "get": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; write it as "GET"`, refused},
		{"PATCH", r2Rule(any + `, "AllowedMethods": ["GET", "PATCH"]`),
			`cors.json: rule 1: AllowedMethods[2] "PATCH": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; remove it, or use one of GET, PUT, POST, DELETE, HEAD`, refused},
		{"OPTIONS", r2Rule(any + `, "AllowedMethods": ["OPTIONS"]`),
			`cors.json: rule 1: AllowedMethods[1] "OPTIONS": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; remove it: preflights are answered for the rule's other methods`, refused},
		{"method star", r2Rule(any + `, "AllowedMethods": ["*"]`),
			`cors.json: rule 1: AllowedMethods[1] "*": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; list the methods instead: GET, PUT, POST, DELETE, HEAD`, refused},
		{"header with two stars", r2Rule(any + `, ` + get + `, "AllowedHeaders": ["x-*-*"]`),
			`cors.json: rule 1: AllowedHeaders[1] "x-*-*": a header name has at most one *; keep one, such as "x-amz-*"`, refused},
		{"headers in one string", r2Rule(any + `, ` + get + `, "AllowedHeaders": ["content-type, x-amz-date"]`),
			`cors.json: rule 1: AllowedHeaders[1] "content-type, x-amz-date": one header name per entry; write "content-type", "x-amz-date" as separate entries`, ""},
		{"header with a colon", r2Rule(any + `, ` + get + `, "AllowedHeaders": ["x-id:"]`),
			"cors.json: rule 1: AllowedHeaders[1] \"x-id:\": a header name has letters, digits and !#$%&'*+-.^_`|~ only; remove ':'", ""},
		{"empty header", r2Rule(any + `, ` + get + `, "AllowedHeaders": [""]`),
			`cors.json: rule 1: AllowedHeaders[1] "": a header name is empty; remove it`, ""},
		{"expose star", r2Rule(any + `, ` + get + `, "ExposeHeaders": ["ETag", "*"]`),
			`cors.json: rule 1: ExposeHeaders[2] "*": ExposeHeaders take no *; name each header that scripts may read, such as "ETag"`, ""},
		{"expose with spaces", r2Rule(any + `, ` + get + `, "ExposeHeaders": ["ETag "]`),
			`cors.json: rule 1: ExposeHeaders[1] "ETag ": a header name has spaces around it; use "ETag"`, ""},
		{"MaxAgeSeconds too large", r2Rule(any + `, ` + get + `, "MaxAgeSeconds": 86401`),
			`cors.json: rule 1: MaxAgeSeconds "86401": MaxAgeSeconds is from 0 to 86400; use 86400 at most (browsers cap it lower still)`, ""},
		{"MaxAgeSeconds negative", r2Rule(any + `, ` + get + `, "MaxAgeSeconds": -1`),
			`cors.json: rule 1: MaxAgeSeconds "-1": MaxAgeSeconds is from 0 to 86400; use 0 or more`, refused},
		{"ID too long", r2Rule(`"ID": "` + strings.Repeat("i", 256) + `", ` + any + `, ` + get),
			`cors.json: rule 1 (ID "` + strings.Repeat("i", 100) + `"... (256 bytes)): ID "` + strings.Repeat("i", 100) + `"... (256 bytes): an ID is at most 255 characters; shorten it`, refused},
		{"ID with a newline", r2Rule(`"ID": "a\nb", ` + any + `, ` + get),
			`cors.json: rule 1 (ID "a\nb"): ID "a\nb": an ID has no control characters; remove them`, ""},
		{"wrangler naming", `{"rules": [{"id": "w", "allowed": {"origins": ["https://static.example.com/"], "methods": ["GET", "PATCH"], "headers": ["a b"]}, "exposeHeaders": ["*"], "maxAgeSeconds": 90000}]}`,
			`cors.json: rule 1 (ID "w"): allowed.origins[1] "https://static.example.com/": an origin has no path; drop the trailing "/": use "https://static.example.com"` + "\n" +
				`cors.json: rule 1 (ID "w"): allowed.methods[2] "PATCH": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; remove it, or use one of GET, PUT, POST, DELETE, HEAD` + "\n" +
				"cors.json: rule 1 (ID \"w\"): allowed.headers[1] \"a b\": a header name has letters, digits and !#$%&'*+-.^_`|~ only; remove ' '\n" +
				`cors.json: rule 1 (ID "w"): exposeHeaders[1] "*": ExposeHeaders take no *; name each header that scripts may read, such as "ETag"` + "\n" +
				`cors.json: rule 1 (ID "w"): maxAgeSeconds "90000": MaxAgeSeconds is from 0 to 86400; use 86400 at most (browsers cap it lower still)`, `cors.json: rule 1 (ID "w"): allowed.methods[2] "PATCH": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; remove it, or use one of GET, PUT, POST, DELETE, HEAD`},
		{"XML naming", `<CORSConfiguration><CORSRule><AllowedOrigin>https://a.example</AllowedOrigin><AllowedOrigin>https://static.example.com/</AllowedOrigin><AllowedMethod>get</AllowedMethod></CORSRule></CORSConfiguration>`,
			`cors.json: rule 1: AllowedOrigin[2] "https://static.example.com/": an origin has no path; drop the trailing "/": use "https://static.example.com"` + "\n" +
				`cors.json: rule 1: AllowedMethod[1] "get": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; write it as "GET"`, `cors.json: rule 1: AllowedMethod[1] "get": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; write it as "GET"`},
		{"XML empty configuration", `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></CORSConfiguration>`,
			`cors.json: CORSRule: a document has at least one rule; add a rule, such as <CORSRule><AllowedOrigin>https://example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>`, refused},
		{"AWS, problems of two rules", `{"CORSRules": [{"ID": "a", "AllowedOrigins": ["https://a.example/"], "AllowedMethods": ["GET"]}, {"ID": "b", "AllowedOrigins": ["*"]}]}`,
			`cors.json: rule 1 (ID "a"): AllowedOrigins[1] "https://a.example/": an origin has no path; drop the trailing "/": use "https://a.example"` + "\n" +
				`cors.json: rule 2 (ID "b"): AllowedMethods: a rule allows at least one method; add some of GET, PUT, POST, DELETE, HEAD`, `cors.json: rule 2 (ID "b"): AllowedMethods: a rule allows at least one method; add some of GET, PUT, POST, DELETE, HEAD`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStrict("cors.json", []byte(tt.in))
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("ParseStrict error = %v, want a *ValidationError", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("ParseStrict error =\n%s\nwant\n%s", got, tt.want)
			}
			if lines := strings.Count(tt.want, "\n") + 1; len(verr.Problems) != lines {
				t.Errorf("%d problems, want %d", len(verr.Problems), lines)
			}
			s3 := tt.s3
			if s3 == refused {
				s3 = tt.want
			}
			for _, p := range verr.Problems {
				var b strings.Builder
				p.render(&b, "cors.json")
				if isError := strings.Contains(s3, b.String()); p.Warning == isError {
					t.Errorf("Warning = %v for %s", p.Warning, b.String())
				}
			}
			p, err := Parse("cors.json", []byte(tt.in))
			switch {
			case s3 == "" && err != nil:
				t.Errorf("Parse refused what S3 accepts: %v", err)
			case s3 == "" && p.Warnings().Error() != tt.want:
				t.Errorf("Warnings =\n%v\nwant\n%s", p.Warnings(), tt.want)
			case s3 != "" && (err == nil || err.Error() != s3):
				t.Errorf("Parse error =\n%v\nwant\n%s", err, s3)
			}
		})
	}
}

func TestValidationErrorFields(t *testing.T) {
	_, err := ParseStrict("cors.json", []byte(`{"rules": [{"id": "a", "allowed": {"origins": ["https://ok.example", "https://static.example.com/"], "methods": ["GET"]}}]}`))
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 1 {
		t.Fatalf("Parse error = %v", err)
	}
	want := Problem{Rule: 1, RuleID: "a", Field: "allowed.origins[2]", Value: "https://static.example.com/",
		Reason: "an origin has no path", Fix: `drop the trailing "/": use "https://static.example.com"`, Warning: true}
	if verr.Name != "cors.json" || verr.Problems[0] != want {
		t.Errorf("problem = %+v in %q, want %+v", verr.Problems[0], verr.Name, want)
	}
}

// TestValidateAccepts lists documents at the edges of what is allowed, even
// strictly: no error and no warning.
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
			"http://[::*]", "https://example.com.", "chrome-extension://abcdefgh", "http://127.0.0.1:65535",
			"http://my_host.internal:8080", "https://*_b.test"`, "") + "]"},
		{"headers of every form", "[" + rule(`"*"`, `, "AllowedHeaders": ["*", "x-amz-*", "*-id", "Content-Type", "x-a*b"],
			"ExposeHeaders": ["ETag", "x-amz-request-id"]`) + "]"},
		{"ID of 255 characters", "[" + rule(`"*"`, `, "ID": "`+strings.Repeat("é", 255)+`"`) + "]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseStrict("ok.json", []byte(tt.in)); err != nil {
				t.Error(err)
			}
			if p, err := Parse("ok.json", []byte(tt.in)); err != nil || p.Warnings() != nil {
				t.Errorf("Parse: %v, warnings %v", err, p.Warnings())
			}
		})
	}
}

func TestValidateBuiltDocument(t *testing.T) {
	if err := (*Document)(nil).Validate("nil"); err == nil {
		t.Error("a nil document validated")
	}
	if Validate("nil", nil) == nil {
		t.Error("Validate(nil) found nothing")
	}
	doc := &Document{Rules: []Rule{{AllowedOrigins: []string{"https://a.example/"}, AllowedMethods: []string{"GET", "PATCH"}}}}
	const (
		path  = `Caddyfile:3: rule 1: AllowedOrigins[1] "https://a.example/": an origin has no path; drop the trailing "/": use "https://a.example"`
		patch = `Caddyfile:3: rule 1: AllowedMethods[2] "PATCH": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; remove it, or use one of GET, PUT, POST, DELETE, HEAD`
	)
	problems := Validate("Caddyfile:3", doc)
	if problems.Error() != path+"\n"+patch || !problems.Problems[0].Warning || problems.Problems[1].Warning {
		t.Errorf("Validate = %v (%+v)", problems, problems.Problems)
	}
	if got := problems.Errors().Error(); got != patch {
		t.Errorf("Errors() = %s", got)
	}
	if got := problems.Warnings().Error(); got != path {
		t.Errorf("Warnings() = %s", got)
	}
	if err := doc.Validate("Caddyfile:3"); err == nil || err.Error() != path+"\n"+patch {
		t.Errorf("Document.Validate = %v", err)
	}

	doc.Rules[0].AllowedMethods = []string{"GET"}
	if p, err := Compile("Caddyfile:3", doc); err != nil || p.Warnings().Error() != path {
		t.Errorf("Compile = %v, warnings %v", err, p.Warnings())
	}
	if _, err := CompileStrict("Caddyfile:3", doc); err == nil || err.Error() != path {
		t.Errorf("CompileStrict = %v, want %s", err, path)
	}
	if Validate("clean", &Document{Rules: []Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}}) != nil {
		t.Error("a clean document has problems")
	}
	if _, err := Compile("nil", nil); err == nil {
		t.Error("Compile(nil) succeeded")
	}
	if got := (&ValidationError{Name: "x"}).Error(); got != "x: invalid CORS policy" {
		t.Errorf("empty ValidationError = %q", got)
	}
}

// TestStrictReaders: ParseStrict and ReadStrict refuse a warning that Parse
// and Read keep, with the same message.
func TestStrictReaders(t *testing.T) {
	const doc = `[{"AllowedOrigins": ["https://a.example", "null"], "AllowedMethods": ["GET"]}]`
	const want = `p.json: rule 1: AllowedOrigins[2] "null": the "null" origin is sent by sandboxed frames and local files of any site; remove it`
	readers := []struct {
		name   string
		parse  func() (*Policy, error)
		strict bool
	}{
		{"Parse", func() (*Policy, error) { return Parse("p.json", []byte(doc)) }, false},
		{"Read", func() (*Policy, error) { return Read("p.json", strings.NewReader(doc)) }, false},
		{"ParseStrict", func() (*Policy, error) { return ParseStrict("p.json", []byte(doc)) }, true},
		{"ReadStrict", func() (*Policy, error) { return ReadStrict("p.json", strings.NewReader(doc)) }, true},
	}
	for _, r := range readers {
		p, err := r.parse()
		switch {
		case r.strict && (err == nil || err.Error() != want):
			t.Errorf("%s error = %v, want %s", r.name, err, want)
		case !r.strict && (err != nil || p.Warnings().Error() != want):
			t.Errorf("%s = %v, warnings %v", r.name, err, p.Warnings())
		case !r.strict && p.Preflight("null", "GET", nil).Allowed:
			t.Errorf("%s: the \"null\" entry matched Origin: null", r.name)
		}
	}
}

// Compile judges a document as S3 does: it refuses what S3 refuses, and
// keeps a warning for what S3 accepts but no browser can match.
func ExampleValidationError() {
	_, err := Parse("cors.json", []byte(`[{"AllowedOrigins": ["https://static.example.com/"], "AllowedMethods": ["GET", "get"]}]`))
	fmt.Println(err)

	p, err := Parse("cors.json", []byte(`[{"AllowedOrigins": ["https://static.example.com/"], "AllowedMethods": ["GET"]}]`))
	fmt.Println(err)
	fmt.Println(p.Warnings())
	// Output:
	// cors.json: rule 1: AllowedMethods[2] "get": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; write it as "GET"
	// <nil>
	// cors.json: rule 1: AllowedOrigins[1] "https://static.example.com/": an origin has no path; drop the trailing "/": use "https://static.example.com"
}
