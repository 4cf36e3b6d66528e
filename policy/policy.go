// Package policy reads, validates, compiles and evaluates bucket CORS policies
// the way Amazon S3 and Cloudflare R2 do.
//
// A policy arrives as a document in one of four dialects (R2's dashboard JSON,
// the AWS CLI's JSON, wrangler's JSON, or S3's XML); [Decode] tells them apart
// by shape. [Validate] lists a document's errors (what S3's PutBucketCors
// refuses) and warnings (what S3 accepts but no browser can match).
// [Compile] turns a [Document] without errors into a [Policy], keeping its
// warnings, as S3 would; [CompileStrict] refuses warnings too, for documents
// that a person is at hand to fix. A Policy is an immutable form built for
// the request path: [Policy.Preflight] and [Policy.Actual] evaluate a request
// by S3's rules (the first matching rule wins) without allocating.
//
// The package does not import Caddy; the HTTP handler lives in caddymodule.
package policy

// Limits that every document must respect.
const (
	// MaxDocumentSize is the largest document accepted, in bytes.
	MaxDocumentSize = 64 << 10
	// MaxRules is the largest number of rules in one document (S3's limit).
	MaxRules = 100
	// MaxAgeLimit is the largest MaxAgeSeconds accepted.
	MaxAgeLimit = 86400
)

// Bounds on the Access-Control-Request-Headers of a preflight. A request past
// either bound is refused at once, so its cost does not grow with its size.
const (
	// MaxRequestHeaderNames is the most header names a preflight may ask for.
	MaxRequestHeaderNames = 64
	// MaxRequestHeadersBytes is the longest Access-Control-Request-Headers
	// accepted, summed over all of its lines.
	MaxRequestHeadersBytes = 8 << 10
)

// Dialect names the format a document was written in.
type Dialect uint8

// The dialects that Decode recognises.
const (
	// DialectR2 is the R2 dashboard's JSON: a top-level array of rules with
	// AllowedOrigins, AllowedMethods, AllowedHeaders, ExposeHeaders and
	// MaxAgeSeconds.
	DialectR2 Dialect = iota + 1
	// DialectAWS is the AWS CLI's JSON: {"CORSRules": [...]}, rules as in R2
	// plus an optional ID.
	DialectAWS
	// DialectWrangler is wrangler's JSON: {"rules": [{"id", "allowed":
	// {"origins", "methods", "headers"}, "exposeHeaders", "maxAgeSeconds"}]}.
	DialectWrangler
	// DialectXML is S3's CORSConfiguration XML, with or without its namespace.
	DialectXML
)

// Rule is one CORS rule, independent of the dialect it came from.
type Rule struct {
	// ID is the rule's optional identifier.
	ID string
	// AllowedOrigins are "*", exact origins ("https://example.com") or
	// patterns with one "*" ("https://*.example.com").
	AllowedOrigins []string
	// AllowedMethods are among GET, PUT, POST, DELETE and HEAD.
	AllowedMethods []string
	// AllowedHeaders are the request header names a preflight may ask for:
	// "*", exact names, or names with one "*" ("x-amz-*").
	AllowedHeaders []string
	// ExposeHeaders are the response headers that scripts may read.
	ExposeHeaders []string
	// MaxAgeSeconds is how long a browser may cache a preflight answer; nil
	// when the rule does not say.
	MaxAgeSeconds *int
}

// Document is a policy as written: its rules in order, and the dialect it was
// read from (zero for a document built in code).
type Document struct {
	// Dialect is the format the document was read from.
	Dialect Dialect
	// Rules are in the document's order, which is the order of evaluation.
	Rules []Rule
}
