package policy

import (
	"slices"
	"strconv"
	"strings"
)

// Policy is a compiled document. Its answers never change, and it is safe for
// concurrent use.
type Policy struct {
	doc     Document
	rules   []compiledRule
	origins originIndex
	// methods holds, for each method (methodIndex), the bit set of the rules
	// that allow it: the rules' method masks, turned so that one index gives
	// every rule at once.
	methods [len(supportedMethods)]ruleSet
	headers headerIndex
	// warnings are the document's problems that S3 accepts; nil when none.
	warnings *ValidationError
	// lines are the Access-Control-Request-Headers lines answered so far.
	lines knownLines
}

// compiledRule is what a matching rule contributes to an answer.
type compiledRule struct {
	anyOrigin bool  // the rule allows "*": answer "*", without credentials
	grant     Grant // every value the rule decides, rendered once
}

// Compile validates doc by S3's rules and compiles it. It fails only on
// errors, what S3's PutBucketCors refuses; the *ValidationError lists them.
// An entry with a warning stays in the policy and is matched as written (an
// origin with a path matches no Origin a browser sends); Warnings lists them. This is how documents read at run time are judged:
// what S3 would serve is served. The Policy keeps a copy of doc.
func Compile(name string, doc *Document) (*Policy, error) {
	problems := Validate(name, doc)
	if errs := problems.Errors(); errs != nil {
		return nil, errs
	}
	return compile(doc, problems.Warnings()), nil
}

// CompileStrict is Compile for a document that a person is at hand to fix,
// such as one written in a Caddyfile: a warning is an error too, and the
// *ValidationError lists errors and warnings.
func CompileStrict(name string, doc *Document) (*Policy, error) {
	if problems := Validate(name, doc); problems != nil {
		return nil, problems
	}
	return compile(doc, nil), nil
}

// compile builds the policy of a document without errors.
func compile(doc *Document, warnings *ValidationError) *Policy {
	p := &Policy{
		doc:      *copyDocument(doc),
		rules:    make([]compiledRule, len(doc.Rules)),
		origins:  originIndex{patternIndex{exact: make(map[string]ruleSet)}},
		headers:  headerIndex{patternIndex: patternIndex{exact: make(map[string]ruleSet)}},
		warnings: warnings,
	}
	for i := range p.doc.Rules {
		p.compileRule(i, &p.doc.Rules[i])
	}
	return p
}

// Warnings returns the problems of the policy's document that S3 accepts,
// each with Warning set, or nil when there are none.
func (p *Policy) Warnings() *ValidationError {
	if p.warnings == nil {
		return nil
	}
	return &ValidationError{Name: p.warnings.Name, Problems: slices.Clone(p.warnings.Problems)}
}

func (p *Policy) compileRule(i int, r *Rule) {
	for _, o := range r.AllowedOrigins {
		p.origins.add(o, i)
	}
	for _, m := range r.AllowedMethods {
		k, _ := methodIndex(m)
		p.methods[k].add(i)
	}
	for _, h := range r.AllowedHeaders {
		p.headers.add(h, i)
	}
	p.rules[i] = compiledRule{
		anyOrigin: slices.Contains(r.AllowedOrigins, "*"),
		grant: Grant{
			Allowed:       true,
			RuleIndex:     i + 1,
			RuleID:        r.ID,
			AllowMethods:  strings.Join(uniqueMethods(r.AllowedMethods), ", "),
			ExposeHeaders: strings.Join(r.ExposeHeaders, ", "),
			MaxAge:        renderMaxAge(r.MaxAgeSeconds),
		},
	}
}

// uniqueMethods keeps the rule's order and drops repeats.
func uniqueMethods(methods []string) []string {
	var out []string
	for _, m := range methods {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func renderMaxAge(seconds *int) string {
	if seconds == nil {
		return ""
	}
	return strconv.Itoa(*seconds)
}

// methodIndex numbers the methods that S3 allows. It is case-sensitive, as
// methods are in the Fetch standard.
func methodIndex(m string) (int, bool) {
	switch m {
	case "GET":
		return 0, true
	case "PUT":
		return 1, true
	case "POST":
		return 2, true
	case "DELETE":
		return 3, true
	case "HEAD":
		return 4, true
	}
	return 0, false
}

// Document returns a copy of the document the policy was compiled from.
func (p *Policy) Document() *Document { return copyDocument(&p.doc) }

// copyDocument copies doc deeply, so that neither side can change the other.
func copyDocument(doc *Document) *Document {
	out := &Document{Dialect: doc.Dialect, Rules: make([]Rule, len(doc.Rules))}
	for i, r := range doc.Rules {
		out.Rules[i] = Rule{
			ID:             r.ID,
			AllowedOrigins: slices.Clone(r.AllowedOrigins),
			AllowedMethods: slices.Clone(r.AllowedMethods),
			AllowedHeaders: slices.Clone(r.AllowedHeaders),
			ExposeHeaders:  slices.Clone(r.ExposeHeaders),
		}
		if r.MaxAgeSeconds != nil {
			n := *r.MaxAgeSeconds
			out.Rules[i].MaxAgeSeconds = &n
		}
	}
	return out
}
