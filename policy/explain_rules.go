package policy

import (
	"net/http"
	"runtime"
	"strings"
	"sync"
	"weak"
)

// ruleOutcomes asks each rule alone how it judges the request, up to the
// one that matched (its 1-based number), or every rule when matched is 0.
func ruleOutcomes(p *Policy, req *Request, preflight bool, method string, matched int) []RuleOutcome {
	rules := rulesAlone(p)
	n := len(rules)
	if matched > 0 {
		n = min(matched, n)
	}
	out := make([]RuleOutcome, n)
	for i, r := range rules[:n] {
		out[i] = RuleOutcome{Rule: i + 1, ID: r.id}
		if r.err != nil {
			// A rule of a compiled policy compiles alone; say so if not.
			out[i].Reason = "cannot be judged alone: " + strings.ReplaceAll(r.err.Error(), "\n", "; ")
			continue
		}
		out[i].judge(evaluate(r.policy, req, preflight, method), req.Origin, method, preflight)
	}
	return out
}

// ruleAlone is one rule of a policy, compiled as a policy of its own, so
// that the engine says why that rule refuses a request.
type ruleAlone struct {
	policy *Policy
	id     string
	err    error
}

// aloneCache holds the rules of each policy that Explain has seen, compiled
// alone: the debug header explains every refusal, and compiling a hundred
// rules for each would cost far more than asking them. An entry goes when
// its policy does: the key is a weak pointer, and a cleanup deletes it.
var aloneCache sync.Map // weak.Pointer[Policy] -> []ruleAlone

// rulesAlone returns the rules of p compiled alone, built once per policy.
func rulesAlone(p *Policy) []ruleAlone {
	key := weak.Make(p)
	if v, ok := aloneCache.Load(key); ok {
		return v.([]ruleAlone)
	}
	doc := p.Document()
	rules := make([]ruleAlone, len(doc.Rules))
	for i := range doc.Rules {
		rules[i].id = doc.Rules[i].ID
		rules[i].policy, rules[i].err = Compile("rule", &Document{Dialect: doc.Dialect, Rules: doc.Rules[i : i+1]})
	}
	if v, loaded := aloneCache.LoadOrStore(key, rules); loaded {
		return v.([]ruleAlone)
	}
	runtime.AddCleanup(p, func(k weak.Pointer[Policy]) { aloneCache.Delete(k) }, key)
	return rules
}

// judge fills the outcome from the answer of the rule alone.
func (o *RuleOutcome) judge(res PreflightResult, origin, method string, preflight bool) {
	if preflight && method == "" {
		method = http.MethodOptions // as S3 takes it, and as its answer names it
	}
	switch res.Denied {
	case NotDenied:
		o.Allowed, o.Reason = true, "allowed"
	case DeniedOrigin:
		o.Check, o.Value = CheckOrigin, origin
		o.Reason = "origin " + showValue(origin) + " not listed"
	case DeniedMethod:
		o.Check, o.Value = CheckMethod, method
		o.Reason = "method " + showValue(method) + " not allowed"
	case DeniedHeader:
		o.Check, o.Value = CheckHeader, res.DeniedHeader
		o.Reason = "header " + showValue(res.DeniedHeader) + " not allowed"
	case DeniedTooManyHeaders:
		o.Check, o.Reason = CheckHeaderCount, tooManyHeaders
	default:
		o.Reason = res.Denied.String()
	}
}
