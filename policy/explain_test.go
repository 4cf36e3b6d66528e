package policy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"weak"
)

// siteRules allows an app to upload and its sites to read; withPublic adds
// a public read rule.
const (
	siteRules = `[
	{"ID": "app", "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT", "POST", "GET", "HEAD"],
	 "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600},
	{"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["range"]}
]`
	withPublic = `[
	{"ID": "app", "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT", "POST", "GET", "HEAD"],
	 "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600},
	{"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["range"]},
	{"ID": "public", "AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}
]`
)

// The answers' headers, as the proxy sets them.
var (
	varyOrigin = []Header{{"Vary", "Origin"}}
	// refusalHeaders are those of the proxy's S3 error answer to a
	// preflight: a 403 has the three-name Vary of every preflight answer,
	// S3's 400 for a missing Origin none.
	refusalHeaders = func(status int, body string) []Header {
		h := []Header{{"Content-Type", "application/xml"}, {"Content-Length", strconv.Itoa(len(body))}}
		if status == 403 {
			h = append(h, Header{"Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"})
		}
		return h
	}
	appPreflightGrant = []Header{
		{"Access-Control-Allow-Origin", "https://app.example.com"},
		{"Access-Control-Allow-Credentials", "true"},
		{"Access-Control-Allow-Methods", "PUT, POST, GET, HEAD"},
		{"Access-Control-Allow-Headers", "content-type"},
		{"Access-Control-Expose-Headers", "ETag"},
		{"Access-Control-Max-Age", "3600"},
		{"Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"},
	}
	cdnActualGrant = []Header{
		{"Access-Control-Allow-Origin", "https://cdn.example.com"},
		{"Access-Control-Allow-Credentials", "true"},
		{"Access-Control-Allow-Methods", "GET, HEAD"},
		{"Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"},
	}
	anyOriginGrant = []Header{
		{"Access-Control-Allow-Origin", "*"},
		{"Access-Control-Allow-Methods", "GET"},
		{"Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"},
	}
)

// notAllowedBody is S3's refusal of a preflight that no rule allows.
func notAllowedBody(method string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Error><Code>AccessForbidden</Code><Message>CORSResponse: This CORS request is not allowed. ` +
		`This is usually because the evalution of Origin, request method / Access-Control-Request-Method ` +
		`or Access-Control-Request-Headers are not whitelisted by the resource&#39;s CORS spec.</Message>` +
		`<Method>` + method + `</Method><ResourceType>OBJECT</ResourceType></Error>`
}

func TestExplain(t *testing.T) {
	const (
		app   = "https://app.example.com"
		cdn   = "https://cdn.example.com"
		other = "https://x.test"
	)
	tests := []struct {
		name       string
		policy     string // "" for a bucket with no policy
		req        Request
		verdict    string
		status     int
		headers    []Header
		body       string // "" for none
		notes      int
		preflight  bool
		ruleChecks []Check // each rule's failed check, "" when it allowed
	}{
		{
			name:   "preflight without Origin: S3's 400",
			policy: siteRules, req: Request{Method: "GET"},
			verdict: "refused: a preflight without an Origin header", status: 400, preflight: true,
			body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Error><Code>BadRequest</Code><Message>Insufficient information. Origin request header needed.</Message></Error>`,
		},
		{
			name:   "preflight without Access-Control-Request-Method asks for OPTIONS",
			policy: siteRules, req: Request{Origin: cdn},
			verdict: "refused: rule 1 (\"app\"): origin https://cdn.example.com not listed; rule 2: method OPTIONS not allowed",
			status:  403, body: notAllowedBody("OPTIONS"), notes: 1, preflight: true,
			ruleChecks: []Check{CheckOrigin, CheckMethod},
		},
		{
			name:   "preflight to a bucket with no policy",
			policy: "", req: Request{Origin: app, Method: "PUT"},
			verdict: "refused: the bucket has no CORS policy", status: 403, preflight: true,
			body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Error><Code>AccessForbidden</Code><Message>CORSResponse: CORS is not enabled for this bucket.</Message>` +
				`<Method>PUT</Method><ResourceType>BUCKET</ResourceType></Error>`,
		},
		{
			name:   "preflight allowed, with a header",
			policy: siteRules, req: Request{Origin: app, Method: "PUT", Headers: []string{"Content-Type"}},
			verdict: `rule 1 ("app") allowed`, status: 200, headers: appPreflightGrant, preflight: true,
			ruleChecks: []Check{""},
		},
		{
			name:   "preflight from an origin no rule lists",
			policy: siteRules, req: Request{Origin: other, Method: "GET"},
			verdict: `refused: rule 1 ("app"): origin https://x.test not listed; rule 2: origin https://x.test not listed`,
			status:  403, body: notAllowedBody("GET"), preflight: true,
			ruleChecks: []Check{CheckOrigin, CheckOrigin},
		},
		{
			name:   "preflight for a method no rule allows",
			policy: siteRules, req: Request{Origin: cdn, Method: "DELETE"},
			verdict: `refused: rule 1 ("app"): origin https://cdn.example.com not listed; rule 2: method DELETE not allowed`,
			status:  403, body: notAllowedBody("DELETE"), preflight: true,
			ruleChecks: []Check{CheckOrigin, CheckMethod},
		},
		{
			name:   "preflight for a header no rule allows",
			policy: siteRules, req: Request{Origin: app, Method: "PUT", Headers: []string{"content-type,x-foo"}},
			verdict: `refused: rule 1 ("app"): header x-foo not allowed; rule 2: method PUT not allowed`,
			status:  403, body: notAllowedBody("PUT"), preflight: true,
			ruleChecks: []Check{CheckHeader, CheckMethod},
		},
		{
			name:   "preflight allowed by the * rule: no credentials",
			policy: withPublic, req: Request{Origin: other, Method: "GET"},
			verdict: `rule 3 ("public") allowed`, status: 200, headers: anyOriginGrant, preflight: true,
			ruleChecks: []Check{CheckOrigin, CheckOrigin, ""},
		},
		{
			name:   "preflight past the bound on Access-Control-Request-Headers",
			policy: withPublic, req: Request{Origin: other, Method: "GET", Headers: []string{strings.Repeat("a,", 70)}},
			verdict: "refused: Access-Control-Request-Headers holds more than 64 names or 8192 bytes",
			status:  403, body: notAllowedBody("GET"), preflight: true,
		},
		{
			name:   "actual request allowed: the grant without Allow-Headers, on the origin's answer",
			policy: siteRules, req: Request{Origin: cdn, Method: "GET", Actual: true},
			verdict: "rule 2 allowed", headers: cdnActualGrant,
			ruleChecks: []Check{CheckOrigin, ""},
		},
		{
			name:   "actual request refused: no Access-Control-* header",
			policy: siteRules, req: Request{Origin: other, Method: "PUT", Actual: true},
			verdict:    `refused: rule 1 ("app"): origin https://x.test not listed; rule 2: origin https://x.test not listed`,
			headers:    varyOrigin,
			ruleChecks: []Check{CheckOrigin, CheckOrigin},
		},
		{
			name:   "actual request with Access-Control-Request-Method is judged as a preflight",
			policy: siteRules, req: Request{Origin: cdn, Method: "GET", Actual: true, RequestMethod: "PUT"},
			verdict: `refused: rule 1 ("app"): origin https://cdn.example.com not listed; rule 2: method PUT not allowed`,
			headers: varyOrigin, notes: 1, preflight: true,
			ruleChecks: []Check{CheckOrigin, CheckMethod},
		},
		{
			name:   "actual request with Access-Control-Request-Headers is judged as a preflight",
			policy: siteRules, req: Request{Origin: cdn, Method: "GET", Actual: true, Headers: []string{"x-foo"}},
			verdict: `refused: rule 1 ("app"): origin https://cdn.example.com not listed; rule 2: header x-foo not allowed`,
			headers: varyOrigin, notes: 1, preflight: true,
			ruleChecks: []Check{CheckOrigin, CheckHeader},
		},
		{
			name:   "actual request judged as a preflight and allowed",
			policy: siteRules, req: Request{Origin: cdn, Method: "POST", Actual: true, RequestMethod: "GET", Headers: []string{"Range"}},
			verdict: "rule 2 allowed", headers: cdnActualGrant, notes: 1, preflight: true,
			ruleChecks: []Check{CheckOrigin, ""},
		},
		{
			name:   "actual request without Origin is not a CORS request",
			policy: siteRules, req: Request{Method: "GET", Actual: true},
			verdict: "not a CORS request: no Origin header", headers: varyOrigin,
		},
		{
			name:   "actual request to a bucket with no policy",
			policy: "", req: Request{Origin: app, Method: "GET", Actual: true},
			verdict: "refused: the bucket has no CORS policy", headers: varyOrigin,
		},
		{
			name:   "an Origin that would break the line is quoted",
			policy: siteRules, req: Request{Origin: "https://x.test\r\nX-Evil: 1", Method: "GET", Actual: true},
			verdict: `refused: rule 1 ("app"): origin "https://x.test\r\nX-Evil: 1" not listed; ` +
				`rule 2: origin "https://x.test\r\nX-Evil: 1" not listed`,
			headers: varyOrigin, ruleChecks: []Check{CheckOrigin, CheckOrigin},
		},
		{
			name:   `the "null" Origin gets a note`,
			policy: withPublic, req: Request{Origin: "null", Method: "GET", Actual: true},
			verdict: `rule 3 ("public") allowed`, headers: anyOriginGrant, notes: 1,
			ruleChecks: []Check{CheckOrigin, CheckOrigin, ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p *Policy
			if tc.policy != "" {
				p = mustParse(t, tc.policy)
			}
			e := Explain(p, tc.req)
			if got := e.Verdict(); got != tc.verdict {
				t.Errorf("Verdict() =\n%s\nwant\n%s", got, tc.verdict)
			}
			if got := VerdictOf(p, tc.req); got != tc.verdict {
				t.Errorf("VerdictOf() = %s, want %s", got, tc.verdict)
			}
			if e.Status != tc.status {
				t.Errorf("Status = %d, want %d", e.Status, tc.status)
			}
			wantHeaders := tc.headers
			if tc.body != "" {
				wantHeaders = refusalHeaders(tc.status, tc.body)
			}
			if !reflect.DeepEqual(e.Headers, wantHeaders) {
				t.Errorf("Headers =\n%v\nwant\n%v", e.Headers, wantHeaders)
			}
			if e.Body != tc.body {
				t.Errorf("Body =\n%s\nwant\n%s", e.Body, tc.body)
			}
			if len(e.Notes) != tc.notes {
				t.Errorf("Notes = %q, want %d of them", e.Notes, tc.notes)
			}
			if e.Preflight != tc.preflight {
				t.Errorf("Preflight = %v, want %v", e.Preflight, tc.preflight)
			}
			checkRuleOutcomes(t, &e, tc.ruleChecks)
		})
	}
}

// checkRuleOutcomes checks each rule's failed check, and that the outcomes
// agree with the verdict: the last one listed is the rule that matched.
func checkRuleOutcomes(t *testing.T, e *Explanation, want []Check) {
	t.Helper()
	var got []Check
	for i, o := range e.Rules {
		got = append(got, o.Check)
		if o.Rule != i+1 || o.Allowed != (o.Check == "") {
			t.Errorf("outcome %d = %+v", i, o)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rule checks = %q, want %q", got, want)
	}
	if e.Allowed && (len(e.Rules) != e.Rule || !e.Rules[e.Rule-1].Allowed) {
		t.Errorf("rule %d allowed, but the outcomes are %+v", e.Rule, e.Rules)
	}
}

func TestExplainString(t *testing.T) {
	p := mustParse(t, siteRules)
	e := Explain(p, Request{Origin: "https://app.example.com", Method: "PUT", Headers: []string{"content-type,x-foo"}})
	want := `refused: rule 1 ("app"): header x-foo not allowed; rule 2: method PUT not allowed
  rule 1 ("app"): header x-foo not allowed
  rule 2: method PUT not allowed

HTTP/1.1 403 Forbidden
Content-Type: application/xml
Content-Length: 386
Vary: Origin, Access-Control-Request-Headers, Access-Control-Request-Method

` + notAllowedBody("PUT") + "\n"
	if got := e.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}

	actual := Explain(p, Request{Origin: "https://cdn.example.com", Method: "GET", Actual: true})
	want = `rule 2 allowed
  rule 1 ("app"): origin https://cdn.example.com not listed
  rule 2: allowed

HTTP/1.1 (the origin's status and headers, less any Access-Control-* header)
Access-Control-Allow-Origin: https://cdn.example.com
Access-Control-Allow-Credentials: true
Access-Control-Allow-Methods: GET, HEAD
Vary: Origin, Access-Control-Request-Headers, Access-Control-Request-Method
`
	if got := actual.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
}

func TestExplainJSON(t *testing.T) {
	p := mustParse(t, siteRules)
	e := Explain(p, Request{Origin: "https://x.test", Method: "GET"})
	// As the CLI writes it: markup as it is.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	if !strings.HasPrefix(string(out), `{"verdict":"refused: rule 1 (\"app\"): origin https://x.test not listed;`) {
		t.Errorf("JSON does not start with the verdict: %s", out)
	}
	if !strings.Contains(string(out), `"body":"<?xml`) {
		t.Errorf("JSON escapes the body's markup: %s", out)
	}
	var back struct {
		Explanation
		Verdict string `json:"verdict"`
	}
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.Verdict != e.Verdict() || !reflect.DeepEqual(back.Rules, e.Rules) || back.Status != 403 ||
		!reflect.DeepEqual(back.Headers, e.Headers) || back.Request.Origin != "https://x.test" {
		t.Errorf("JSON %s reads back as %+v", out, back)
	}
}

func TestRequestOf(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		headers []string // name, value, ...
		want    Request
	}{
		{"preflight", http.MethodOptions,
			[]string{"Origin", "https://a.test", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type"},
			Request{Origin: "https://a.test", Method: "PUT", Headers: []string{"content-type"}}},
		{"preflight without Access-Control-Request-Method", http.MethodOptions,
			[]string{"Origin", "https://a.test"},
			Request{Origin: "https://a.test"}},
		{"actual request", http.MethodGet,
			[]string{"Origin", "https://a.test"},
			Request{Origin: "https://a.test", Method: "GET", Actual: true}},
		{"actual request with Access-Control-Request-Method", http.MethodGet,
			[]string{"Origin", "https://a.test", "Access-Control-Request-Method", "PUT"},
			Request{Origin: "https://a.test", Method: "GET", Actual: true, RequestMethod: "PUT"}},
		{"two Origin headers make one value no rule allows", http.MethodGet,
			[]string{"Origin", "https://a.test", "Origin", "https://b.test"},
			Request{Origin: "https://a.test, https://b.test", Method: "GET", Actual: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/bucket/key", nil)
			for i := 0; i < len(tc.headers); i += 2 {
				r.Header.Add(tc.headers[i], tc.headers[i+1])
			}
			if got := RequestOf(r); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("RequestOf = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestExplainAgreesWithTheEngine: whatever the request, Explain's verdict is
// the engine's, and the rule that matched is the first one that allows the
// request alone.
func TestExplainAgreesWithTheEngine(t *testing.T) {
	p := mustParse(t, withPublic)
	for _, origin := range []string{"https://app.example.com", "https://cdn.example.com", "https://x.test", "null", "HTTPS://APP.EXAMPLE.COM"} {
		for _, method := range []string{"", "GET", "PUT", "DELETE", "get"} {
			for _, headers := range [][]string{nil, {"content-type"}, {"Range"}, {"x-amz-date, X-Foo"}} {
				for _, actual := range []bool{false, true} {
					req := Request{Origin: origin, Method: method, Headers: headers, Actual: actual}
					e := Explain(p, req)
					preflight, m := req.judged()
					res := evaluate(p, &req, preflight, m)
					if e.Allowed != res.Allowed || e.Rule != res.RuleIndex || e.RuleID != res.RuleID {
						t.Errorf("%+v: Explain says %v rule %d, the engine %+v", req, e.Allowed, e.Rule, res)
					}
					first := -1
					for i, o := range e.Rules {
						if o.Allowed && first < 0 {
							first = i + 1
						}
					}
					if e.Allowed && first != e.Rule || !e.Allowed && first != -1 {
						t.Errorf("%+v: rule %d matched, outcomes %+v", req, e.Rule, e.Rules)
					}
				}
			}
		}
	}
}

// BenchmarkExplain measures what the debug header costs: VerdictOf on a
// grant (one evaluation), and Explain on a refusal (a compilation per rule),
// for the benchmarks' ten-rule policy and a hundred-rule one.
func BenchmarkExplain(b *testing.B) {
	_, ten, _ := benchPolicies(b)
	var rules []string
	for i := range MaxRules {
		rules = append(rules, `{"AllowedOrigins": ["https://site`+strconv.Itoa(i)+`.example.com", "https://*.t`+strconv.Itoa(i)+
			`.example.net"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["content-type", "x-amz-*"]}`)
	}
	hundred := mustParse(b, "["+strings.Join(rules, ",")+"]")
	allowed := Request{Origin: "https://site9-3.example.com", Method: "PUT", Headers: browserHeaders}
	refused := Request{Origin: "https://evil.example.com", Method: "PUT", Headers: browserHeaders}
	for _, bc := range []struct {
		name string
		run  func()
	}{
		{"10-rules/VerdictOf-allowed", func() { VerdictOf(ten, allowed) }},
		{"10-rules/VerdictOf-refused", func() { VerdictOf(ten, refused) }},
		{"10-rules/Explain-refused", func() { Explain(ten, refused) }},
		{"100-rules/VerdictOf-refused", func() { VerdictOf(hundred, refused) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.run()
			}
		})
	}
}

// TestRulesAloneGoWithTheirPolicy: the rules compiled alone for Explain are
// built once per policy and dropped when the policy is.
func TestRulesAloneGoWithTheirPolicy(t *testing.T) {
	var key weak.Pointer[Policy]
	func() {
		p := mustParse(t, siteRules)
		key = weak.Make(p)
		first := rulesAlone(p)
		Explain(p, Request{Origin: "https://x.test", Method: "GET"})
		if again := rulesAlone(p); &again[0] != &first[0] {
			t.Error("the rules were compiled again for the same policy")
		}
		if _, ok := aloneCache.Load(key); !ok {
			t.Error("the policy's rules are not cached")
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		if _, ok := aloneCache.Load(key); !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the rules are still cached 5s after their policy went")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// FuzzExplain: on policies and requests drawn as FuzzPreflight draws them,
// Explain agrees with the engine, its outcomes agree with its verdict, and
// VerdictOf says what Explain says.
func FuzzExplain(f *testing.F) {
	f.Add([]byte{3, 1, 2, 0, 5}, "https://app.example.com", "PUT", "content-type,x-amz-date")
	f.Add([]byte{0, 0, 1, 12, 9}, "http://localhost:3000", "", "Range\nX-Foo")
	f.Fuzz(func(t *testing.T, policySeed []byte, origin, method, headers string) {
		doc := fuzzDocument(policySeed, origin, headers)
		p, err := Compile("fuzz", doc)
		if err != nil {
			t.Fatalf("a generated policy did not compile: %v", err)
		}
		var lines []string
		if headers != "" {
			lines = strings.Split(headers, "\n")
		}
		for _, req := range []Request{
			{Origin: origin, Method: method, Headers: lines},
			{Origin: origin, Method: method, Actual: true},
			{Origin: origin, Method: "GET", Headers: lines, Actual: true, RequestMethod: method},
		} {
			e := Explain(p, req)
			preflight, m := req.judged()
			res := evaluate(p, &req, preflight, m)
			if req.Origin != "" && (e.Allowed != res.Allowed || e.Rule != res.RuleIndex) {
				t.Fatalf("%+v: Explain says %v rule %d, the engine %+v", req, e.Allowed, e.Rule, res)
			}
			for i, o := range e.Rules {
				if o.Allowed != (e.Allowed && i == len(e.Rules)-1) {
					t.Fatalf("%+v: outcomes %+v do not agree with the verdict %q", req, e.Rules, e.Verdict())
				}
			}
			if !e.Allowed && e.Reason == "" && len(e.Rules) != len(doc.Rules) {
				t.Fatalf("%+v: a refusal explains %d of %d rules", req, len(e.Rules), len(doc.Rules))
			}
			if got := VerdictOf(p, req); got != e.Verdict() {
				t.Fatalf("VerdictOf = %q, Explain says %q", got, e.Verdict())
			}
			if strings.ContainsAny(e.Verdict(), "\r\n") {
				t.Fatalf("the verdict breaks the line: %q", e.Verdict())
			}
		}
	})
}
