package policy

import "strconv"

// Denial says why a request was refused.
type Denial uint8

// The reasons a request can be refused.
const (
	// NotDenied: a rule matched.
	NotDenied Denial = iota
	// DeniedOrigin: no rule allows the origin, or the Origin is empty or
	// longer than 4 KiB.
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
func (d Denial) String() string {
	switch d {
	case NotDenied:
		return "allowed"
	case DeniedOrigin:
		return "origin not allowed"
	case DeniedMethod:
		return "method not allowed"
	case DeniedHeader:
		return "header not allowed"
	case DeniedTooManyHeaders:
		return "too many request headers"
	}
	return "Denial(" + strconv.Itoa(int(d)) + ")"
}

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
	// AllowHeaders is the requested header names, lower case and joined by
	// ", " as S3 joins them, when allowed and some were requested.
	AllowHeaders string
	// DeniedHeader is the first requested name no rule allowed, on DeniedHeader.
	DeniedHeader string
}

// Preflight evaluates a CORS preflight: origin is the Origin header, method the
// Access-Control-Request-Method ("" when absent, which no rule allows), and
// requestHeaders every line of Access-Control-Request-Headers (nil when
// absent). It does not allocate when requestHeaders is one line that the
// policy has answered before (it remembers the first 16 lines of up to 256
// bytes that it allows), or one of lower-case names joined by ", " (the
// answer's own form); other forms cost one allocation.
//
// A rule that allows "*" matches any Origin value that is not empty, even
// one that is not scheme://host[:port] (S3 answers Origin: localhost:4566);
// exact origins and patterns match only an origin as browsers serialise it.
//
// A request past the bounds on requestHeaders is refused with
// DeniedTooManyHeaders, whatever else it carries, at a cost that does not grow
// with its size. A requested name that is not an HTTP token is allowed by
// no rule, not even "*". When rules allow origin and method but none allows
// every name, DeniedHeader is the name at which the last of them dropped out:
// for a single such rule, the first name it refuses.
func (p *Policy) Preflight(origin, method string, requestHeaders []string) PreflightResult {
	var res PreflightResult
	size, ok := headerBytes(requestHeaders)
	if !ok {
		res.Denied = DeniedTooManyHeaders
		return res
	}
	cands, denied := p.candidates(origin, method)
	if denied != NotDenied {
		if size >= fewestBytesForTooManyNames && tooManyNames(requestHeaders) {
			denied = DeniedTooManyHeaders
		}
		res.Denied = denied
		return res
	}
	if len(requestHeaders) == 1 {
		// A line answered before needs no scan: BenchmarkPreflight/sdk/allowed-10-names.
		// A refusal is scanned again, to name the header it refuses.
		if known, ok := p.lines.lookup(requestHeaders[0]); ok {
			if rules := cands.and(known.rules); !rules.empty() {
				p.rules[rules.first()].grantTo(&res.Grant, origin)
				res.AllowHeaders = known.answer
				return res
			}
		}
	}
	var scan headerScan
	p.headers.scan(&scan, cands, requestHeaders)
	switch {
	case scan.tooMany:
		res.Denied = DeniedTooManyHeaders
	case scan.rules.empty():
		res.Denied, res.DeniedHeader = DeniedHeader, scan.refused
	default:
		p.rules[scan.rules.first()].grantTo(&res.Grant, origin)
		res.AllowHeaders = scan.allowHeaders(requestHeaders)
		p.learn(requestHeaders, res.AllowHeaders)
	}
	return res
}

// learn remembers an allowed line of Access-Control-Request-Headers, with
// every rule that allows it (not only the candidates of this request's
// origin and method), while the policy has room for it.
func (p *Policy) learn(lines []string, answer string) {
	if len(lines) != 1 || len(lines[0]) > rememberedLineLen || p.lines.full() {
		return
	}
	var all ruleSet
	for i := range p.rules {
		all.add(i)
	}
	var scan headerScan
	p.headers.scan(&scan, all, lines)
	if scan.tooMany || scan.rules.empty() {
		return
	}
	p.lines.remember(lines[0], lineAnswer{rules: scan.rules, answer: answer})
}

// Actual evaluates a request that is not a preflight: origin is its Origin
// header and method its own method. It never allocates.
func (p *Policy) Actual(origin, method string) Grant {
	var g Grant
	cands, denied := p.candidates(origin, method)
	if denied != NotDenied {
		g.Denied = denied
		return g
	}
	p.rules[cands.first()].grantTo(&g, origin)
	return g
}

// candidates returns the rules that allow both origin and method, or why
// there are none.
func (p *Policy) candidates(origin, method string) (ruleSet, Denial) {
	if origin == "" || len(origin) > maxOriginLength {
		return ruleSet{}, DeniedOrigin
	}
	byOrigin := p.origins.match(origin)
	if byOrigin.empty() {
		return ruleSet{}, DeniedOrigin
	}
	k, ok := methodIndex(method)
	if !ok {
		return ruleSet{}, DeniedMethod
	}
	cands := byOrigin.and(p.methods[k])
	if cands.empty() {
		return ruleSet{}, DeniedMethod
	}
	return cands, NotDenied
}

// grantTo fills g with the rule's grant for one request origin. It writes in
// place: the results are large enough for copies to show.
func (r *compiledRule) grantTo(g *Grant, origin string) {
	*g = r.grant
	if r.anyOrigin {
		g.AllowOrigin = "*"
	} else {
		g.AllowOrigin, g.AllowCredentials = origin, true
	}
}
