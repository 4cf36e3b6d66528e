package policy

import "testing"

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want Dialect // 0: cannot tell
	}{
		{"R2's page, trailing comma and all", r2Example, DialectR2},
		{"AWS CLI", `{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}`, DialectAWS},
		{"wrangler", `{"rules": [{"allowed": {"origins": ["*"], "methods": ["GET"]}}]}`, DialectWrangler},
		{"S3 XML with a prolog and a comment", `<?xml version="1.0"?>
			<!-- uploads --><CORSConfiguration><CORSRule/></CORSConfiguration>`, DialectXML},
		{"a byte order mark and comments", "\xef\xbb\xbf // policy\n/* v2 */ {\"CORSRules\": []}", DialectAWS},
		{"another key first", `{"$schema": {"a": [1, 2]}, "rules": []}`, DialectWrangler},
		{"broken after its shape shows", `{"rules": [{"id": "x", "allowed": {"origins": ["*"]`, DialectWrangler},
		{"broken with a comment", `{"CORSRules": [ // rules` + "\n" + `{"ID": }`, DialectAWS},
		{"a single rule", `{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}`, 0},
		{"an XML root that is not a configuration", `<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>`, 0},
		{"an HTML page", `<!DOCTYPE html><html><body>Not found</body></html>`, 0},
		{"empty", ``, 0},
		{"a string", `"rules"`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Sniff([]byte(tc.doc))
			if got != tc.want || ok != (tc.want != 0) {
				t.Errorf("Sniff = %v, %v; want %v", got, ok, tc.want)
			}
		})
	}
}

func TestDescribeMismatch(t *testing.T) {
	const (
		awsDoc      = `{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}`
		r2Doc       = `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]`
		wranglerDoc = `{"rules": [{"allowed": {"origins": ["*"], "methods": ["GET"]}}]}`
		xmlDoc      = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>`
		// The file of cloudflare/workers-sdk#8486: wrangler's wrapper
		// around rules written from S3's documentation.
		mixedRules = `{"rules": [{"AllowedOrigins": ["http://example.com"], "AllowedMethods": ["GET"]}]}`
	)
	tests := []struct {
		name string
		doc  string
		want Dialect
		msg  string
	}{
		{"the AWS CLI's JSON for R2's dashboard", awsDoc, DialectR2,
			`looks like the AWS CLI's JSON ({"CORSRules": [...]}); R2's dashboard wants the bare array of rules: ` +
				`[{"AllowedOrigins": [...], "AllowedMethods": [...]}]; convert it: caddy bucket-cors convert --to r2 FILE`},
		{"R2's array for wrangler", r2Doc, DialectWrangler,
			`looks like R2's dashboard JSON (a bare array of rules); wrangler r2 bucket cors set wants ` +
				`{"rules": [{"allowed": {"origins": [...], "methods": [...]}}]}, and stops at anything else with ` +
				`"The CORS configuration file must contain a 'rules' array"; convert it: caddy bucket-cors convert --to wrangler FILE`},
		{"wrangler's JSON for the AWS CLI", wranglerDoc, DialectAWS,
			`looks like wrangler's JSON ({"rules": [{"allowed": {...}}]}); aws s3api put-bucket-cors wants ` +
				`{"CORSRules": [{"AllowedOrigins": [...], "AllowedMethods": [...]}]}; convert it: caddy bucket-cors convert --to aws FILE`},
		{"S3's XML for wrangler", xmlDoc, DialectWrangler,
			`looks like S3's XML (<CORSConfiguration>); wrangler r2 bucket cors set wants ` +
				`{"rules": [{"allowed": {"origins": [...], "methods": [...]}}]}; convert it: caddy bucket-cors convert --to wrangler FILE`},
		{"AWS field names inside wrangler's wrapper, for wrangler: the 10040", mixedRules, DialectWrangler,
			`looks like wrangler's {"rules": [...]} holding rules spelled as for S3 and R2 ("AllowedOrigins"); ` +
				`wrangler r2 bucket cors set wants {"rules": [{"allowed": {"origins": [...], "methods": [...]}}]}, ` +
				`and Cloudflare's API refuses other field names with "The JSON you provided was not well formed. [code: 10040]"; ` +
				`rename "rules" to "CORSRules", which makes it the AWS CLI's JSON, then convert it: caddy bucket-cors convert --to wrangler FILE`},
		{"AWS field names inside wrangler's wrapper, for any dialect", mixedRules, 0,
			`looks like wrangler's {"rules": [...]} holding rules spelled as for S3 and R2 ("AllowedOrigins"); ` +
				`rename "rules" to "CORSRules", which makes it the AWS CLI's JSON`},
		{"wrangler's rules inside the AWS CLI's wrapper, for wrangler", `{"CORSRules": [{"id": "a", "allowed": {}}]}`, DialectWrangler,
			`looks like the AWS CLI's {"CORSRules": [...]} holding rules spelled as for wrangler ("allowed": {"origins"}); ` +
				`wrangler r2 bucket cors set wants {"rules": [{"allowed": {"origins": [...], "methods": [...]}}]}, and stops at anything else ` +
				`with "The CORS configuration file must contain a 'rules' array"; rename "CORSRules" to "rules", which makes it wrangler's JSON`},
		{"wrangler's rules in a bare array, for R2", `[{"allowed": {"origins": ["*"]}}]`, DialectR2,
			`looks like a bare array holding rules spelled as for wrangler ("allowed": {"origins"}); R2's dashboard wants the bare array ` +
				`of rules: [{"AllowedOrigins": [...], "AllowedMethods": [...]}]; wrap the array in {"rules": ...}, which makes it ` +
				`wrangler's JSON, then convert it: caddy bucket-cors convert --to r2 FILE`},
		{"S3's XML for S3", xmlDoc, DialectXML, ""},
		{"wrangler's JSON for wrangler", wranglerDoc, DialectWrangler, ""},
		{"one dialect, for any", awsDoc, 0, ""},
		{"a shape that tells nothing", `{"AllowedOrigins": ["*"]}`, DialectWrangler, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DescribeMismatch([]byte(tc.doc), tc.want); got != tc.msg {
				t.Errorf("DescribeMismatch =\n%s\nwant\n%s", got, tc.msg)
			}
		})
	}
}

// FuzzSniff: sniffing never fails on any input, and a document that decodes
// sniffs as the dialect it decodes as, with no mismatch to describe.
func FuzzSniff(f *testing.F) {
	for _, in := range oneOfEach {
		f.Add([]byte(in))
	}
	f.Add([]byte(`{"rules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sniffed, ok := Sniff(data)
		for _, want := range append([]Dialect{0}, allDialects...) {
			DescribeMismatch(data, want)
		}
		doc, err := Decode("fuzz", data)
		if err != nil {
			return
		}
		if !ok || sniffed != doc.Dialect {
			t.Fatalf("a %s document sniffs as %s, %v", doc.Dialect, sniffed, ok)
		}
		if msg := DescribeMismatch(data, doc.Dialect); msg != "" {
			t.Fatalf("a %s document is described as a mismatch: %s", doc.Dialect, msg)
		}
		if msg := DescribeMismatch(data, 0); msg != "" {
			t.Fatalf("a %s document is described as mixed: %s", doc.Dialect, msg)
		}
	})
}
