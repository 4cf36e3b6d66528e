package policy

import (
	"net/http"
	"strconv"
	"strings"
)

// Request is a request as Explain judges it: the few headers that CORS reads.
type Request struct {
	// Origin is the request's Origin header, "" when it has none.
	Origin string `json:"origin"`
	// Method is, for a preflight, its Access-Control-Request-Method ("" when
	// absent); for an actual request, the request's own method.
	Method string `json:"method"`
	// Headers are the lines of Access-Control-Request-Headers, the names as
	// requested; nil when the request has none.
	Headers []string `json:"headers,omitempty"`
	// Actual is true for a request that is not a preflight (not OPTIONS).
	Actual bool `json:"actual,omitempty"`
	// RequestMethod is the Access-Control-Request-Method that an actual
	// request carries, if any. An actual request with a RequestMethod or
	// Headers is judged as a preflight is, as S3 does: RequestMethod (or
	// Method when it is "") and every name in Headers must be allowed.
	RequestMethod string `json:"requestMethod,omitempty"`
}

// RequestOf reads the Request of an HTTP request. Several Origin headers
// are joined into one value, which no rule allows, as the proxy refuses them.
func RequestOf(r *http.Request) Request {
	req := Request{
		Origin:  strings.Join(r.Header.Values("Origin"), ", "),
		Headers: r.Header.Values("Access-Control-Request-Headers"),
	}
	requestMethod := r.Header.Get("Access-Control-Request-Method")
	if r.Method == http.MethodOptions {
		req.Method = requestMethod
	} else {
		req.Actual, req.Method, req.RequestMethod = true, r.Method, requestMethod
	}
	return req
}

// judged returns whether the request is judged as a preflight, and the
// method that the rules are asked about.
func (r *Request) judged() (preflight bool, method string) {
	switch {
	case !r.Actual:
		return true, r.Method
	case r.RequestMethod != "":
		return true, r.RequestMethod
	default:
		return len(r.Headers) > 0, r.Method
	}
}

// Explanation says how a policy judges one request, why, and what the proxy
// answers. It is built for people (String, Verdict) and for tools (JSON).
type Explanation struct {
	Request Request `json:"request"`
	// Preflight is true when the request is judged as a preflight: an
	// OPTIONS request, or an actual request that carries
	// Access-Control-Request-Method or -Headers.
	Preflight bool `json:"preflight"`
	// Allowed is true when a rule matched; Rule is its 1-based number and
	// RuleID its ID.
	Allowed bool   `json:"allowed"`
	Rule    int    `json:"rule,omitempty"`
	RuleID  string `json:"ruleId,omitempty"`
	// Reason says why no rule was asked, when none was: the request has no
	// Origin, the bucket has no policy, or the request asks for too many
	// headers for any rule to be asked.
	Reason string `json:"reason,omitempty"`
	// Rules holds the outcome of each rule in order, up to the one that
	// matched (every rule, when none did).
	Rules []RuleOutcome `json:"rules,omitempty"`
	// Notes point out what is easy to miss about the request.
	Notes []string `json:"notes,omitempty"`
	// Status is the answer's status: the proxy's own for a preflight (200,
	// 400 or 403), and 0 for an actual request, which the origin answers.
	Status int `json:"status,omitempty"`
	// Headers are the headers the proxy sets, in the order it sets them. On
	// an actual request the origin's Access-Control-* headers are removed
	// and these take their place; Vary is merged into the origin's.
	Headers []Header `json:"headers"`
	// Body is the body of a preflight the proxy refuses: S3's XML error.
	Body string `json:"body,omitempty"`
}

// RuleOutcome is how one rule judges a request.
type RuleOutcome struct {
	// Rule is the rule's 1-based number, ID its ID.
	Rule int    `json:"rule"`
	ID   string `json:"id,omitempty"`
	// Allowed is true when the rule allows the request.
	Allowed bool `json:"allowed"`
	// Check is the first check the rule failed; Value is what failed it
	// (the origin, the method or the header name).
	Check Check  `json:"check,omitempty"`
	Value string `json:"value,omitempty"`
	// Reason says it in words: "origin https://x.example not listed".
	Reason string `json:"reason"`
}

// Check names what a rule checks, in the order it checks it.
type Check string

// The checks of a rule.
const (
	// CheckOrigin: the Origin is one of the rule's AllowedOrigins.
	CheckOrigin Check = "origin"
	// CheckMethod: the method is one of the rule's AllowedMethods.
	CheckMethod Check = "method"
	// CheckHeader: every requested header is one of its AllowedHeaders.
	CheckHeader Check = "header"
	// CheckHeaderCount: Access-Control-Request-Headers is within
	// MaxRequestHeaderNames and MaxRequestHeadersBytes.
	CheckHeaderCount Check = "headers"
)

// Header is one response header.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Explain judges req by p as the proxy does, and says why: for each rule,
// the first check that failed. p may be nil, for a bucket with no policy.
//
// The verdict and the headers are those of p.Preflight and p.Actual; the
// reasons come from asking each rule alone, compiled as a policy of its own
// (once per policy, kept as long as the policy is). It is meant for the CLI,
// the admin API and the debug header, not for every request; VerdictOf is its
// cheaper form for the one line the debug header needs.
func Explain(p *Policy, req Request) Explanation {
	e := Explanation{Request: req, Headers: []Header{}}
	preflight, method := req.judged()
	e.Preflight = preflight
	switch {
	case req.Origin == "":
		e.explainNoOrigin()
	case p == nil:
		e.explainNoPolicy(method)
	default:
		e.explainPolicy(p, method)
	}
	return e
}

// VerdictOf returns Explain(p, req).Verdict() without building the answer:
// a request that a rule allows costs one evaluation and the string, and a
// refusal one evaluation per rule (the rules are compiled alone once per
// policy). It is what the debug header calls.
func VerdictOf(p *Policy, req Request) string {
	if p == nil || req.Origin == "" {
		e := Explain(p, req)
		return e.Verdict()
	}
	preflight, method := req.judged()
	switch res := evaluate(p, &req, preflight, method); {
	case res.Allowed:
		return ruleLabel(res.RuleIndex, res.RuleID) + " allowed"
	case res.Denied == DeniedTooManyHeaders:
		return "refused: " + tooManyHeaders
	}
	e := Explanation{Rules: ruleOutcomes(p, &req, preflight, method, 0)}
	return e.Verdict()
}

// evaluate asks the engine, the way the proxy does.
func evaluate(p *Policy, req *Request, preflight bool, method string) PreflightResult {
	if preflight {
		return p.Preflight(req.Origin, method, req.Headers)
	}
	return PreflightResult{Grant: p.Actual(req.Origin, method)}
}

func (e *Explanation) explainNoOrigin() {
	if e.Request.Actual {
		e.Reason = "not a CORS request: no Origin header"
		e.header("Vary", "Origin")
		return
	}
	e.Reason = "refused: a preflight without an Origin header"
	e.refuse(http.StatusBadRequest, s3ErrorBody{Code: "BadRequest", Message: msgOriginNeeded})
}

func (e *Explanation) explainNoPolicy(method string) {
	e.Reason = "refused: the bucket has no CORS policy"
	if !e.Request.Actual {
		e.refuse(http.StatusForbidden, refusalBody(msgCORSNotEnabled, method, "BUCKET"))
		return
	}
	e.header("Vary", "Origin")
}

func (e *Explanation) explainPolicy(p *Policy, method string) {
	e.note(method)
	res := evaluate(p, &e.Request, e.Preflight, method)
	switch {
	case res.Allowed:
		e.Allowed, e.Rule, e.RuleID = true, res.RuleIndex, res.RuleID
		e.Rules = ruleOutcomes(p, &e.Request, e.Preflight, method, res.RuleIndex)
		e.grant(&res)
		return
	case res.Denied == DeniedTooManyHeaders:
		e.Reason = "refused: " + tooManyHeaders
	default:
		e.Rules = ruleOutcomes(p, &e.Request, e.Preflight, method, 0)
	}
	if e.Request.Actual {
		e.header("Vary", "Origin")
		return
	}
	e.refuse(http.StatusForbidden, refusalBody(msgCORSNotAllowed, method, "OBJECT"))
}

// note adds what the request itself makes easy to miss.
func (e *Explanation) note(method string) {
	req := &e.Request
	if req.Actual && e.Preflight {
		e.Notes = append(e.Notes, "an actual request that carries Access-Control-Request-Method or "+
			"-Headers is judged as a preflight (as S3 does), for method "+showValue(method))
	}
	if e.Preflight && method == "" {
		e.Notes = append(e.Notes, "the preflight has no Access-Control-Request-Method: "+
			"S3 takes the method to be OPTIONS, which no rule allows")
	}
	if req.Origin == "null" {
		e.Notes = append(e.Notes, `the "null" Origin (sandboxed frames, local files) is allowed only by "*"`)
	}
}

// tooManyHeaders says why a request past the bounds on
// Access-Control-Request-Headers is refused whatever the rules.
var tooManyHeaders = "Access-Control-Request-Headers holds more than " +
	strconv.Itoa(MaxRequestHeaderNames) + " names or " + strconv.Itoa(MaxRequestHeadersBytes) + " bytes"
