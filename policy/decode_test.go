package policy

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// r2Example is the example of Cloudflare's R2 CORS page exactly as printed,
// trailing spaces and trailing comma included.
const r2Example = "[ \n" +
	"  { \n" +
	"    \"AllowedOrigins\": [ \n" +
	"       \"http://localhost:3000\" \n" +
	"    ],  \n" +
	"    \"AllowedMethods\": [\n" +
	"       \"GET\",\n" +
	"    ]\n" +
	"  }\n" +
	"]"

func intp(n int) *int { return &n }

func TestDecodeDialects(t *testing.T) {
	full := Rule{
		ID:             "uploads",
		AllowedOrigins: []string{"https://app.example.com", "https://*.example.com"},
		AllowedMethods: []string{"PUT", "POST"},
		AllowedHeaders: []string{"content-type", "x-amz-*"},
		ExposeHeaders:  []string{"ETag"},
		MaxAgeSeconds:  intp(3600),
	}
	tests := []struct {
		name string
		in   string
		want Document
	}{
		{"R2 page example as printed", r2Example, Document{Dialect: DialectR2, Rules: []Rule{{
			AllowedOrigins: []string{"http://localhost:3000"},
			AllowedMethods: []string{"GET"},
		}}}},
		{"R2 with every field", `[{"ID": "uploads",
			"AllowedOrigins": ["https://app.example.com", "https://*.example.com"],
			"AllowedMethods": ["PUT", "POST"], "AllowedHeaders": ["content-type", "x-amz-*"],
			"ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600}]`,
			Document{Dialect: DialectR2, Rules: []Rule{full}}},
		{"R2 with comments, BOM and leading space", "\xef\xbb\xbf \n\t// the site\n[/* one rule */{\"AllowedOrigins\": [\"*\"], \"AllowedMethods\": [\"GET\",],},]\n",
			Document{Dialect: DialectR2, Rules: []Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}}},
		{"R2 empty and null lists read as absent", `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": [], "ExposeHeaders": null, "MaxAgeSeconds": null}]`,
			Document{Dialect: DialectR2, Rules: []Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}}},
		{"AWS CLI", `{"CORSRules": [{"ID": "uploads",
			"AllowedOrigins": ["https://app.example.com", "https://*.example.com"],
			"AllowedMethods": ["PUT", "POST"], "AllowedHeaders": ["content-type", "x-amz-*"],
			"ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600},
			{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}`,
			Document{Dialect: DialectAWS, Rules: []Rule{full, {AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}}},
		{"wrangler", `{"rules": [{"id": "uploads",
			"allowed": {"origins": ["https://app.example.com", "https://*.example.com"],
				"methods": ["PUT", "POST"], "headers": ["content-type", "x-amz-*"]},
			"exposeHeaders": ["ETag"], "maxAgeSeconds": 3600}]}`,
			Document{Dialect: DialectWrangler, Rules: []Rule{full}}},
		{"S3 XML with namespace", `<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <!-- uploads from the app -->
  <CORSRule>
    <ID>uploads</ID>
    <AllowedOrigin>https://app.example.com</AllowedOrigin>
    <AllowedOrigin>https://*.example.com</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedHeader>content-type</AllowedHeader>
    <AllowedHeader>x-amz-*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3600</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>
`, Document{Dialect: DialectXML, Rules: []Rule{full}}},
		{"S3 XML without namespace, elements in any order", `<CORSConfiguration><CORSRule>
			<MaxAgeSeconds> 3600 </MaxAgeSeconds><AllowedMethod>PUT</AllowedMethod><AllowedOrigin>https://app.example.com</AllowedOrigin>
			<ExposeHeader>ETag</ExposeHeader><AllowedMethod>POST</AllowedMethod><AllowedHeader>content-type</AllowedHeader>
			<AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedHeader>x-amz-*</AllowedHeader><ID>uploads</ID>
		</CORSRule></CORSConfiguration>`, Document{Dialect: DialectXML, Rules: []Rule{full}}},
		{"S3 XML with BOM", "\xef\xbb\xbf<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
			Document{Dialect: DialectXML, Rules: []Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode("test", []byte(tt.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Decode =\n%+v\nwant\n%+v", *got, tt.want)
			}
		})
	}
}

// TestDecodeErrors checks that each shape mistake is reported with the
// field, the reason and the fix; want is the whole message.
func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", " \n\t", `p.json: the document is empty; write a list of CORS rules`},
		{"JSON syntax", `[{"AllowedOrigins": ["*"] "AllowedMethods": ["GET"]}]`,
			`p.json: invalid JSON: line 1, column 27: invalid character '"' after object value (expecting ',' or '}'); check the brackets, commas and quotes around that point`},
		{"not a document", `"GET"`, `p.json: not a CORS document; write a list of rules: [{"AllowedOrigins": [...], "AllowedMethods": [...]}] (R2), {"CORSRules": [...]} (AWS CLI), {"rules": [...]} (wrangler) or <CORSConfiguration> (S3 XML)`},
		{"R2 singular field", `[{"ID": "site", "AllowedOrigin": ["https://a.example"], "AllowedMethods": ["GET"]}]`,
			`p.json: rule 1 (ID "site"): AllowedOrigin: unknown field in a rule of R2 JSON; did you mean "AllowedOrigins"?`},
		{"R2 lower-case field", `[{"allowedMethods": ["GET"], "AllowedOrigins": ["*"]}]`,
			`p.json: rule 1: allowedMethods: unknown field in a rule of R2 JSON; did you mean "AllowedMethods"?`},
		{"R2 misspelt expose", `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposedHeaders": ["ETag"]}]`,
			`p.json: rule 1: ExposedHeaders: unknown field in a rule of R2 JSON; did you mean "ExposeHeaders"?`},
		{"R2 MaxAge", `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "MaxAge": 10}]`,
			`p.json: rule 1: MaxAge: unknown field in a rule of R2 JSON; did you mean "MaxAgeSeconds"?`},
		{"R2 unknown field", `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "Comment": "x"}]`,
			`p.json: rule 1: Comment: unknown field in a rule of R2 JSON; a rule has ID, AllowedOrigins, AllowedMethods, AllowedHeaders, ExposeHeaders, MaxAgeSeconds`},
		{"wrangler shape in R2", `[{"allowed": {"origins": ["*"], "methods": ["GET"]}}]`,
			`p.json: rule 1: allowed: unknown field in a rule of R2 JSON; "allowed" is wrangler's; here write AllowedOrigins, AllowedMethods and AllowedHeaders`},
		{"R2 string instead of list", `[{"AllowedOrigins": "https://a.example", "AllowedMethods": ["GET"]}]`,
			`p.json: rule 1: AllowedOrigins: must be a list of strings, not a string; write ["https://a.example"]`},
		{"R2 number in list", `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", 2]}]`,
			`p.json: rule 1: AllowedMethods[2] "2": must be a string, not a number; write it in double quotes`},
		{"R2 quoted MaxAgeSeconds", `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "MaxAgeSeconds": "3600"}]`,
			`p.json: rule 1: MaxAgeSeconds "\"3600\"": must be a whole number of seconds; write the number without quotes`},
		{"R2 fractional MaxAgeSeconds", `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "MaxAgeSeconds": 1.5}]`,
			`p.json: rule 1: MaxAgeSeconds "1.5": must be a whole number of seconds; write a whole number of seconds, such as 3600`},
		{"R2 repeated key", `[{"AllowedOrigins": ["https://a.example"], "AllowedMethods": ["GET"], "AllowedOrigins": ["https://b.example"]}]`,
			`p.json: rule 1: AllowedOrigins: appears twice; keep one of them`},
		{"R2 rule not an object", `[["*"]]`, `p.json: rule 1: a rule must be an object, not a list; write the rule inside { }`},
		{"single rule object", `{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}`,
			`p.json: the document is a single rule, not a list of rules; wrap it in [ ] (R2), or in {"CORSRules": [ ]} (AWS CLI) or {"rules": [ ]} (wrangler)`},
		{"AWS misspelt list", `{"CorsRules": []}`, `p.json: CorsRules: unknown field; did you mean "CORSRules"?`},
		{"AWS extra top-level field", `{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}], "Bucket": "b"}`,
			`p.json: Bucket: unknown field at the top of the document; the document holds only "CORSRules"`},
		{"AWS rules not a list", `{"CORSRules": {"AllowedOrigins": ["*"]}}`,
			`p.json: CORSRules: must be a list of rules, not an object; write the rules inside [ ]`},
		{"wrangler origins outside allowed", `{"rules": [{"id": "w", "origins": ["*"], "allowed": {"methods": ["GET"]}}]}`,
			`p.json: rule 1 (ID "w"): origins: unknown field in a rule of wrangler JSON; did you mean "allowed.origins"?`},
		{"wrangler R2 field names", `{"rules": [{"AllowedOrigins": ["*"], "allowed": {"methods": ["GET"]}}]}`,
			`p.json: rule 1: AllowedOrigins: unknown field in a rule of wrangler JSON; did you mean "allowed.origins"?`},
		{"wrangler misspelt inside allowed", `{"rules": [{"allowed": {"origin": ["*"], "methods": ["GET"]}}]}`,
			`p.json: rule 1: allowed.origin: unknown field in a rule of wrangler JSON; did you mean "allowed.origins"?`},
		{"wrangler allowed not an object", `{"rules": [{"allowed": ["*"]}]}`,
			`p.json: rule 1: allowed: must be an object, not a list; write {"origins": [...], "methods": [...], "headers": [...]}`},
		{"XML plural element", `<CORSConfiguration><CORSRule><AllowedOrigins>*</AllowedOrigins><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`,
			`p.json: rule 1: AllowedOrigins: unknown element in a CORSRule; did you mean <AllowedOrigin>?`},
		{"XML unknown element", `<CORSConfiguration><CORSRule><ID>a</ID><Filter/><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`,
			`p.json: rule 1 (ID "a"): Filter: unknown element in a CORSRule; a CORSRule holds ID, AllowedOrigin, AllowedMethod, AllowedHeader, ExposeHeader, MaxAgeSeconds`},
		{"XML rules misnamed", `<CORSConfiguration><CORSRules/></CORSConfiguration>`,
			`p.json: CORSRules: unknown element; did you mean <CORSRule>?`},
		{"XML wrong root", `<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>`,
			`p.json: CORSRule: the root element is a single rule; wrap the rules in <CORSConfiguration>`},
		{"XML of another kind", `<LifecycleConfiguration/>`,
			`p.json: LifecycleConfiguration: the root element of a CORS document is <CORSConfiguration>; rename it <CORSConfiguration>`},
		{"XML wrong namespace", `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01"><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`,
			`p.json: CORSConfiguration "http://s3.amazonaws.com/doc/2006-03-01": unknown XML namespace; use xmlns="http://s3.amazonaws.com/doc/2006-03-01/", or no namespace`},
		{"XML two IDs", `<CORSConfiguration><CORSRule><ID>a</ID><ID>b</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`,
			`p.json: rule 1 (ID "a"): ID: appears 2 times in a CORSRule; keep one of them`},
		{"XML MaxAgeSeconds not a number", `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>1h</MaxAgeSeconds></CORSRule></CORSConfiguration>`,
			`p.json: rule 1: MaxAgeSeconds "1h": must be a whole number of seconds; write a number such as 3600`},
		{"XML unclosed", `<CORSConfiguration><CORSRule>`, `p.json: invalid XML on line 1: unexpected EOF; check the tags around that point`},
		{"XML second root", `<CORSConfiguration></CORSConfiguration><CORSConfiguration/>`,
			`p.json: content after </CORSConfiguration>; put every <CORSRule> inside the one <CORSConfiguration>`},
		{"XML text in a rule", `<CORSConfiguration><CORSRule>GET<AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>`,
			`p.json: rule 1: "GET": text outside any element; put it inside an element, or remove it`},
		{"nested too deeply", strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
			`p.json: the document is nested too deeply to read; a CORS document nests four levels at most`},
		{"too large", "[" + strings.Repeat(" ", MaxDocumentSize) + "]",
			`p.json: the document is larger than 65536 bytes (64 KiB); remove rules or merge their origins`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode("p.json", []byte(tt.in))
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Decode error = %v, want a *ValidationError", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Decode error =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestDecodeCollectsEveryShapeProblem(t *testing.T) {
	_, err := Decode("p.json", []byte(`[
		{"AllowedOrigin": ["*"], "AllowedMethods": ["GET"]},
		{"AllowedOrigins": ["*"], "AllowedMethod": ["GET"]}
	]`))
	want := "p.json: rule 1: AllowedOrigin: unknown field in a rule of R2 JSON; did you mean \"AllowedOrigins\"?\n" +
		"p.json: rule 2: AllowedMethod: unknown field in a rule of R2 JSON; did you mean \"AllowedMethods\"?"
	if err == nil || err.Error() != want {
		t.Errorf("Decode error =\n%v\nwant\n%s", err, want)
	}
}

func TestDecodeSizeLimit(t *testing.T) {
	rule := `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]`
	exact := rule + strings.Repeat(" ", MaxDocumentSize-len(rule))
	if _, err := Decode("p", []byte(exact)); err != nil {
		t.Errorf("a document of exactly MaxDocumentSize bytes: %v", err)
	}
	if _, err := Decode("p", []byte(exact+" ")); err == nil {
		t.Error("a document one byte over MaxDocumentSize was accepted")
	}
}

// endless yields spaces forever and counts what was read.
type endless struct{ read int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read += len(p)
	return len(p), nil
}

func TestReadDocument(t *testing.T) {
	doc, err := ReadDocument("r2.json", strings.NewReader(r2Example))
	if err != nil || doc.Dialect != DialectR2 || len(doc.Rules) != 1 {
		t.Fatalf("ReadDocument = %+v, %v", doc, err)
	}

	r := &endless{}
	if _, err := ReadDocument("huge", io.LimitReader(r, 1<<30)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("ReadDocument of an endless document: %v", err)
	}
	if r.read > MaxDocumentSize+1 {
		t.Errorf("ReadDocument read %d bytes; want at most MaxDocumentSize+1", r.read)
	}

	failing := io.MultiReader(strings.NewReader("["), iotestErr{})
	if _, err := ReadDocument("broken", failing); err == nil || !strings.HasPrefix(err.Error(), "broken: ") {
		t.Errorf("ReadDocument of a failing reader: %v", err)
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestDialectString(t *testing.T) {
	for d, want := range map[Dialect]string{DialectR2: "R2 JSON", DialectAWS: "AWS CLI JSON",
		DialectWrangler: "wrangler JSON", DialectXML: "S3 XML", 0: "policy"} {
		if got := d.String(); got != want {
			t.Errorf("Dialect(%d).String() = %q, want %q", d, got, want)
		}
	}
}
