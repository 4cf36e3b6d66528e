package policy

import "strings"

// ruleField is a field of a rule, whatever a dialect calls it.
type ruleField uint8

const (
	fieldID ruleField = iota
	fieldOrigins
	fieldMethods
	fieldHeaders
	fieldExpose
	fieldMaxAge
	numFields
)

// naming is how a dialect spells the list of rules and the fields of a rule,
// so that every message speaks the document's own language.
type naming struct {
	rules   string // the list of rules ("" for R2's top-level array)
	fields  [numFields]string
	example string // a rule, as written in the dialect
}

var (
	jsonNaming = naming{
		fields:  [numFields]string{"ID", "AllowedOrigins", "AllowedMethods", "AllowedHeaders", "ExposeHeaders", "MaxAgeSeconds"},
		example: `{"AllowedOrigins": ["https://example.com"], "AllowedMethods": ["GET"]}`,
	}
	awsNaming = naming{
		rules:   "CORSRules",
		fields:  jsonNaming.fields,
		example: jsonNaming.example,
	}
	wranglerNaming = naming{
		rules:   "rules",
		fields:  [numFields]string{"id", "allowed.origins", "allowed.methods", "allowed.headers", "exposeHeaders", "maxAgeSeconds"},
		example: `{"allowed": {"origins": ["https://example.com"], "methods": ["GET"]}}`,
	}
	xmlNaming = naming{
		rules:   "CORSRule",
		fields:  [numFields]string{"ID", "AllowedOrigin", "AllowedMethod", "AllowedHeader", "ExposeHeader", "MaxAgeSeconds"},
		example: "<CORSRule><AllowedOrigin>https://example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>",
	}
)

// naming returns the dialect's spelling; a document built in code (Dialect
// zero) is spoken of in R2's terms, the field names of Rule.
func (d Dialect) naming() *naming {
	switch d {
	case DialectAWS:
		return &awsNaming
	case DialectWrangler:
		return &wranglerNaming
	case DialectXML:
		return &xmlNaming
	default:
		return &jsonNaming
	}
}

// String names the dialect for people ("R2 JSON").
func (d Dialect) String() string {
	switch d {
	case DialectR2:
		return "R2 JSON"
	case DialectAWS:
		return "AWS CLI JSON"
	case DialectWrangler:
		return "wrangler JSON"
	case DialectXML:
		return "S3 XML"
	default:
		return "policy"
	}
}

// suggest returns the field that a misspelt or misplaced key most likely
// means, in this dialect's spelling, or "".
func (n *naming) suggest(key string) string {
	if f, ok := guessField(key); ok {
		return n.fields[f]
	}
	return ""
}

// guessField maps the spellings people try ("AllowedOrigin", "origins",
// "expose_headers", "MaxAge") to the field they mean, by comparing letters
// only, without case, an "allowed" prefix or a plural "s".
func guessField(key string) (ruleField, bool) {
	var b strings.Builder
	for _, r := range strings.ToLower(key) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	k := b.String()
	k = strings.TrimPrefix(k, "accesscontrol")
	k = strings.TrimPrefix(k, "allowed")
	k = strings.TrimPrefix(k, "allow")
	k = strings.TrimSuffix(k, "s")
	switch k {
	case "id", "ruleid":
		return fieldID, true
	case "origin":
		return fieldOrigins, true
	case "method":
		return fieldMethods, true
	case "header":
		return fieldHeaders, true
	case "expose", "exposed", "exposeheader", "exposedheader":
		return fieldExpose, true
	case "maxage", "maxagesecond", "maxagesec":
		return fieldMaxAge, true
	}
	return 0, false
}
