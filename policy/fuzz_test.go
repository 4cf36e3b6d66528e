package policy

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse: Decode and Parse never panic, every error is a
// *ValidationError, and whatever parses survives a round trip through S3 XML
// and R2 JSON with the same rules.
func FuzzParse(f *testing.F) {
	// More seeds are in testdata/fuzz/FuzzParse, one a dialect.
	f.Add([]byte(uploads))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Decode("fuzz", data)
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) == 0 || !strings.HasPrefix(err.Error(), "fuzz: ") {
				t.Fatalf("Decode error %v is not a *ValidationError with problems", err)
			}
			return
		}
		// Even an invalid document marshals.
		if _, err := doc.MarshalS3XML(); err != nil {
			t.Fatalf("MarshalS3XML: %v", err)
		}
		p, err := Compile("fuzz", doc)
		if err != nil {
			return
		}
		rules := p.Document().Rules
		for _, marshal := range []func(*Document) ([]byte, error){(*Document).MarshalS3XML, (*Document).MarshalR2JSON} {
			out, err := marshal(p.Document())
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			again, err := Parse("again", out)
			if err != nil {
				t.Fatalf("re-parsing\n%s\nfailed: %v", out, err)
			}
			if got := again.Document().Rules; !reflect.DeepEqual(got, rules) {
				t.Fatalf("round trip through\n%s\ngave\n%#v\nwant\n%#v", out, got, rules)
			}
		}
	})
}

// FuzzPreflight pits Preflight and Actual against refPreflight, a slow
// matcher written straight from the rules with regular expressions and
// loops. The policy is drawn from policySeed, from a vocabulary of origins
// and headers together with ones made from the request itself (as written,
// upper-cased, or with a span replaced by "*"); headers holds the lines of
// Access-Control-Request-Headers separated by "\n".
func FuzzPreflight(f *testing.F) {
	// The seeds are in testdata/fuzz/FuzzPreflight.
	f.Fuzz(func(t *testing.T, policySeed []byte, origin, method, headers string) {
		doc := fuzzDocument(policySeed, origin, headers)
		p, err := Compile("fuzz", doc)
		if err != nil {
			t.Fatalf("a generated policy did not compile: %v\n%#v", err, doc)
		}
		var lines []string
		if headers != "" {
			lines = strings.Split(headers, "\n")
		}
		want := refPreflight(doc, origin, method, lines)
		if got := p.Preflight(origin, method, lines); got != want {
			t.Fatalf("Preflight(%q, %q, %q) =\n%+v\nreference says\n%+v\npolicy %#v", origin, method, lines, got, want, doc.Rules)
		}
		wantActual := refPreflight(doc, origin, method, nil).Grant
		if got := p.Actual(origin, method); got != wantActual {
			t.Fatalf("Actual(%q, %q) =\n%+v\nreference says\n%+v\npolicy %#v", origin, method, got, wantActual, doc.Rules)
		}
	})
}

// refPreflight evaluates a preflight the slow and obvious way.
func refPreflight(doc *Document, origin, method string, lines []string) PreflightResult {
	joined := strings.Join(lines, ",")
	var names []string
	for _, e := range strings.Split(joined, ",") {
		if n := strings.Trim(e, " \t"); n != "" {
			names = append(names, n)
		}
	}
	if len(joined) > MaxRequestHeadersBytes || len(names) > MaxRequestHeaderNames {
		return PreflightResult{Grant: Grant{Denied: DeniedTooManyHeaders}}
	}
	if origin == "" || len(origin) > maxOriginLength {
		return PreflightResult{Grant: Grant{Denied: DeniedOrigin}}
	}
	var byOrigin, byMethod []int
	for i, r := range doc.Rules {
		if slices.ContainsFunc(r.AllowedOrigins, func(o string) bool { return refOriginMatch(o, origin) }) {
			byOrigin = append(byOrigin, i)
			if slices.Contains(r.AllowedMethods, method) {
				byMethod = append(byMethod, i)
			}
		}
	}
	switch {
	case len(byOrigin) == 0:
		return PreflightResult{Grant: Grant{Denied: DeniedOrigin}}
	case len(byMethod) == 0:
		return PreflightResult{Grant: Grant{Denied: DeniedMethod}}
	}
	// Each candidate's first refused name; the answer is the first rule that
	// refuses none, else the name at which the last candidate dropped out.
	lastOut := -1
	for _, i := range byMethod {
		r := doc.Rules[i]
		refused := slices.IndexFunc(names, func(n string) bool { return !refHeaderAllowed(r.AllowedHeaders, n) })
		if refused < 0 {
			return refGrant(i, r, origin, names)
		}
		lastOut = max(lastOut, refused)
	}
	return PreflightResult{Grant: Grant{Denied: DeniedHeader}, DeniedHeader: names[lastOut]}
}

var (
	refOriginForm = regexp.MustCompile(`^[a-z][a-z0-9+.\-]*://([a-z0-9._\-]+|\[[0-9a-f:.]+\])(:[0-9]+)?$`)
	refToken      = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
)

// refOriginMatch: "*" allows any Origin; other entries, lowered, allow only
// an origin in a browser's form.
func refOriginMatch(allowed, origin string) bool {
	if allowed == "*" {
		return true
	}
	return refOriginForm.MatchString(origin) && refWildcardMatch(refLower(allowed), origin)
}

func refHeaderAllowed(allowed []string, name string) bool {
	if !refToken.MatchString(name) {
		return false
	}
	return slices.ContainsFunc(allowed, func(a string) bool {
		return a == "*" || refWildcardMatch(refLower(a), refLower(name))
	})
}

// refLower lowers ASCII letters only, as HTTP compares header names.
func refLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// refWildcardMatch matches s against a pattern whose one "*" stands for one
// or more characters, or against a plain string.
func refWildcardMatch(pattern, s string) bool {
	prefix, suffix, ok := strings.Cut(pattern, "*")
	if !ok {
		return pattern == s
	}
	re := regexp.MustCompile("^" + regexp.QuoteMeta(prefix) + "(?s:.+)" + regexp.QuoteMeta(suffix) + "$")
	return re.MatchString(s)
}

func refGrant(i int, r Rule, origin string, names []string) PreflightResult {
	var methods []string
	for _, m := range r.AllowedMethods {
		if !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	g := Grant{Allowed: true, RuleIndex: i + 1, RuleID: r.ID, AllowOrigin: origin, AllowCredentials: true,
		AllowMethods: strings.Join(methods, ", "), ExposeHeaders: strings.Join(r.ExposeHeaders, ", ")}
	if slices.Contains(r.AllowedOrigins, "*") {
		g.AllowOrigin, g.AllowCredentials = "*", false
	}
	if r.MaxAgeSeconds != nil {
		g.MaxAge = strconv.Itoa(*r.MaxAgeSeconds)
	}
	lowered := make([]string, len(names))
	for k, n := range names {
		lowered[k] = refLower(n)
	}
	return PreflightResult{Grant: g, AllowHeaders: strings.Join(lowered, ", ")}
}

var (
	// The vocabularies hold values with warnings too ("null", a trailing
	// "/", a list in one entry): S3 takes them, and so does Compile.
	fuzzOrigins = []string{"*", "https://app.example.com", "https://*.example.com", "http://localhost:*",
		"HTTPS://Upper.Example.COM", "https://*", "https://*example.com", "*://example.com", "http://[::1]:8080",
		"https://example.com.", "https://a*b.test", "https://example.com:8443", "http://my_host.internal:8080",
		"null", "", "https://app.example.com/", "localhost:4566", "*.example.com"}
	fuzzHeaders = []string{"*", "content-type", "X-Amz-Date", "x-amz-*", "*-id", "x-*-y", "Range", "authorization",
		"", "content-type, x-amz-date", "x-amz-* "}
	fuzzExpose = []string{"ETag", "x-amz-request-id", "Content-Length", "*"}
)

// seedSource hands out the bytes of a fuzz seed, then zeros.
type seedSource []byte

func (s *seedSource) next() int {
	if len(*s) == 0 {
		return 0
	}
	b := (*s)[0]
	*s = (*s)[1:]
	return int(b)
}

// fuzzDocument builds a policy of 1 to 4 rules from seed that S3 accepts,
// warnings and all.
func fuzzDocument(seed []byte, origin, headers string) *Document {
	src := seedSource(seed)
	firstName := strings.Trim(strings.SplitN(strings.SplitN(headers, "\n", 2)[0], ",", 2)[0], " \t")
	doc := &Document{}
	for i := 1 + src.next()%4; i > 0; i-- {
		var r Rule
		if src.next()%2 == 1 {
			r.ID = fmt.Sprintf("rule-%d", len(doc.Rules)+1)
		}
		for k := 1 + src.next()%3; k > 0; k-- {
			r.AllowedOrigins = append(r.AllowedOrigins, pick(&src, fuzzOrigins, origin))
		}
		mask, turn := 1+src.next()%31, src.next()
		for k := range supportedMethods {
			if m := (k + turn) % len(supportedMethods); mask&(1<<m) != 0 {
				r.AllowedMethods = append(r.AllowedMethods, supportedMethods[m])
			}
		}
		for k := src.next() % 4; k > 0; k-- {
			r.AllowedHeaders = append(r.AllowedHeaders, pick(&src, fuzzHeaders, firstName))
		}
		for k := src.next() % 3; k > 0; k-- {
			r.ExposeHeaders = append(r.ExposeHeaders, fuzzExpose[src.next()%len(fuzzExpose)])
		}
		if src.next()%3 > 0 {
			r.MaxAgeSeconds = intp(src.next() * 300)
		}
		doc.Rules = append(doc.Rules, r)
	}
	return doc
}

// pick returns an entry of vocabulary, or one made from the request's own
// value: as written, upper-cased, or with a span turned into "*". A made
// value that S3 would refuse gives way to the first entry of vocabulary.
func pick(src *seedSource, vocabulary []string, request string) string {
	choice := src.next() % (len(vocabulary) + 3)
	if choice < len(vocabulary) {
		return vocabulary[choice]
	}
	value := request
	switch choice - len(vocabulary) {
	case 1:
		value = strings.ToUpper(request)
	case 2:
		from := src.next() % (len(request) + 1)
		to := min(from+src.next()%8, len(request))
		value = request[:from] + "*" + request[to:]
	}
	if hasTwoStars(value) || !xmlCarries(value) {
		return vocabulary[0]
	}
	return value
}

func TestReferenceAgreesOnTables(t *testing.T) {
	doc, err := Decode("uploads", []byte(uploads))
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, uploads)
	for _, req := range []struct {
		origin, method string
		headers        []string
	}{
		{"https://app.example.com", "PUT", []string{"content-type,x-amz-date"}},
		{"https://app.example.com", "GET", []string{"Range"}},
		{"https://cdn.example.com", "PUT", nil},
		{"https://x.test", "GET", []string{"x"}},
		{"null", "GET", []string{""}},
		{"https://x.test/", "GET", nil},
		{"localhost:4566", "GET", nil},
		{"", "GET", nil},
		{"https://app.example.com", "PUT", []string{"X-Amz-Date", "content-type"}},
	} {
		if got, want := p.Preflight(req.origin, req.method, req.headers), refPreflight(doc, req.origin, req.method, req.headers); got != want {
			t.Errorf("Preflight%q = %+v, reference %+v", req, got, want)
		}
	}
}
