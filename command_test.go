package bucketcors

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// commandRun is what one run of `caddy bucket-cors` left.
type commandRun struct {
	status         int
	stdout, stderr string
	// err is the error the command returned to Caddy, which logs it.
	err error
}

// runBucketCORS runs `caddy bucket-cors args...` in process, from the
// command registered with caddycmd, and returns its exit status as
// caddycmd.Main would exit with it, and its output.
func runBucketCORS(t *testing.T, stdin string, args ...string) commandRun {
	t.Helper()
	registered, ok := caddycmd.Commands()["bucket-cors"]
	if !ok {
		t.Fatal("caddy bucket-cors is not registered")
	}
	// As caddycmd builds its commands: the root silences usage.
	root := &cobra.Command{Use: "caddy", SilenceUsage: true}
	cmd := &cobra.Command{Use: registered.Name + " " + registered.Usage, Short: registered.Short, Long: registered.Long}
	registered.CobraFunc(cmd)
	root.AddCommand(cmd)

	var stdout, stderr bytes.Buffer
	root.SetArgs(append([]string{"bucket-cors"}, args...))
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	run := commandRun{err: root.Execute()}
	run.stdout, run.stderr = stdout.String(), stderr.String()
	var exit *exitStatus
	switch {
	case run.err == nil:
	case errors.As(run.err, &exit):
		run.status = exit.status
		if exit.status == exitRefused && exit.err == nil {
			t.Errorf("status 1 without an error: caddycmd.Main would exit 0")
		}
	default:
		run.status = 1 // caddycmd.Main exits 1 on any other error
	}
	return run
}

// writeCommandFile writes a file under dir and returns its path.
func writeCommandFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// uploadsPolicy is the AWS CLI document most command tests judge by: a rule
// for the app's uploads and a public read rule.
const uploadsPolicy = `{"CORSRules": [
	{"ID": "uploads", "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "PUT", "HEAD"],
	 "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600},
	{"ID": "public", "AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}
]}`

// mixedPolicy is wrangler's outside around rules spelled for S3: the file
// wrangler users write from S3's documentation.
const mixedPolicy = `{"rules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}`

func TestCommandExplainPolicy(t *testing.T) {
	dir := t.TempDir()
	file := writeCommandFile(t, dir, "cors.json", uploadsPolicy)
	tests := []struct {
		name   string
		args   []string
		status int
		// first is the verdict line; want are further parts of stdout.
		first string
		want  []string
	}{
		{"allowed preflight", []string{"--origin", "https://app.example.com", "--method", "PUT", "--headers", "Content-Type, x-amz-date"},
			0, `rule 1 ("uploads") allowed`, []string{"HTTP/1.1 200 OK", "Access-Control-Allow-Origin: https://app.example.com",
				"Access-Control-Allow-Credentials: true", "Access-Control-Expose-Headers: ETag", "Access-Control-Max-Age: 3600"}},
		{"any origin", []string{"--origin", "https://x.example", "--method", "GET"},
			0, `rule 2 ("public") allowed`, []string{`  rule 1 ("uploads"): origin https://x.example not listed`, "Access-Control-Allow-Origin: *"}},
		{"refused origin", []string{"--origin", "https://x.example", "--method", "PUT"},
			1, `refused: rule 1 ("uploads"): origin https://x.example not listed; rule 2 ("public"): method PUT not allowed`,
			[]string{"HTTP/1.1 403 Forbidden", "<Method>PUT</Method><ResourceType>OBJECT</ResourceType>"}},
		{"refused header", []string{"--origin", "https://app.example.com", "--method", "PUT", "--headers", "x-foo"},
			1, `refused: rule 1 ("uploads"): header x-foo not allowed; rule 2 ("public"): method PUT not allowed`, nil},
		{"no Access-Control-Request-Method", []string{"--origin", "https://app.example.com"},
			1, `refused: rule 1 ("uploads"): method OPTIONS not allowed; rule 2 ("public"): method OPTIONS not allowed`,
			[]string{"  note: the preflight has no Access-Control-Request-Method: S3 takes the method to be OPTIONS, which no rule allows",
				"<Method>OPTIONS</Method>"}},
		{"preflight without Origin", []string{"--method", "GET"},
			1, "refused: a preflight without an Origin header", []string{"HTTP/1.1 400 Bad Request", "<Code>BadRequest</Code>"}},
		{"actual allowed", []string{"--origin", "https://app.example.com", "--method", "PUT", "--actual"},
			0, `rule 1 ("uploads") allowed`, []string{"HTTP/1.1 (the origin's status and headers, less any Access-Control-* header)"}},
		{"actual refused", []string{"--origin", "https://x.example", "--method", "DELETE", "--actual"},
			1, `refused: rule 1 ("uploads"): origin https://x.example not listed; rule 2 ("public"): method DELETE not allowed`,
			[]string{"Vary: Origin"}},
		{"actual without Origin", []string{"--method", "GET", "--actual"},
			0, "not a CORS request: no Origin header", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := runBucketCORS(t, "", append([]string{"explain", "--policy", file}, tt.args...)...)
			if run.status != tt.status {
				t.Errorf("exit status %d, want %d (%v)", run.status, tt.status, run.err)
			}
			lines := strings.Split(run.stdout, "\n")
			if lines[0] != tt.first {
				t.Errorf("verdict %q\nwant    %q", lines[0], tt.first)
			}
			for _, want := range tt.want {
				if !strings.Contains(run.stdout, want) {
					t.Errorf("no %q in\n%s", want, run.stdout)
				}
			}
			if run.stderr != "" {
				t.Errorf("stderr: %s", run.stderr)
			}
		})
	}
}

// containsString reports whether list holds s.
func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestCommandExplainJSON(t *testing.T) {
	run := runBucketCORS(t, uploadsPolicy, "explain", "--policy", "-", "--json",
		"--origin", "https://app.example.com", "--method", "PUT", "--headers", "x-foo")
	if run.status != 1 {
		t.Errorf("exit status %d, want 1 (%v)", run.status, run.err)
	}
	var got struct {
		Verdict string `json:"verdict"`
		Allowed bool   `json:"allowed"`
		Status  int    `json:"status"`
		Body    string `json:"body"`
		Rules   []struct {
			Rule  int    `json:"rule"`
			Check string `json:"check"`
			Value string `json:"value"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(run.stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, run.stdout)
	}
	want := `refused: rule 1 ("uploads"): header x-foo not allowed; rule 2 ("public"): method PUT not allowed`
	if got.Verdict != want || got.Allowed || got.Status != 403 || len(got.Rules) != 2 ||
		got.Rules[0].Check != "header" || got.Rules[0].Value != "x-foo" || got.Rules[1].Check != "method" {
		t.Errorf("explain --json =\n%s", run.stdout)
	}
	// The XML body is written as it is, not with \u003c for "<".
	if !strings.Contains(run.stdout, `"body": "<?xml`) {
		t.Errorf("the body's markup is escaped:\n%s", run.stdout)
	}
}

func TestCommandExplainBadDocument(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, doc string
		want      []string // lines of stderr
	}{
		{"invalid", `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "OPTIONS"]}]`, []string{
			`cors.json: rule 1: AllowedMethods[2] "OPTIONS": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; remove it: preflights are answered for the rule's other methods`}},
		{"mixed dialects", mixedPolicy, []string{
			`cors.json: rule 1: AllowedOrigins: unknown field in a rule of wrangler JSON; did you mean "allowed.origins"?`,
			`cors.json: looks like wrangler's {"rules": [...]} holding rules spelled as for S3 and R2 ("AllowedOrigins"); rename "rules" to "CORSRules", which makes it the AWS CLI's JSON`}},
		{"not a document", `{"cors": true}`, []string{"cors.json: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeCommandFile(t, dir, "cors.json", tt.doc)
			t.Chdir(dir)
			run := runBucketCORS(t, "", "explain", "--policy", "cors.json", "--origin", "https://app.example.com", "--method", "GET")
			checkRefused(t, run, tt.want)
		})
	}
}

// checkRefused checks that a command refused its input: exit status 2,
// nothing on stdout, and a stderr line starting with each of lines.
func checkRefused(t *testing.T, run commandRun, lines []string) {
	t.Helper()
	if run.status != 2 || run.stdout != "" {
		t.Errorf("exit status %d, stdout %q; want 2 and nothing", run.status, run.stdout)
	}
	got := strings.Split(run.stderr, "\n")
	for _, want := range lines {
		if !slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("no line %q in stderr:\n%s", want, run.stderr)
		}
	}
}

func TestCommandUsageErrors(t *testing.T) {
	dir := t.TempDir()
	file := writeCommandFile(t, dir, "cors.json", uploadsPolicy)
	tests := []struct {
		args []string
		want string // in the error that Caddy logs
	}{
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"explain", "--origin", "https://a.example"}, "name a policy: --policy <file>, or --config <path> with --bucket <name>"},
		{[]string{"explain", "--policy", file, "--config", "Caddyfile"}, "--policy and --config each name the policy: give one"},
		{[]string{"explain", "--config", "Caddyfile"}, "--config needs --bucket <name>"},
		{[]string{"explain", "--policy", file, "--bucket", "b"}, "--bucket goes with --config"},
		{[]string{"explain", "--policy", file, "--actual"}, "--actual needs --method <method>"},
		{[]string{"explain", "--policy", file, "extra"}, `unexpected argument "extra"`},
		{[]string{"explain", "--policy", filepath.Join(dir, "missing.json")}, "no such file or directory"},
		{[]string{"explain", "--config", "Caddyfile", "--bucket", "a/b"}, `--bucket "a/b": not a bucket name`},
		{[]string{"explain", "--policy", file, "--frobnicate"}, "unknown flag: --frobnicate"},
		{[]string{"lint"}, "name the policy documents to check"},
		{[]string{"lint", "--strict=maybe", file}, `invalid argument "maybe"`},
		{[]string{"convert", file}, "name the dialect to write: --to xml, aws, r2 or wrangler"},
		{[]string{"convert", "--to", "yaml", file}, `unknown policy dialect "yaml"`},
		{[]string{"convert", "--to", "xml"}, "name one policy document to convert"},
		{[]string{"convert", "--to", "xml", file, file}, "name one policy document to convert"},
		{[]string{"convert", "--to", "xml", filepath.Join(dir, "missing.json")}, "cannot read it: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			run := runBucketCORS(t, "", tt.args...)
			if run.status != 2 {
				t.Errorf("exit status %d, want 2", run.status)
			}
			if run.err == nil || !strings.Contains(run.err.Error(), tt.want) {
				t.Errorf("error %v, want one that says %q", run.err, tt.want)
			}
		})
	}
}

func TestCommandHelp(t *testing.T) {
	run := runBucketCORS(t, "")
	if run.status != 0 {
		t.Errorf("exit status %d (%v)", run.status, run.err)
	}
	for _, want := range []string{"caddy bucket-cors [command]", "convert     Writes a policy document in another dialect",
		"explain     Says whether a policy allows a request, and why", "lint        Lists the errors and warnings of policy documents"} {
		if !strings.Contains(run.stdout, want) {
			t.Errorf("the help does not say %q:\n%s", want, run.stdout)
		}
	}
}

// commandCaddyfile is a site whose bucket_cors has every source that
// explain --config reads, and a policy store and origin that it does not.
const commandCaddyfile = `http://s3.example.com {
	bucket_cors {
		policy assets {
			rule {
				id web
				origins https://app.example.com
				methods GET HEAD
			}
		}
		policy_file media POLICIES/media.xml
		policy_dir POLICIES/dir
		policy * {
			rule {
				id public
				origins *
				methods GET
			}
		}
		policy_store s3 {
			endpoint http://127.0.0.1:9000
			bucket cors-policies
		}
		policy_origin {
			endpoint http://127.0.0.1:9000
		}
	}
	respond 204
}
`

const mediaXML = `<CORSConfiguration><CORSRule><ID>fonts</ID><AllowedOrigin>https://app.example.com</AllowedOrigin>` +
	`<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`

func TestCommandExplainConfig(t *testing.T) {
	dir := t.TempDir()
	writeCommandFile(t, dir, "media.xml", mediaXML)
	writeCommandFile(t, dir, "dir/docs.json", uploadsPolicy)
	caddyfile := writeCommandFile(t, dir, "Caddyfile", strings.ReplaceAll(commandCaddyfile, "POLICIES", dir))
	storeNote := "  note: policy_store is not read by this command; the proxy asks it first"
	originNote := "  note: policy_origin is not read by this command; the proxy asks the origin before the default policy"
	tests := []struct {
		bucket string
		status int
		// source ends the first line; verdict is the explanation's first.
		source, verdict string
		notes           []string
	}{
		{"assets", 0, "policy assets", `rule 1 ("web") allowed`, nil},
		{"media", 0, "policy_file media " + filepath.Join(dir, "media.xml"), `rule 1 ("fonts") allowed`, nil},
		{"docs", 1, "policy_dir " + filepath.Join(dir, "dir") + " (" + filepath.Join(dir, "dir", "docs.json") + ")",
			`refused: rule 1 ("uploads"): method DELETE not allowed; rule 2 ("public"): method DELETE not allowed`, []string{storeNote}},
		{"other", 0, "policy * (the default policy)", `rule 1 ("public") allowed`, []string{storeNote, originNote}},
	}
	for _, tt := range tests {
		t.Run(tt.bucket, func(t *testing.T) {
			method := "GET"
			if tt.bucket == "docs" {
				method = "DELETE"
			}
			run := runBucketCORS(t, "", "explain", "--config", caddyfile, "--bucket", tt.bucket,
				"--origin", "https://app.example.com", "--method", method)
			if run.status != tt.status {
				t.Errorf("exit status %d, want %d (%v)", run.status, tt.status, run.err)
			}
			lines := strings.Split(run.stdout, "\n")
			first := `bucket_cors in server srv0 (host s3.example.com): bucket "` + tt.bucket + `": ` + tt.source
			if lines[0] != first {
				t.Errorf("first line %q\nwant       %q", lines[0], first)
			}
			for i, n := range tt.notes {
				if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], n) {
					t.Errorf("no note %q in\n%s", n, run.stdout)
				}
			}
			if !containsString(lines, tt.verdict) {
				t.Errorf("no verdict %q in\n%s", tt.verdict, run.stdout)
			}
		})
	}
}

// TestCommandExplainConfigHandlers explains a bucket by every handler of
// a configuration: one site has a policy for it, the other none.
func TestCommandExplainConfigHandlers(t *testing.T) {
	dir := t.TempDir()
	caddyfile := writeCommandFile(t, dir, "Caddyfile", `http://a.example.com {
	bucket_cors {
		policy assets {
			rule {
				origins *
				methods GET
			}
		}
	}
	respond 204
}

http://b.example.com:8080 {
	route /files/* {
		bucket_cors {
			bucket {http.request.uri.path.1}
		}
	}
	respond 204
}
`)
	run := runBucketCORS(t, "", "explain", "--config", caddyfile, "--bucket", "assets", "--json",
		"--origin", "https://app.example.com", "--method", "GET")
	if run.status != 1 {
		t.Errorf("exit status %d, want 1: one handler refuses (%v)", run.status, run.err)
	}
	var got struct {
		Bucket   string
		Handlers []struct {
			Server, Source string
			Hosts          []string
			Explanation    struct{ Verdict string }
		}
	}
	if err := json.Unmarshal([]byte(run.stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, run.stdout)
	}
	type handler struct{ server, hosts, source, verdict string }
	var handlers []handler
	for _, h := range got.Handlers {
		handlers = append(handlers, handler{h.Server, strings.Join(h.Hosts, " "), h.Source, h.Explanation.Verdict})
	}
	want := []handler{
		{"srv0", "a.example.com", "policy assets", "rule 1 allowed"},
		{"srv1", "b.example.com", `no policy: no source has one for the bucket, and there is no default policy ("*")`,
			"refused: the bucket has no CORS policy"},
	}
	if got.Bucket != "assets" || !reflect.DeepEqual(handlers, want) {
		t.Errorf("explain --config --json: bucket %q, handlers\n%q\nwant\n%q", got.Bucket, handlers, want)
	}
}

func TestCommandExplainConfigErrors(t *testing.T) {
	dir := t.TempDir()
	badPolicy := writeCommandFile(t, dir, "bad.json", `[{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]`)
	jsonConfig := func(handler string) string {
		return writeCommandFile(t, dir, "caddy.json", `{"apps": {"http": {"servers": {"main": {"listen": [":80"],
			"routes": [{"handle": [`+handler+`]}]}}}}}`)
	}
	tests := []struct {
		name   string
		config func() string
		// err is the error Caddy logs; stderr what the command writes.
		err, stderr string
	}{
		{"no handler", func() string { return jsonConfig(`{"handler": "static_response"}`) },
			"no bucket_cors handler in the configuration", ""},
		{"bad policy file", func() string {
			return jsonConfig(`{"handler": "bucket_cors", "policy_files": {"assets": ` + jsonString(badPolicy) + `}}`)
		}, "", badPolicy + `: rule 1: AllowedMethods[1] "PATCH": Found unsupported HTTP method in CORS config`},
		{"inline and file", func() string {
			return jsonConfig(`{"handler": "bucket_cors", "policies": {"assets": []}, "policy_files": {"assets": "x.json"}}`)
		}, "", `bucket "assets" has both an inline policy and policy_file x.json; give each bucket one`},
		{"bad Caddyfile", func() string {
			return writeCommandFile(t, dir, "Caddyfile", "http://a.example.com {\n\tbucket_cors {\n\t\tfrobnicate\n\t}\n}\n")
		}, "adapting the configuration with caddyfile", ""},
		{"missing", func() string { return filepath.Join(dir, "nothing") }, "reading the configuration", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := runBucketCORS(t, "", "explain", "--config", tt.config(), "--bucket", "assets", "--origin", "https://a.example", "--method", "GET")
			if run.status != 2 || run.stdout != "" {
				t.Errorf("exit status %d, stdout %q; want 2 and nothing", run.status, run.stdout)
			}
			if tt.err != "" && (run.err == nil || !strings.Contains(run.err.Error(), tt.err)) {
				t.Errorf("error %v, want one that says %q", run.err, tt.err)
			}
			if !strings.Contains(run.stderr, tt.stderr) {
				t.Errorf("stderr does not say %q:\n%s", tt.stderr, run.stderr)
			}
		})
	}
}

// jsonString quotes a string for JSON.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// adviceDocument has a problem for each of Lint's checks, and one
// validation error (OPTIONS) in its last rule.
const adviceDocument = `{"CORSRules": [
	{"ID": "web", "AllowedOrigins": ["https://*.vercel.app", "http://app.example.com", "https://app.example.com"],
	 "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["content-type"], "MaxAgeSeconds": 10000},
	{"ID": "dup", "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}
]}`

func TestCommandLint(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeCommandFile(t, dir, "clean.xml", `<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin>`+
		`<AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod></CORSRule></CORSConfiguration>`)
	writeCommandFile(t, dir, "advice.json", adviceDocument)
	writeCommandFile(t, dir, "options.json", `[{"AllowedOrigins": ["https://*.vercel.app"], "AllowedMethods": ["HEAD", "OPTIONS", "GET"]}]`)
	writeCommandFile(t, dir, "mixed.json", mixedPolicy)
	tests := []struct {
		name   string
		args   []string
		status int
		stdout []string // each line in order
		stderr string
	}{
		{"clean", []string{"clean.xml"}, 0, nil, ""},
		{"warnings", []string{"advice.json"}, 0, []string{
			`advice.json: rule 1 (ID "web"): AllowedOrigins[1] "https://*.vercel.app": the * stands for every site under vercel.app, a public suffix where anyone can register a name; list your own sites instead, such as "https://myapp.vercel.app"`,
			`advice.json: rule 1 (ID "web"): AllowedOrigins[2] "http://app.example.com": a plain-http origin in a rule that also allows https ones: anyone on the network of a page served over http can use what this rule grants; remove it if the site is served over https, or give it a rule of its own with fewer methods`,
			`advice.json: rule 1 (ID "web"): AllowedMethods[1] "GET": GET is allowed but HEAD is not: a page's HEAD request (for an object's size or ETag) is refused; add "HEAD"`,
			`advice.json: rule 1 (ID "web"): ExposeHeaders: PUT is allowed but ETag is not exposed: a multipart upload reads each part's ETag to complete; add "ETag" to ExposeHeaders`,
			`advice.json: rule 1 (ID "web"): ExposeHeaders: PUT is allowed but x-amz-checksum-crc32 is not exposed: aws-sdk-js v3 (3.729 and later) uploads parts with a CRC32 checksum and reads it back, or CompleteMultipartUpload fails with 400 InvalidPart; add "x-amz-checksum-crc32" to ExposeHeaders`,
			`advice.json: rule 1 (ID "web"): AllowedHeaders: the preflight of a PUT by aws-sdk-js v3 asks for amz-sdk-invocation-id, amz-sdk-request, authorization, x-amz-checksum-crc32, x-amz-content-sha256, x-amz-date, x-amz-sdk-checksum-algorithm, x-amz-security-token, x-amz-user-agent, which this rule does not allow; if pages upload with the SDK, add "authorization", "x-amz-*", "amz-sdk-*" to AllowedHeaders, or allow "*"`,
			`advice.json: rule 1 (ID "web"): MaxAgeSeconds "10000": Chromium caches a preflight answer for 2 hours (7200 seconds) at most; only Firefox keeps it longer; use 7200, unless Firefox's longer cache is what you want`,
			`advice.json: rule 2 (ID "dup"): rule 1 (ID "web") allows every request that this rule allows, so this rule never applies; remove it, or move it above rule 1 (ID "web") if its ExposeHeaders or MaxAgeSeconds should apply`,
		}, "0 errors, 8 warnings in 1 document\n"},
		{"strict", []string{"--strict", "advice.json", "clean.xml"}, 1, nil, "0 errors, 8 warnings in 2 documents\n"},
		{"an error, then a warning of the same rule", []string{"options.json"}, 1, []string{
			`options.json: rule 1: AllowedMethods[2] "OPTIONS": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; remove it: preflights are answered for the rule's other methods`,
			`options.json: rule 1: AllowedOrigins[1] "https://*.vercel.app": the * stands for every site under vercel.app, a public suffix where anyone can register a name; list your own sites instead, such as "https://myapp.vercel.app"`,
		}, "1 error, 1 warning in 1 document\n"},
		{"mixed dialects", []string{"mixed.json"}, 1, []string{
			`mixed.json: rule 1: AllowedOrigins: unknown field in a rule of wrangler JSON; did you mean "allowed.origins"?`,
			`mixed.json: rule 1: AllowedMethods: unknown field in a rule of wrangler JSON; did you mean "allowed.methods"?`,
			`mixed.json: looks like wrangler's {"rules": [...]} holding rules spelled as for S3 and R2 ("AllowedOrigins"); rename "rules" to "CORSRules", which makes it the AWS CLI's JSON`,
		}, "3 errors, 0 warnings in 1 document\n"},
		{"missing", []string{"clean.xml", "missing.json"}, 1, []string{"missing.json: cannot read it: no such file or directory"},
			"1 error, 0 warnings in 2 documents\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := runBucketCORS(t, "", append([]string{"lint"}, tt.args...)...)
			if run.status != tt.status {
				t.Errorf("exit status %d, want %d (%v)", run.status, tt.status, run.err)
			}
			if tt.stdout != nil {
				if want := strings.Join(tt.stdout, "\n") + "\n"; run.stdout != want {
					t.Errorf("stdout:\n%s\nwant:\n%s", run.stdout, want)
				}
			}
			if run.stderr != tt.stderr {
				t.Errorf("stderr %q, want %q", run.stderr, tt.stderr)
			}
		})
	}
}

// dialectFiles are the names the round trip writes each dialect to.
var dialectFiles = map[string]string{"xml": "cors.xml", "aws": "aws.json", "r2": "r2.json", "wrangler": "wrangler.json"}

// TestCommandConvertRoundTrip converts a document to every dialect, and
// each of those to every other: each conversion gives the same rules, and
// the same text whatever dialect it starts from.
func TestCommandConvertRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := writeCommandFile(t, dir, "source.json", `// comments and trailing commas are read
{"CORSRules": [
	{"ID": "uploads", "AllowedOrigins": ["https://app.example.com", "https://*.preview.example.com"],
	 "AllowedMethods": ["GET", "PUT", "HEAD"], "AllowedHeaders": ["content-type", "x-amz-*"],
	 "ExposeHeaders": ["ETag", "x-amz-checksum-crc32"], "MaxAgeSeconds": 0,},
	{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
]}`)
	want := testrig.DecodePolicyFile(t, src).Rules
	converted := make(map[string]string)
	for to, name := range dialectFiles {
		run := runBucketCORS(t, "", "convert", "--to", to, src)
		if run.status != 0 || run.stderr != "" {
			t.Fatalf("convert --to %s: status %d, stderr %s (%v)", to, run.status, run.stderr, run.err)
		}
		converted[to] = writeCommandFile(t, dir, name, run.stdout)
		doc := testrig.DecodePolicyFile(t, converted[to])
		if doc.Dialect.Name() != to || !reflect.DeepEqual(doc.Rules, want) {
			t.Errorf("convert --to %s gives a %s document with rules\n%+v\nwant\n%+v", to, doc.Dialect.Name(), doc.Rules, want)
		}
	}
	for from, file := range converted {
		for to := range dialectFiles {
			run := runBucketCORS(t, "", "convert", "--to", to, file)
			if run.status != 0 {
				t.Errorf("convert %s --to %s: status %d (%v)", from, to, run.status, run.err)
			}
			if text, _ := os.ReadFile(converted[to]); run.stdout != string(text) {
				t.Errorf("convert %s --to %s:\n%s\nwant\n%s", from, to, run.stdout, text)
			}
		}
	}
}

func TestCommandConvertRefuses(t *testing.T) {
	tests := []struct {
		name, to, doc string
		stderr        []string
	}{
		{"mixed dialects", "r2", mixedPolicy, []string{
			`stdin: rule 1: AllowedOrigins: unknown field in a rule of wrangler JSON; did you mean "allowed.origins"?`,
			`stdin: rule 1: AllowedMethods: unknown field in a rule of wrangler JSON; did you mean "allowed.methods"?`,
			`stdin: looks like wrangler's {"rules": [...]} holding rules spelled as for S3 and R2 ("AllowedOrigins"); R2's dashboard wants the bare array of rules: [{"AllowedOrigins": [...], "AllowedMethods": [...]}]; rename "rules" to "CORSRules", which makes it the AWS CLI's JSON, then convert it: caddy bucket-cors convert --to r2 FILE`,
		}},
		{"wrangler's fields outside wrangler", "wrangler", `{"CORSRules": [{"allowed": {"origins": ["*"], "methods": ["GET"]}}]}`, []string{
			`stdin: rule 1: allowed: unknown field in a rule of AWS CLI JSON; "allowed" is wrangler's; here write AllowedOrigins, AllowedMethods and AllowedHeaders`,
			`stdin: looks like the AWS CLI's {"CORSRules": [...]} holding rules spelled as for wrangler ("allowed": {"origins"}); wrangler r2 bucket cors set wants {"rules": [{"allowed": {"origins": [...], "methods": [...]}}]}, and stops at anything else with "The CORS configuration file must contain a 'rules' array"; rename "CORSRules" to "rules", which makes it wrangler's JSON`,
		}},
		{"S3 refuses it", "xml", `[{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "OPTIONS"]}]`, []string{
			`stdin: rule 1: AllowedMethods[2] "OPTIONS": Found unsupported HTTP method in CORS config; S3 allows GET, PUT, POST, DELETE, HEAD; remove it: preflights are answered for the rule's other methods`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := runBucketCORS(t, tt.doc, "convert", "--to", tt.to, "-")
			checkRefused(t, run, tt.stderr)
		})
	}
}
