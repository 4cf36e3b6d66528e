package policy

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse("test.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// uploads is a policy of the common kind: an app that uploads with presigned
// URLs, its subdomains that read, and a public read rule last.
const uploads = `[
	{"ID": "app", "AllowedOrigins": ["https://app.example.com", "http://localhost:*"],
	 "AllowedMethods": ["PUT", "POST", "GET"], "AllowedHeaders": ["content-type", "X-Amz-*"],
	 "ExposeHeaders": ["ETag", "x-amz-version-id"], "MaxAgeSeconds": 3600},
	{"ID": "sites", "AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "HEAD"],
	 "AllowedHeaders": ["range"]},
	{"ID": "public", "AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}
]`

var (
	appGrant = Grant{Allowed: true, RuleIndex: 1, RuleID: "app", AllowCredentials: true,
		AllowMethods: "PUT, POST, GET", ExposeHeaders: "ETag, x-amz-version-id", MaxAge: "3600"}
	sitesGrant  = Grant{Allowed: true, RuleIndex: 2, RuleID: "sites", AllowCredentials: true, AllowMethods: "GET, HEAD"}
	publicGrant = Grant{Allowed: true, RuleIndex: 3, RuleID: "public", AllowOrigin: "*", AllowMethods: "GET"}
)

// with returns g granted to origin.
func with(g Grant, origin string) Grant {
	g.AllowOrigin = origin
	return g
}

func denied(d Denial) PreflightResult { return PreflightResult{Grant: Grant{Denied: d}} }

// TestPreflight covers the rows of DESIGN.md's preflight table that the
// policy decides, rule order, wildcards and case.
func TestPreflight(t *testing.T) {
	p := mustParse(t, uploads)
	tests := []struct {
		name    string
		origin  string
		method  string
		headers []string
		want    PreflightResult
	}{
		{"a rule matches: grant values", "https://app.example.com", "PUT", []string{"content-type,x-amz-date"},
			PreflightResult{Grant: with(appGrant, "https://app.example.com"), AllowHeaders: "content-type, x-amz-date"}},
		{"no request headers", "https://app.example.com", "PUT", nil,
			PreflightResult{Grant: with(appGrant, "https://app.example.com")}},
		{"first matching rule wins over a later one", "https://app.example.com", "GET", nil,
			PreflightResult{Grant: with(appGrant, "https://app.example.com")}},
		{"a later rule when the first lacks the method", "https://app.example.com", "HEAD", nil,
			PreflightResult{Grant: with(sitesGrant, "https://app.example.com")}},
		{"a later rule when the first lacks a header", "https://app.example.com", "GET", []string{"range"},
			PreflightResult{Grant: with(sitesGrant, "https://app.example.com"), AllowHeaders: "range"}},
		{"the * rule answers * without credentials", "https://other.test", "GET", nil,
			PreflightResult{Grant: publicGrant}},
		{"no rule matches the origin+method: method", "https://other.test", "PUT", nil, denied(DeniedMethod)},
		{"method absent (S3 takes OPTIONS)", "https://app.example.com", "", nil, denied(DeniedMethod)},
		{"OPTIONS as the requested method", "https://app.example.com", "OPTIONS", nil, denied(DeniedMethod)},
		{"methods are case-sensitive", "https://app.example.com", "get", nil, denied(DeniedMethod)},
		{"header refused", "https://app.example.com", "PUT", []string{"content-type,authorization"},
			PreflightResult{Grant: Grant{Denied: DeniedHeader}, DeniedHeader: "authorization"}},
		{"the * rule allows no headers", "https://other.test", "GET", []string{"x-custom"},
			PreflightResult{Grant: Grant{Denied: DeniedHeader}, DeniedHeader: "x-custom"}},
		{"header names case-insensitive, answered lower case", "https://app.example.com", "PUT", []string{"Content-Type, X-Amz-Date"},
			PreflightResult{Grant: with(appGrant, "https://app.example.com"), AllowHeaders: "content-type, x-amz-date"}},
		{"header pattern needs one or more characters", "https://app.example.com", "PUT", []string{"x-amz-"},
			PreflightResult{Grant: Grant{Denied: DeniedHeader}, DeniedHeader: "x-amz-"}},
		{"several lines, spaces, tabs and empty elements", "https://app.example.com", "PUT", []string{" content-type ,,", "\tX-AMZ-DATE", ""},
			PreflightResult{Grant: with(appGrant, "https://app.example.com"), AllowHeaders: "content-type, x-amz-date"}},
		{"only empty elements", "https://app.example.com", "PUT", []string{" , ", ""},
			PreflightResult{Grant: with(appGrant, "https://app.example.com")}},
		{"refused name reported as written", "https://app.example.com", "PUT", []string{"content-type, X-Evil "},
			PreflightResult{Grant: Grant{Denied: DeniedHeader}, DeniedHeader: "X-Evil"}},
		{"origin pattern", "https://cdn.example.com", "HEAD", nil, PreflightResult{Grant: with(sitesGrant, "https://cdn.example.com")}},
		{"port pattern", "http://localhost:3000", "POST", nil, PreflightResult{Grant: with(appGrant, "http://localhost:3000")}},
		{"null origin only matches *", "null", "GET", nil, PreflightResult{Grant: publicGrant}},
		{"null origin and a method * does not allow", "null", "PUT", nil, denied(DeniedMethod)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Preflight(tt.origin, tt.method, tt.headers); got != tt.want {
				t.Errorf("Preflight(%q, %q, %q) =\n%+v\nwant\n%+v", tt.origin, tt.method, tt.headers, got, tt.want)
			}
		})
	}
}

func TestPreflightNoRuleMatches(t *testing.T) {
	p := mustParse(t, `[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}]`)
	for _, origin := range []string{"https://other.example.com", "http://app.example.com", "https://app.example.com:8443"} {
		if got := p.Preflight(origin, "GET", nil); got != denied(DeniedOrigin) {
			t.Errorf("Preflight(%q) = %+v, want DeniedOrigin", origin, got)
		}
	}
}

// TestOriginMatching covers exact origins, patterns and the origins an
// attacker would try.
func TestOriginMatching(t *testing.T) {
	tests := []struct {
		allowed string
		origin  string
		want    bool
	}{
		{"https://*.example.com", "https://a.example.com", true},
		{"https://*.example.com", "https://a.b.example.com", true},
		{"https://*.example.com", "https://example.com", false},
		{"https://*.example.com", "https://.example.com", false},
		{"https://*.example.com", "https://evilexample.com", false},
		{"https://*.example.com", "http://a.example.com", false},
		{"https://*.example.com", "https://a.example.com.evil.com", false},
		{"https://*.example.com", "https://evil.com?.example.com", false},
		{"https://*.example.com", "https://evil.com#.example.com", false},
		{"https://*.example.com", "https://evil.com/.example.com", false},
		{"https://*.example.com", "https://evil.com@a.example.com", false},
		{"https://*.example.com", "https://evil.com:1.example.com", false},
		{"https://*.example.com", "https://a.example.com:443", false},
		{"https://*.example.com", "https://A.example.com", false},
		{"https://allowed.example.com", "https://allowed.example.com.evil.com", false},
		{"https://allowed.example.com", "https://evil.com?.allowed.example.com", false},
		{"https://*.allowed.example.com", "https://evil.com?.allowed.example.com", false},
		{"https://*.allowed.example.com", "https://evil.com/.allowed.example.com", false},
		{"*", "https://evil.com?.allowed.example.com", true},
		{"https://allowed.example.com", "https://allowed.example.com", true},
		{"https://allowed.example.com", "https://allowed.example.com.", false},
		{"https://allowed.example.com", "https://Allowed.example.com", false},
		{"https://allowed.example.com", "HTTPS://allowed.example.com", false},
		{"https://allowed.example.com", "https://allowed.example.com/", false},
		{"https://allowed.example.com", "https://user@allowed.example.com", false},
		{"https://allowed.example.com", "https://allowed.example.com\r\nx: y", false},
		{"https://allowed.example.com", "https://allowed.example.com\x00", false},
		{"https://allowed.example.com", " https://allowed.example.com", false},
		{"https://allowed.example.com", "https://allowed.example.com:", false},
		{"HTTPS://Allowed.Example.COM", "https://allowed.example.com", true},
		{"http://localhost:*", "http://localhost:3000", true},
		{"http://localhost:*", "http://localhost", false},
		{"http://localhost:*", "http://localhost:3000.evil.com", false},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"http://[::1]:8080", "http://[::1]", false},
		{"http://[::*]", "http://[::1]", true},
		{"http://[::*]", "http://[::1]evil", false},
		{"*", "https://anything.test", true},
		{"*", "null", true},
		{"*", "https://evil.com?x", true},
		{"*", "HTTPS://A.TEST", true},
		{"*", "localhost:4566", true},
		{"*", "https://a.test\x00", true},
		{"*", "", false},
		{"*", "https://" + strings.Repeat("a", maxOriginLength-len("https://")), true},
		{"*", "https://" + strings.Repeat("a", maxOriginLength-len("https://")+1), false},
		{"*", "https://" + strings.Repeat("a", 64<<10), false},
		{"https://*", "https://" + strings.Repeat("a", 64<<10), false},
		{"https://*example.com", "https://evilexample.com", true}, // as written: no label boundary
		{"https://example.com.", "https://example.com.", true},
		{"http://my_host.internal:8080", "http://my_host.internal:8080", true},
		{"http://*.internal:8080", "http://my_host.internal:8080", true},
		{"https://*_b.test", "https://a_b.test", true},
		{"http://my_host.internal:8080", "http://my-host.internal:8080", false},
		// Entries S3 accepts but no browser origin equals (warnings) match
		// only what they say, and only origins a browser would send.
		{"http://test.origin.com/", "http://test.origin.com/", false},
		{"http://test.origin.com/", "http://test.origin.com", false},
		{"null", "null", false},
		{"localhost:4566", "localhost:4566", false},
		{"*.example.com", "https://a.example.com", true},
		{"https://a.example/*", "https://a.example/x", false},
		{"https://\u212a.example", "https://k.example", false},
	}
	for _, tt := range tests {
		p := mustParse(t, `[{"AllowedOrigins": ["`+tt.allowed+`"], "AllowedMethods": ["GET"]}]`)
		name := tt.origin
		if len(name) > 60 {
			name = name[:60] + "..."
		}
		if got := p.Actual(tt.origin, "GET").Allowed; got != tt.want {
			t.Errorf("%q allows %q: %v, want %v", tt.allowed, name, got, tt.want)
		}
		if got := p.Preflight(tt.origin, "GET", nil).Allowed; got != tt.want {
			t.Errorf("%q allows preflight from %q: %v, want %v", tt.allowed, name, got, tt.want)
		}
	}
}

func TestHeaderMatching(t *testing.T) {
	tests := []struct {
		allowed   string
		requested string
		want      bool
	}{
		{"X-Amz-Date", "x-amz-date", true},
		{"x-amz-date", "X-Amz-Date", true},
		{"x-amz-date", "X-AMZ-DATE", true},
		{"x-amz-*", "x-amz-date", true},
		{"x-amz-*", "X-Amz-Meta-Owner", true},
		{"X-AMZ-*", "x-amz-date", true},
		{"x-amz-*", "x-amz-", false},
		{"x-amz-*", "x-amzdate", false},
		{"*-id", "x-request-id", true},
		{"*-id", "-id", false},
		{"x-*-y", "x-a-y", true},
		{"x-*-y", "x--y", false},
		{"*", "anything", true},
		{"*", "not a token", false},
		{"*", "x\x00", false},
		{"content-type", "content-type:", false},
		{strings.Repeat("h", 200), strings.Repeat("H", 200), true},
		{strings.Repeat("h", 200), strings.Repeat("H", 199) + "x", false},
	}
	for _, tt := range tests {
		p := mustParse(t, `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["`+tt.allowed+`"]}]`)
		got := p.Preflight("https://a.test", "GET", []string{tt.requested})
		if got.Allowed != tt.want {
			t.Errorf("%q allows %q: %v, want %v", tt.allowed, tt.requested, got.Allowed, tt.want)
		}
		if !tt.want && (got.Denied != DeniedHeader || got.DeniedHeader != tt.requested) {
			t.Errorf("%q refusing %q: %+v", tt.allowed, tt.requested, got)
		}
	}
}

// TestDeniedHeaderAcrossRules: when no rule allows all names, the refused
// name is the one at which the last candidate rule dropped out.
func TestDeniedHeaderAcrossRules(t *testing.T) {
	p := mustParse(t, `[
		{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["a", "b"]},
		{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["a", "c"]}
	]`)
	tests := []struct {
		headers string
		want    PreflightResult
	}{
		{"a,b", PreflightResult{Grant: with(Grant{Allowed: true, RuleIndex: 1, AllowMethods: "GET"}, "*"), AllowHeaders: "a, b"}},
		{"a,c", PreflightResult{Grant: with(Grant{Allowed: true, RuleIndex: 2, AllowMethods: "GET"}, "*"), AllowHeaders: "a, c"}},
		{"b,c", PreflightResult{Grant: Grant{Denied: DeniedHeader}, DeniedHeader: "c"}},
		{"d,a", PreflightResult{Grant: Grant{Denied: DeniedHeader}, DeniedHeader: "d"}},
	}
	for _, tt := range tests {
		if got := p.Preflight("https://x.test", "GET", []string{tt.headers}); got != tt.want {
			t.Errorf("Preflight(%q) = %+v, want %+v", tt.headers, got, tt.want)
		}
	}
}

func TestRequestHeaderBounds(t *testing.T) {
	p := mustParse(t, `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["*"]}]`)
	names := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = "h"
		}
		return strings.Join(s, ",")
	}
	long := strings.Repeat("a", MaxRequestHeadersBytes)
	tests := []struct {
		name    string
		headers []string
		want    Denial
	}{
		{"64 names", []string{names(MaxRequestHeaderNames)}, NotDenied},
		{"65 names", []string{names(MaxRequestHeaderNames + 1)}, DeniedTooManyHeaders},
		{"65 names over lines", []string{names(40), names(25)}, DeniedTooManyHeaders},
		{"empty elements do not count as names", []string{names(64) + strings.Repeat(",", 100)}, NotDenied},
		{"8 KiB", []string{long}, NotDenied},
		{"8 KiB and a byte", []string{long + "a"}, DeniedTooManyHeaders},
		{"8 KiB over two lines, counting the comma that joins them", []string{long[:4096], long[:4095]}, NotDenied},
		{"8 KiB and a byte over two lines", []string{long[:4096], long[:4096]}, DeniedTooManyHeaders},
		{"a million empty lines", make([]string, 1<<20), DeniedTooManyHeaders},
		{"1 MiB", []string{strings.Repeat("a,", 1<<19)}, DeniedTooManyHeaders},
		{"too many names from a refused origin too", []string{names(100)}, DeniedTooManyHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Preflight("https://a.test", "GET", tt.headers); got.Denied != tt.want {
				t.Errorf("Denied = %v, want %v", got.Denied, tt.want)
			}
		})
	}
	if got := p.Preflight("bad origin", "GET", []string{names(100)}); got.Denied != DeniedTooManyHeaders {
		t.Errorf("bounds are checked before the origin: %v", got.Denied)
	}
}

// TestAllowHeadersForm: the names are answered lower case and joined by ", ",
// as S3 answers them; a line already in that form is answered as it is.
func TestAllowHeadersForm(t *testing.T) {
	p := mustParse(t, uploads)
	line := "content-type, x-amz-date"
	got := p.Preflight("https://app.example.com", "PUT", []string{line})
	if got.AllowHeaders != line || unsafe.StringData(got.AllowHeaders) != unsafe.StringData(line) {
		t.Errorf("AllowHeaders = %q, not the request's own line", got.AllowHeaders)
	}
	for _, lines := range [][]string{{"content-type,x-amz-date"}, {"content-type,X-Amz-Date"}, {"content-type,x-amz-date,"},
		{"content-type", "x-amz-date"}, {"content-type,  x-amz-date"}, {"content-type , x-amz-date"}, {"content-type, x-amz-date, "}} {
		got := p.Preflight("https://app.example.com", "PUT", lines)
		if got.AllowHeaders != line {
			t.Errorf("AllowHeaders for %q = %q, want %q", lines, got.AllowHeaders, line)
		}
	}
	if got := p.Preflight("https://app.example.com", "GET", []string{"Range"}); got.AllowHeaders != "range" {
		t.Errorf("AllowHeaders for one upper-case name = %q", got.AllowHeaders)
	}
}

func TestActual(t *testing.T) {
	p := mustParse(t, uploads)
	tests := []struct {
		origin, method string
		want           Grant
	}{
		{"https://app.example.com", "PUT", with(appGrant, "https://app.example.com")},
		{"https://app.example.com", "HEAD", with(sitesGrant, "https://app.example.com")},
		{"https://cdn.example.com", "GET", with(sitesGrant, "https://cdn.example.com")},
		{"https://other.test", "GET", publicGrant},
		{"https://other.test", "PUT", Grant{Denied: DeniedMethod}},
		{"https://app.example.com", "OPTIONS", Grant{Denied: DeniedMethod}},
		{"https://app.example.com", "put", Grant{Denied: DeniedMethod}},
		{"https://evil.com?.app.example.com", "GET", publicGrant},
		{"https://evil.com?.app.example.com", "PUT", Grant{Denied: DeniedMethod}},
		{"", "GET", Grant{Denied: DeniedOrigin}},
	}
	for _, tt := range tests {
		if got := p.Actual(tt.origin, tt.method); got != tt.want {
			t.Errorf("Actual(%q, %q) =\n%+v\nwant\n%+v", tt.origin, tt.method, got, tt.want)
		}
	}
	strict := mustParse(t, `[{"AllowedOrigins": ["https://a.test"], "AllowedMethods": ["GET"]}]`)
	if got := strict.Actual("https://b.test", "GET"); got != (Grant{Denied: DeniedOrigin}) {
		t.Errorf("Actual from another origin = %+v", got)
	}
}

func TestZeroAllocations(t *testing.T) {
	p := mustParse(t, uploads)
	canonical := []string{"content-type, x-amz-date"}
	huge := []string{strings.Repeat("a,", 1<<19)}
	preflights := []struct {
		name           string
		origin, method string
		headers        []string
	}{
		{"allowed", "https://app.example.com", "PUT", canonical},
		{"allowed by pattern", "https://cdn.example.com", "GET", []string{"range"}},
		{"allowed by *", "https://x.test", "GET", nil},
		{"refused origin", "https://evil.com?.example.com", "PUT", canonical},
		{"refused method", "https://x.test", "DELETE", canonical},
		{"refused header", "https://app.example.com", "PUT", []string{"content-type,X-Evil"}},
		{"refused upper-case header", "https://app.example.com", "PUT", []string{"Content-Type, X-Evil"}},
		{"too many headers", "https://app.example.com", "PUT", huge},
	}
	for _, tt := range preflights {
		if n := testing.AllocsPerRun(100, func() { p.Preflight(tt.origin, tt.method, tt.headers) }); n != 0 {
			t.Errorf("Preflight %s: %v allocations", tt.name, n)
		}
	}
	for _, origin := range []string{"https://app.example.com", "https://x.test", "null", "bad"} {
		if n := testing.AllocsPerRun(100, func() { p.Actual(origin, "GET") }); n != 0 {
			t.Errorf("Actual(%q): %v allocations", origin, n)
		}
	}
	// Browsers send "a,b": the answer "a, b" is rendered once and remembered,
	// as is a line in any other form.
	for _, line := range []string{"content-type,x-amz-date", "content-type,X-Amz-Date", " content-type ,x-amz-date"} {
		lines := []string{line}
		if n := testing.AllocsPerRun(100, func() { p.Preflight("https://app.example.com", "PUT", lines) }); n != 0 {
			t.Errorf("Preflight of %q asked again: %v allocations", line, n)
		}
	}
}

// TestKnownLinesBounds: a policy remembers the first 16 lines of at most 256
// bytes that it allows, and answers every line right, remembered or not; a
// line past the bounds costs one allocation.
func TestKnownLinesBounds(t *testing.T) {
	p := mustParse(t, `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["*"]}]`)
	for i := range 20 {
		line := fmt.Sprintf("a%d,b", i)
		if got := p.Preflight("https://a.test", "GET", []string{line}).AllowHeaders; got != fmt.Sprintf("a%d, b", i) {
			t.Fatalf("AllowHeaders for %q = %q", line, got)
		}
	}
	long := strings.Repeat("x-long-name,", 30) + "x"
	if got := p.Preflight("https://a.test", "GET", []string{long}).AllowHeaders; got != strings.ReplaceAll(long, ",", ", ") {
		t.Errorf("AllowHeaders for a long line = %q", got)
	}
	seen := *p.lines.m.Load()
	if len(seen) != rememberedLines || seen["a0,b"].answer != "a0, b" || seen["a15,b"].answer != "a15, b" {
		t.Errorf("remembered %d lines: %v", len(seen), seen)
	}
	for _, line := range []string{"a16,b", long} {
		if _, ok := seen[line]; ok {
			t.Errorf("remembered %q past the bounds", line)
		}
		lines := []string{line}
		if n := testing.AllocsPerRun(10, func() { p.Preflight("https://a.test", "GET", lines) }); n != 1 {
			t.Errorf("Preflight of %q past the bounds: %v allocations, want 1", line, n)
		}
	}
}

// TestKnownLinesJudgeEachOrigin: a line remembered from one rule's answer is
// judged again for a request that other rules decide.
func TestKnownLinesJudgeEachOrigin(t *testing.T) {
	p := mustParse(t, `[
		{"ID": "a", "AllowedOrigins": ["https://a.test"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["x-a", "x-both"]},
		{"ID": "b", "AllowedOrigins": ["https://b.test"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["x-b", "x-both"]},
		{"ID": "c", "AllowedOrigins": ["https://b.test"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["x-a"]}]`)
	for _, tt := range []struct {
		origin, line string
		rule         string // "" for a refusal
		denied       string
	}{
		{"https://a.test", "x-a", "a", ""},
		{"https://b.test", "x-a", "c", ""},
		{"https://a.test", "x-b", "", "x-b"},
		{"https://b.test", "x-b", "b", ""},
		{"https://a.test", "x-b", "", "x-b"},
		{"https://a.test", "x-both", "a", ""},
		{"https://b.test", "x-both", "b", ""},
		{"https://b.test", "x-a,x-both", "", "x-both"},
		{"https://a.test", "x-a,x-both", "a", ""},
		{"https://b.test", "x-a,x-both", "", "x-both"},
	} {
		res := p.Preflight(tt.origin, "PUT", []string{tt.line})
		if res.RuleID != tt.rule || res.DeniedHeader != tt.denied || res.Allowed != (tt.rule != "") {
			t.Errorf("%s asking %q: rule %q, denied header %q; want rule %q, denied header %q",
				tt.origin, tt.line, res.RuleID, res.DeniedHeader, tt.rule, tt.denied)
		}
		if res.Allowed && res.AllowHeaders != strings.ReplaceAll(tt.line, ",", ", ") {
			t.Errorf("%s asking %q: Access-Control-Allow-Headers %q", tt.origin, tt.line, res.AllowHeaders)
		}
	}
}

func TestDenialString(t *testing.T) {
	for d, want := range map[Denial]string{
		NotDenied: "allowed", DeniedOrigin: "origin not allowed", DeniedMethod: "method not allowed",
		DeniedHeader: "header not allowed", DeniedTooManyHeaders: "too many request headers", 9: "Denial(9)",
	} {
		if got := d.String(); got != want {
			t.Errorf("Denial(%d).String() = %q, want %q", d, got, want)
		}
	}
}

func TestAllowMethodsRendering(t *testing.T) {
	p := mustParse(t, `[{"AllowedOrigins": ["*"], "AllowedMethods": ["DELETE", "GET", "DELETE", "HEAD"], "ExposeHeaders": ["ETag", "Content-Length"], "MaxAgeSeconds": 0}]`)
	got := p.Actual("https://a.test", "GET")
	if got.AllowMethods != "DELETE, GET, HEAD" || got.ExposeHeaders != "ETag, Content-Length" || got.MaxAge != "0" {
		t.Errorf("rendered %+v", got)
	}
}

func TestDocumentIsACopy(t *testing.T) {
	doc, err := Decode("d", []byte(uploads))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile("d", doc)
	if err != nil {
		t.Fatal(err)
	}
	doc.Rules[0].AllowedOrigins[0] = "https://changed.test"
	*doc.Rules[0].MaxAgeSeconds = 1
	got := p.Document()
	if got.Rules[0].AllowedOrigins[0] != "https://app.example.com" || *got.Rules[0].MaxAgeSeconds != 3600 {
		t.Error("the policy shares the caller's document")
	}
	got.Rules[0].AllowedMethods[0] = "DELETE"
	if p.Document().Rules[0].AllowedMethods[0] != "PUT" {
		t.Error("Document returns the policy's own copy")
	}
	if p.Document().Dialect != DialectR2 {
		t.Error("the copy lost its dialect")
	}
}

// TestConcurrentUse runs under -race: a Policy is read by many requests at once.
func TestConcurrentUse(t *testing.T) {
	p := mustParse(t, uploads)
	done := make(chan bool)
	for g := range 4 {
		go func() {
			for i := range 1000 {
				origin := []string{"https://app.example.com", "https://cdn.example.com", "null"}[(g+i)%3]
				p.Preflight(origin, "GET", []string{"Range, content-type"})
				p.Preflight(origin, "PUT", []string{fmt.Sprintf("content-type,x-amz-h%d", i%40)})
				p.Actual(origin, "PUT")
				_ = p.Document()
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
}

// TestHundredRules reaches the rules past the 64th, which live in the second
// word of a rule set.
func TestHundredRules(t *testing.T) {
	var rules []string
	for i := 1; i <= MaxRules; i++ {
		rules = append(rules, fmt.Sprintf(`{"ID": "r%d", "AllowedOrigins": ["https://site%d.test", "https://*.group%d.test"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-h%d"]}`, i, i, i%7, i))
	}
	p := mustParse(t, "["+strings.Join(rules, ",")+"]")
	for _, i := range []int{1, 63, 64, 65, 99, 100} {
		origin := fmt.Sprintf("https://site%d.test", i)
		got := p.Preflight(origin, "GET", []string{fmt.Sprintf("X-H%d", i)})
		if !got.Allowed || got.RuleIndex != i || got.RuleID != fmt.Sprintf("r%d", i) {
			t.Errorf("Preflight from %s = %+v, want rule %d", origin, got, i)
		}
	}
	// Rules 3, 10, ..., 94 hold *.group3.test; the header picks rule 94.
	if got := p.Preflight("https://a.group3.test", "GET", []string{"x-h94"}); got.RuleIndex != 94 {
		t.Errorf("pattern held by many rules: rule %d, want 94", got.RuleIndex)
	}
	if got := p.Preflight("https://a.group3.test", "GET", []string{"x-h95"}); got.Denied != DeniedHeader {
		t.Errorf("header of a rule the origin does not match: %+v", got)
	}
}
