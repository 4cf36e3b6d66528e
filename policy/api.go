package policy

import "io"

// ---- This file fixes the package's exported API. The bodies are to be written;
// ---- the signatures and the documented behaviour are the contract the
// ---- caddymodule package is built against. Move each declaration to the file
// ---- of its concern (decode.go, validate.go, compile.go, evaluate.go,
// ---- encode.go) and delete this file.

// Decode reads a document in any of the four dialects, telling them apart by
// shape. JSON may carry comments and trailing commas. A document larger than
// MaxDocumentSize is refused. Decode checks syntax and shape only (unknown
// fields are errors); Compile validates the rules. name says where the
// document came from (a file path, "Caddyfile:12") and starts every error.
func Decode(name string, data []byte) (*Document, error) { panic("unimplemented") }

// ReadDocument decodes the document that r yields, reading at most
// MaxDocumentSize+1 bytes of it: a larger one is refused without being read
// whole.
func ReadDocument(name string, r io.Reader) (*Document, error) { panic("unimplemented") }

// Validate checks the document against S3's rules and returns nil or a
// *ValidationError that lists every problem found.
func (d *Document) Validate(name string) error { panic("unimplemented") }

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
}

// Error renders every problem, one per line, each naming the document, the
// rule, the field, the value, the reason and the fix.
func (e *ValidationError) Error() string { panic("unimplemented") }

// Compile validates doc and compiles it. The Policy keeps a copy of doc.
func Compile(name string, doc *Document) (*Policy, error) { panic("unimplemented") }

// Parse is Decode followed by Compile.
func Parse(name string, data []byte) (*Policy, error) { panic("unimplemented") }

// Read is ReadDocument followed by Compile.
func Read(name string, r io.Reader) (*Policy, error) { panic("unimplemented") }

// Policy is a compiled document. It is immutable and safe for concurrent use.
type Policy struct {
	// unexported compiled form
}

// Document returns a copy of the document the policy was compiled from.
func (p *Policy) Document() *Document { panic("unimplemented") }

// Preflight evaluates a CORS preflight: origin is the Origin header, method the
// Access-Control-Request-Method ("" when absent, which no rule allows), and
// requestHeaders every line of Access-Control-Request-Headers (nil when
// absent). It does not allocate when requestHeaders is at most one line that
// is already lower case, comma-separated and free of empty elements (as
// browsers send it).
func (p *Policy) Preflight(origin, method string, requestHeaders []string) PreflightResult {
	panic("unimplemented")
}

// Actual evaluates a request that is not a preflight: origin is its Origin
// header and method its own method. It never allocates.
func (p *Policy) Actual(origin, method string) Grant { panic("unimplemented") }

// Denial says why a request was refused.
type Denial uint8

// The reasons a request can be refused.
const (
	// NotDenied: a rule matched.
	NotDenied Denial = iota
	// DeniedOrigin: no rule allows the origin, or the origin is malformed.
	DeniedOrigin
	// DeniedMethod: rules allow the origin, but none of them the method.
	DeniedMethod
	// DeniedHeader: rules allow origin and method, but not every requested
	// header; PreflightResult.DeniedHeader names the first one refused.
	DeniedHeader
	// DeniedTooManyHeaders: Access-Control-Request-Headers exceeds
	// MaxRequestHeaderNames or MaxRequestHeadersBytes.
	DeniedTooManyHeaders
)

// String returns a short phrase for logs ("origin not allowed").
func (d Denial) String() string { panic("unimplemented") }

// Grant is what a matching rule lets a response carry. Its values are ready
// for the wire; those of the rule were rendered at compile time.
type Grant struct {
	// Allowed is false when no rule matched; the other fields are then empty.
	Allowed bool
	// Denied says why not, when Allowed is false.
	Denied Denial
	// RuleIndex is the 1-based index of the matching rule, RuleID its ID.
	RuleIndex int
	RuleID    string
	// AllowOrigin is "*" when the rule allows any origin, else the request's
	// Origin.
	AllowOrigin string
	// AllowCredentials is true unless AllowOrigin is "*".
	AllowCredentials bool
	// AllowMethods is the rule's methods, comma-separated ("GET, PUT").
	AllowMethods string
	// ExposeHeaders is the rule's ExposeHeaders, comma-separated, or "".
	ExposeHeaders string
	// MaxAge is the rule's MaxAgeSeconds in decimal, or "" when unset.
	MaxAge string
}

// PreflightResult is the answer to a preflight.
type PreflightResult struct {
	Grant
	// AllowHeaders is the requested header names, lower case and
	// comma-separated, when allowed and some were requested.
	AllowHeaders string
	// DeniedHeader is the first requested name no rule allowed, on DeniedHeader.
	DeniedHeader string
}

// MarshalS3XML renders the document as S3 CORSConfiguration XML, with S3's
// namespace. Decoding the result gives the same rules.
func (d *Document) MarshalS3XML() ([]byte, error) { panic("unimplemented") }

// MarshalR2JSON renders the document as R2 dashboard JSON (a top-level array).
// Rule IDs are kept as "ID". Decoding the result gives the same rules.
func (d *Document) MarshalR2JSON() ([]byte, error) { panic("unimplemented") }
