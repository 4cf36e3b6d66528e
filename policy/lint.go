package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Lint returns advice on a document: what S3 accepts and validation lets
// pass, but that likely does not do what its author means. Every Problem has
// Warning set, and names the rule, the field and the value where it applies,
// so that a ValidationError of them renders one line each:
//
//	cors.json: rule 1 (ID "web"): AllowedOrigins[1] "https://*.vercel.app": the * stands for ...; list ...
//
// Lint does not repeat validation (an origin with a trailing "/", a method S3
// does not support such as OPTIONS, MaxAgeSeconds over 86400: see Validate).
// It reads any decoded document, valid or not, and skips values that
// validation refuses.
func Lint(doc *Document) []Problem {
	if doc == nil {
		return nil
	}
	l := linter{doc: doc, naming: doc.Dialect.naming()}
	for i := range doc.Rules {
		l.lintRule(i)
	}
	return l.problems
}

// linter collects the advice on one document.
type linter struct {
	doc      *Document
	naming   *naming
	problems []Problem
	// rule and id locate the advice being added.
	rule int
	id   string
}

func (l *linter) add(field, value, reason, fix string) {
	l.problems = append(l.problems, Problem{Rule: l.rule, RuleID: l.id, Field: field, Value: value,
		Reason: reason, Fix: fix, Warning: true})
}

// field names a field of a rule in the document's dialect, with the 1-based
// index of an element when index > 0.
func (l *linter) field(f ruleField, index int) string {
	if index > 0 {
		return fmt.Sprintf("%s[%d]", l.naming.fields[f], index)
	}
	return l.naming.fields[f]
}

func (l *linter) lintRule(i int) {
	r := &l.doc.Rules[i]
	l.rule, l.id = i+1, r.ID
	if l.shadowed(i) {
		return // the rest is moot for a rule that never applies
	}
	l.origins(r)
	l.methods(r)
	l.uploads(r)
	l.maxAge(r)
}

// shadowed reports a rule that an earlier one allows every request of, so
// that it never applies: rules are tried in order and the first match wins.
func (l *linter) shadowed(j int) bool {
	r := &l.doc.Rules[j]
	if len(r.AllowedOrigins) == 0 || len(r.AllowedMethods) == 0 {
		return false // validation reports it
	}
	for i := range j {
		if ruleCovers(&l.doc.Rules[i], r) {
			earlier := "rule " + strconv.Itoa(i+1)
			if id := l.doc.Rules[i].ID; id != "" {
				earlier += " (ID " + quoteValue(id) + ")"
			}
			l.add("", "", earlier+" allows every request that this rule allows, so this rule never applies",
				"remove it, or move it above "+earlier+" if its "+l.field(fieldExpose, 0)+" or "+
					l.field(fieldMaxAge, 0)+" should apply")
			return true
		}
	}
	return false
}

// ruleCovers reports whether rule a allows every request that rule b
// allows: each origin, method and header of b is one that a allows.
func ruleCovers(a, b *Rule) bool {
	return allCovered(a.AllowedOrigins, b.AllowedOrigins) &&
		!slices.ContainsFunc(b.AllowedMethods, func(m string) bool { return !slices.Contains(a.AllowedMethods, m) }) &&
		allCovered(a.AllowedHeaders, b.AllowedHeaders)
}

// allCovered reports whether every value of b is covered by a value of a.
func allCovered(a, b []string) bool {
	for _, v := range b {
		if !slices.ContainsFunc(a, func(p string) bool { return patternCovers(p, v) }) {
			return false
		}
	}
	return true
}

// patternCovers reports whether pattern allows every value that value
// allows, without regard to case. Each is "*", an exact value, or a value
// with one "*" that stands for one or more characters. It may say no to a
// pattern that does cover (advice errs on the side of silence), never yes to
// one that does not.
func patternCovers(pattern, value string) bool {
	p, v := strings.ToLower(pattern), strings.ToLower(value)
	if p == "*" || p == v {
		return true
	}
	if v == "*" || strings.Count(p, "*") != 1 || strings.Count(v, "*") > 1 {
		return false
	}
	prefix, suffix, _ := strings.Cut(p, "*")
	vPrefix, vSuffix, isPattern := strings.Cut(v, "*")
	if !isPattern {
		return len(v) > len(prefix)+len(suffix) && strings.HasPrefix(v, prefix) && strings.HasSuffix(v, suffix)
	}
	// Every value of v starts with vPrefix and ends with vSuffix, and is
	// longer than both together.
	return strings.HasPrefix(vPrefix, prefix) && strings.HasSuffix(vSuffix, suffix)
}

// headerAllowed reports whether a request header name is one that allowed
// (a rule's AllowedHeaders) lets a preflight ask for.
func headerAllowed(allowed []string, name string) bool {
	return slices.ContainsFunc(allowed, func(p string) bool { return patternCovers(p, name) })
}

func (l *linter) origins(r *Rule) {
	hasHTTPS := slices.ContainsFunc(r.AllowedOrigins, func(o string) bool { return schemeOf(o) == "https" })
	for k, o := range r.AllowedOrigins {
		if suffix, ok := wildcardUnderPublicSuffix(o); ok {
			l.add(l.field(fieldOrigins, k+1), o,
				"the * stands for every site under "+suffix+", a public suffix where anyone can register a name",
				"list your own sites instead, such as "+strconv.Quote(strings.Replace(o, "*", "myapp", 1)))
		}
		if hasHTTPS && schemeOf(o) == "http" && !isLoopbackOrigin(o) {
			l.add(l.field(fieldOrigins, k+1), o,
				"a plain-http origin in a rule that also allows https ones: anyone on the network of a page "+
					"served over http can use what this rule grants",
				"remove it if the site is served over https, or give it a rule of its own with fewer methods")
		}
	}
}

// wildcardUnderPublicSuffix reports an origin pattern whose "*" is the
// whole label right under a public suffix ("https://*.vercel.app",
// "https://*.co.uk", "https://*.com"), and that suffix.
func wildcardUnderPublicSuffix(origin string) (string, bool) {
	host, ok := hostOf(origin)
	if !ok {
		return "", false
	}
	suffix, found := strings.CutPrefix(host, "*.")
	if !found || suffix == "" || strings.ContainsAny(suffix, "*[") {
		return "", false
	}
	public, icann := publicsuffix.PublicSuffix(suffix)
	// By the list's default rule a name it does not know is its own public
	// suffix; a single label of that kind ("localhost", "test") is a local
	// name, not one where strangers register sites.
	if public != suffix || !icann && !strings.Contains(suffix, ".") {
		return "", false
	}
	return suffix, true
}

// schemeOf returns the lower-case scheme of an origin, "" when it has none.
func schemeOf(origin string) string {
	scheme, _, ok := strings.Cut(origin, "://")
	if !ok {
		return ""
	}
	return strings.ToLower(scheme)
}

// hostOf returns the lower-case host of an origin (no port), and whether it
// has the form scheme://host[:port] with nothing after.
func hostOf(origin string) (string, bool) {
	_, rest, ok := strings.Cut(strings.ToLower(origin), "://")
	if !ok || rest == "" || strings.ContainsAny(rest, "/?#@") {
		return "", false
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		return rest[:end+1], end > 0
	}
	host, _, _ := strings.Cut(rest, ":")
	return host, host != ""
}

// isLoopbackOrigin reports an origin on this machine, where plain http is
// the norm: localhost, *.localhost, 127.0.0.0/8 and [::1].
func isLoopbackOrigin(origin string) bool {
	host, ok := hostOf(origin)
	return ok && (host == "localhost" || strings.HasSuffix(host, ".localhost") ||
		strings.HasPrefix(host, "127.") || host == "[::1]")
}

// The methods that upload, and the headers that aws-sdk-js v3 needs to
// read from or send with them.
var (
	uploadMethods = []string{"PUT", "POST"}
	// sdkExposeHeaders are the response headers an upload with aws-sdk-js v3
	// reads, each with why.
	sdkExposeHeaders = []struct{ name, why string }{
		{"ETag", "a multipart upload reads each part's ETag to complete"},
		{"x-amz-checksum-crc32", "aws-sdk-js v3 (3.729 and later) uploads parts with a CRC32 checksum " +
			"and reads it back, or CompleteMultipartUpload fails with 400 InvalidPart"},
	}
	// sdkRequestHeaders are those Chromium's preflight for a PutObject of
	// aws-sdk-js v3 asks for.
	sdkRequestHeaders = []string{"amz-sdk-invocation-id", "amz-sdk-request", "authorization", "content-type",
		"x-amz-checksum-crc32", "x-amz-content-sha256", "x-amz-date", "x-amz-sdk-checksum-algorithm",
		"x-amz-security-token", "x-amz-user-agent"}
	// sdkHeaderPatterns allow every one of sdkRequestHeaders.
	sdkHeaderPatterns = []string{"authorization", "content-type", "x-amz-*", "amz-sdk-*"}
)

func (l *linter) methods(r *Rule) {
	if k := slices.Index(r.AllowedMethods, "GET"); k >= 0 && !slices.Contains(r.AllowedMethods, "HEAD") {
		l.add(l.field(fieldMethods, k+1), "GET",
			"GET is allowed but HEAD is not: a page's HEAD request (for an object's size or ETag) is refused",
			`add "HEAD"`)
	}
}

// uploads advises a rule that allows PUT or POST on what aws-sdk-js v3
// needs from it.
func (l *linter) uploads(r *Rule) {
	k := slices.IndexFunc(r.AllowedMethods, func(m string) bool { return slices.Contains(uploadMethods, m) })
	if k < 0 {
		return
	}
	method := r.AllowedMethods[k]
	expose := l.field(fieldExpose, 0)
	for _, h := range sdkExposeHeaders {
		if !headerAllowed(r.ExposeHeaders, h.name) {
			l.add(expose, "", method+" is allowed but "+h.name+" is not exposed: "+h.why,
				fmt.Sprintf("add %q to %s", h.name, expose))
		}
	}
	l.sdkHeaders(r, method)
}

// sdkHeaders advises a rule whose AllowedHeaders refuse some header that
// aws-sdk-js v3 sends with an upload.
func (l *linter) sdkHeaders(r *Rule, method string) {
	var missing []string
	for _, h := range sdkRequestHeaders {
		if !headerAllowed(r.AllowedHeaders, h) {
			missing = append(missing, h)
		}
	}
	if len(missing) == 0 {
		return
	}
	// The patterns to add, in the order of the line people copy.
	var add []string
	for _, p := range sdkHeaderPatterns {
		if slices.ContainsFunc(missing, func(h string) bool { return patternCovers(p, h) }) {
			add = append(add, strconv.Quote(p))
		}
	}
	field := l.field(fieldHeaders, 0)
	l.add(field, "",
		fmt.Sprintf("the preflight of a %s by aws-sdk-js v3 asks for %s, which this rule does not allow",
			method, strings.Join(missing, ", ")),
		fmt.Sprintf("if pages upload with the SDK, add %s to %s, or allow %q", strings.Join(add, ", "), field, "*"))
}

// maxAgeCap is the longest Chromium caches a preflight answer, in seconds.
const maxAgeCap = 7200

func (l *linter) maxAge(r *Rule) {
	if r.MaxAgeSeconds == nil || *r.MaxAgeSeconds <= maxAgeCap || *r.MaxAgeSeconds > MaxAgeLimit {
		return // over MaxAgeLimit, validation reports it
	}
	l.add(l.field(fieldMaxAge, 0), strconv.Itoa(*r.MaxAgeSeconds),
		"Chromium caches a preflight answer for 2 hours (7200 seconds) at most; only Firefox keeps it longer",
		"use 7200, unless Firefox's longer cache is what you want")
}
