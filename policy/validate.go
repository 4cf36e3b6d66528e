package policy

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidationError lists every problem of one document.
type ValidationError struct {
	// Name says where the document came from.
	Name string
	// Problems are in document order.
	Problems []Problem
}

// Problem is one mistake in a document.
type Problem struct {
	// Rule is the 1-based index of the rule, or 0 for the document as a whole.
	Rule int
	// RuleID is the rule's ID, if it has one.
	RuleID string
	// Field names the field in the document's own dialect, with the 1-based
	// index of the element where it applies ("AllowedOrigins[1]").
	Field string
	// Value is the offending value, as written.
	Value string
	// Reason says what is wrong ("an origin has no path").
	Reason string
	// Fix says what to do ("remove the trailing \"/\": use \"https://static.example.com\"").
	Fix string
	// Warning is true when S3 accepts the value but it is likely a mistake:
	// no browser can match it, or it does not do what it seems to.
	Warning bool
}

// Error renders every problem, one per line, each naming the document, the
// rule, the field, the value, the reason and the fix.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 0 {
		return e.Name + ": invalid CORS policy"
	}
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		p.render(&b, e.Name)
	}
	return b.String()
}

// render writes one line:
//
//	cors.json: rule 2 (ID "web"): AllowedOrigins[1] "https://a.com/": an origin has no path; drop the trailing "/": use "https://a.com"
func (p *Problem) render(b *strings.Builder, name string) {
	b.WriteString(name)
	b.WriteString(": ")
	if p.Rule > 0 {
		fmt.Fprintf(b, "rule %d", p.Rule)
		if p.RuleID != "" {
			fmt.Fprintf(b, " (ID %s)", quoteValue(p.RuleID))
		}
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
	}
	// An indexed field always shows its value, so that an empty one shows as "".
	if p.Value != "" || strings.HasSuffix(p.Field, "]") {
		if p.Field != "" {
			b.WriteByte(' ')
		}
		b.WriteString(quoteValue(p.Value))
	}
	if p.Field != "" || p.Value != "" {
		b.WriteString(": ")
	}
	b.WriteString(p.Reason)
	if p.Fix != "" {
		b.WriteString("; ")
		b.WriteString(p.Fix)
	}
}

// quoteValue quotes a value for one line of a message: control characters
// escaped, and a value past 100 bytes cut short.
func quoteValue(v string) string {
	const most = 100
	if len(v) <= most {
		return strconv.Quote(v)
	}
	return strconv.Quote(v[:most]) + fmt.Sprintf("... (%d bytes)", len(v))
}

// Validate checks doc by S3's rules and returns every problem found, in
// document order, or nil when there is none. A problem that S3's
// PutBucketCors would refuse is an error; one that S3 accepts but that is
// likely a mistake (an origin no browser sends, a MaxAgeSeconds that browsers
// cap) has Warning set.
func Validate(name string, doc *Document) *ValidationError {
	if doc == nil {
		return &ValidationError{Name: name, Problems: []Problem{{Reason: "no document", Fix: "write a list of CORS rules"}}}
	}
	v := validator{naming: doc.Dialect.naming()}
	v.document(doc)
	if len(v.problems) > 0 {
		return &ValidationError{Name: name, Problems: v.problems}
	}
	return nil
}

// Validate checks the document strictly, as CompileStrict does: it returns
// nil, or a *ValidationError that lists every error and warning.
func (d *Document) Validate(name string) error {
	if err := Validate(name, d); err != nil {
		return err
	}
	return nil
}

// Errors returns the problems that are not warnings, nil when there are
// none.
func (e *ValidationError) Errors() *ValidationError { return e.filter(false) }

// Warnings returns the problems that are warnings, nil when there are none.
func (e *ValidationError) Warnings() *ValidationError { return e.filter(true) }

func (e *ValidationError) filter(warning bool) *ValidationError {
	if e == nil {
		return nil
	}
	var kept []Problem
	for _, p := range e.Problems {
		if p.Warning == warning {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return &ValidationError{Name: e.Name, Problems: kept}
}

// validator collects the problems of one document.
type validator struct {
	naming   *naming
	problems []Problem
	// rule and id locate the problems being added.
	rule int
	id   string
}

// add records an error, a problem that S3 refuses.
func (v *validator) add(field, value, reason, fix string) {
	v.problems = append(v.problems, Problem{Rule: v.rule, RuleID: v.id, Field: field, Value: value, Reason: reason, Fix: fix})
}

// warn records a warning, a problem that S3 accepts.
func (v *validator) warn(field, value, reason, fix string) {
	v.add(field, value, reason, fix)
	v.problems[len(v.problems)-1].Warning = true
}

func (v *validator) document(d *Document) {
	switch n := len(d.Rules); {
	case n == 0:
		v.add(v.naming.rules, "", "a document has at least one rule", "add a rule, such as "+v.naming.example)
	case n > MaxRules:
		v.add(v.naming.rules, "", fmt.Sprintf("the document has %d rules; S3 allows at most %d", n, MaxRules),
			"merge rules that allow the same methods and headers")
	}
	for i := range d.Rules {
		v.rule, v.id = i+1, d.Rules[i].ID
		v.ruleFields(&d.Rules[i])
	}
}

func (v *validator) ruleFields(r *Rule) {
	names := &v.naming.fields
	v.checkID(names[fieldID], r.ID)
	if len(r.AllowedOrigins) == 0 {
		v.add(names[fieldOrigins], "", "a rule allows at least one origin",
			`add one, such as "https://example.com", or "*" for any`)
	}
	v.each(names[fieldOrigins], r.AllowedOrigins, checkOrigin, hasTwoStars)
	if len(r.AllowedMethods) == 0 {
		v.add(names[fieldMethods], "", "a rule allows at least one method", "add some of "+methodList)
	}
	v.each(names[fieldMethods], r.AllowedMethods, checkMethod, always)
	v.each(names[fieldHeaders], r.AllowedHeaders, checkAllowedHeader, hasTwoStars)
	v.each(names[fieldExpose], r.ExposeHeaders, checkExposeHeader, never)
	if r.MaxAgeSeconds != nil {
		v.maxAge(names[fieldMaxAge], *r.MaxAgeSeconds)
	}
}

// each checks every element of a list, naming it by its 1-based index. check
// says what is wrong with a value. The problem is an error when S3 refuses
// the value (refused says so, or its XML cannot carry the value), else a
// warning.
func (v *validator) each(field string, values []string, check func(string) (reason, fix string), refused func(string) bool) {
	for i, value := range values {
		reason, fix := check(value)
		carried := xmlCarries(value)
		switch {
		case reason == "" && carried:
			continue
		case reason == "":
			reason, fix = "a value is UTF-8 text without control characters", "retype it"
		}
		name := fmt.Sprintf("%s[%d]", field, i+1)
		if refused(value) || !carried {
			v.add(name, value, reason, fix)
		} else {
			v.warn(name, value, reason, fix)
		}
	}
}

// What S3 refuses in a list, beyond text its XML cannot carry.
func hasTwoStars(s string) bool { return strings.Count(s, "*") > 1 }
func always(string) bool        { return true }
func never(string) bool         { return false }

// xmlCarries reports whether s can travel in S3's XML: valid UTF-8 with no
// character that XML 1.0 forbids. S3 cannot receive any other value, and it
// would not survive the trip through MarshalS3XML.
func xmlCarries(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, notXMLChar) < 0
}

// notXMLChar reports a rune outside XML 1.0's Char production.
func notXMLChar(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF
}

// maxIDLength is S3's limit on a rule ID, in characters.
const maxIDLength = 255

// checkID checks an ID: S3 takes up to 255 characters of text that its XML
// can carry. Other control characters (tab, line breaks) travel, but are
// likely a mistake.
func (v *validator) checkID(field, id string) {
	switch {
	case !utf8.ValidString(id):
		v.add(field, id, "an ID is UTF-8 text", "retype it")
	case utf8.RuneCountInString(id) > maxIDLength:
		v.add(field, id, fmt.Sprintf("an ID is at most %d characters", maxIDLength), "shorten it")
	case !xmlCarries(id):
		v.add(field, id, "an ID has no control characters", "remove them")
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		v.warn(field, id, "an ID has no control characters", "remove them")
	}
}

// maxAge checks MaxAgeSeconds: S3 refuses a negative one, and takes a large
// one that browsers cap (Firefox at a day, Chrome at two hours).
func (v *validator) maxAge(field string, n int) {
	switch {
	case n < 0:
		v.add(field, strconv.Itoa(n), "MaxAgeSeconds is from 0 to 86400", "use 0 or more")
	case n > MaxAgeLimit:
		v.warn(field, strconv.Itoa(n), "MaxAgeSeconds is from 0 to 86400",
			"use 86400 at most (browsers cap it lower still)")
	}
}

// The methods S3 allows in a rule, in its order.
var supportedMethods = [...]string{"GET", "PUT", "POST", "DELETE", "HEAD"}

const methodList = "GET, PUT, POST, DELETE, HEAD"

func checkMethod(m string) (reason, fix string) {
	if isMethod(m) {
		return "", ""
	}
	reason = "Found unsupported HTTP method in CORS config; S3 allows " + methodList
	switch up := strings.ToUpper(strings.TrimSpace(m)); {
	case isMethod(up):
		return reason, fmt.Sprintf("write it as %q", up)
	case up == "OPTIONS":
		return reason, "remove it: preflights are answered for the rule's other methods"
	case up == "*":
		return reason, "list the methods instead: " + methodList
	default:
		return reason, "remove it, or use one of " + methodList
	}
}

func isMethod(m string) bool {
	_, ok := methodIndex(m)
	return ok
}

func checkAllowedHeader(h string) (reason, fix string) {
	if reason, fix = checkHeaderName(h); reason != "" {
		return reason, fix
	}
	if strings.Count(h, "*") > 1 {
		return "a header name has at most one *", `keep one, such as "x-amz-*"`
	}
	return "", ""
}

func checkExposeHeader(h string) (reason, fix string) {
	if reason, fix = checkHeaderName(h); reason != "" {
		return reason, fix
	}
	if strings.Contains(h, "*") {
		return "ExposeHeaders take no *", `name each header that scripts may read, such as "ETag"`
	}
	return "", ""
}

// checkHeaderName checks that h is an HTTP token (RFC 9110), the only form a
// header name takes.
func checkHeaderName(h string) (reason, fix string) {
	switch trimmed := strings.TrimSpace(h); {
	case h == "":
		return "a header name is empty", "remove it"
	case trimmed != h && trimmed != "":
		return "a header name has spaces around it", fmt.Sprintf("use %q", trimmed)
	case strings.Contains(h, ","):
		return "one header name per entry", "write " + quotedList(strings.Split(h, ",")) + " as separate entries"
	}
	for i := 0; i < len(h); i++ {
		if charClass[h[i]]&classToken == 0 {
			c, _ := utf8.DecodeRuneInString(h[i:])
			return "a header name has letters, digits and !#$%&'*+-.^_`|~ only", fmt.Sprintf("remove %q", c)
		}
	}
	return "", ""
}

// quotedList renders values as "a", "b".
func quotedList(values []string) string {
	quoted := make([]string, len(values))
	for i, s := range values {
		quoted[i] = strconv.Quote(strings.TrimSpace(s))
	}
	return strings.Join(quoted, ", ")
}
