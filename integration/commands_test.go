package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/bucketcors/bucketcors/internal/testrig"
	"github.com/bucketcors/bucketcors/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files of the command tests under testdata/commands")

// commandsDir holds the documents and the golden outputs of the command
// tests, one folder per command.
const commandsDir = "testdata/commands"

// commandCase is one run of `caddy bucket-cors`, in a folder of
// commandsDir, whose output is compared with a golden file there.
type commandCase struct {
	golden string   // the golden file, under dir
	args   []string // after `caddy bucket-cors`
}

// runCommandCases runs each case with the binary users build and compares
// the exit status, stdout and stderr with its golden file.
func runCommandCases(t *testing.T, dir string, cases []commandCase) {
	caddy := testrig.CaddyBinary(t)
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			got := runCaddyCommand(t, caddy, filepath.Join(commandsDir, dir), "", c.args...).transcript(c.args)
			compareGolden(t, filepath.Join(commandsDir, dir, c.golden), got)
		})
	}
}

// commandResult is what a run of the binary left.
type commandResult struct {
	status         int
	stdout, stderr string
}

// runCaddyCommand runs `caddy bucket-cors args...` in dir, with stdin.
func runCaddyCommand(t *testing.T, caddy, dir, stdin string, args ...string) commandResult {
	t.Helper()
	cmd := exec.Command(caddy, append([]string{"bucket-cors"}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("caddy bucket-cors %s: %v", strings.Join(args, " "), err)
	}
	return commandResult{status: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// transcript lays a run out for a golden file: the command line, the exit
// status, stdout, and stderr with Caddy's JSON log lines reduced to their
// level and message (the time changes from run to run).
func (r commandResult) transcript(args []string) string {
	var b strings.Builder
	b.WriteString("$ caddy bucket-cors")
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, ` "'*?,`) {
			a = strconv.Quote(a)
		}
		b.WriteString(" " + a)
	}
	b.WriteString("\nexit status " + strconv.Itoa(r.status) + "\n")
	if r.stdout != "" {
		b.WriteString("--- stdout\n" + r.stdout)
	}
	if r.stderr != "" {
		b.WriteString("--- stderr\n")
		for line := range strings.Lines(r.stderr) {
			var entry struct{ Level, Msg string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg != "" {
				line = "[" + entry.Level + "] " + entry.Msg + "\n"
			}
			b.WriteString(line)
		}
	}
	return b.String()
}

// compareGolden compares got with the golden file at path, or rewrites the
// file with -update.
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("the output differs from %s (rerun with -update and read the diff):\n%s", path, got)
	}
}

// TestCommandsExplain explains, with the binary, each row of the README's
// S3 semantics table, and the policy that each source of a Caddyfile
// gives a bucket.
func TestCommandsExplain(t *testing.T) {
	policyArgs := func(args ...string) []string { return append([]string{"explain", "--policy", "cors.json"}, args...) }
	configArgs := func(bucket string, args ...string) []string {
		return append([]string{"explain", "--config", "Caddyfile", "--bucket", bucket}, args...)
	}
	// A bucket that no source of no-default.caddyfile names has no policy.
	noPolicyArgs := func(args ...string) []string {
		return append([]string{"explain", "--config", "no-default.caddyfile", "--bucket", "unknown"}, args...)
	}
	app := []string{"--origin", "https://app.example.com"}
	runCommandCases(t, "explain", []commandCase{
		// The preflight rows.
		{"preflight-no-origin.golden", policyArgs("--method", "GET")},
		{"preflight-no-request-method.golden", policyArgs(app...)},
		{"preflight-no-policy.golden", noPolicyArgs(append(app, "--method", "GET")...)},
		{"preflight-refused-origin.golden", policyArgs("--origin", "https://evil.example.net", "--method", "PUT")},
		{"preflight-refused-method.golden", policyArgs(append(app, "--method", "DELETE")...)},
		{"preflight-refused-header.golden", policyArgs(append(app, "--method", "PUT", "--headers", "content-type, x-foo")...)},
		{"preflight-allowed.golden", policyArgs(append(app, "--method", "PUT", "--headers", "Content-Type, X-Amz-Date")...)},
		{"preflight-allowed-any-origin.golden", policyArgs("--origin", "https://x.example.org", "--method", "GET")},
		// The actual requests.
		{"actual-allowed.golden", policyArgs(append(app, "--method", "PUT", "--actual")...)},
		{"actual-refused.golden", policyArgs("--origin", "https://evil.example.net", "--method", "PUT", "--actual")},
		{"actual-with-request-headers.golden", policyArgs(append(app, "--method", "GET", "--actual", "--headers", "x-foo")...)},
		{"actual-no-policy.golden", noPolicyArgs(append(app, "--method", "GET", "--actual")...)},
		{"json.golden", policyArgs(append(app, "--method", "PUT", "--headers", "x-foo", "--json")...)},
		// Each source of a Caddyfile.
		{"config-inline.golden", configArgs("assets", append(app, "--method", "PUT", "--headers", "content-type")...)},
		{"config-policy-file.golden", configArgs("media", append(app, "--method", "GET")...)},
		{"config-policy-dir.golden", configArgs("docs", "--origin", "https://v2.docs.example.com", "--method", "GET")},
		{"config-default.golden", configArgs("unknown", "--origin", "https://x.example.org", "--method", "PUT")},
		{"config-json.golden", configArgs("assets", append(app, "--method", "GET", "--json")...)},
		// What explain cannot use.
		{"bad-document.golden", []string{"explain", "--policy", "bad.json", "--origin", "https://app.example.com", "--method", "GET"}},
		{"usage.golden", []string{"explain", "--config", "Caddyfile", "--origin", "https://app.example.com"}},
	})
}

// TestCommandsLint lints, with the binary, documents that hold every
// advisory of lint, every warning and error of validation, and a document
// in a mix of two dialects.
func TestCommandsLint(t *testing.T) {
	runCommandCases(t, "lint", []commandCase{
		{"clean.golden", []string{"lint", "clean.json"}},
		{"advice.golden", []string{"lint", "advice.json"}},
		{"advice-strict.golden", []string{"lint", "--strict", "advice.json"}},
		{"warnings.golden", []string{"lint", "warnings.json"}},
		{"errors.golden", []string{"lint", "errors.xml"}},
		{"mixed.golden", []string{"lint", "mixed.json"}},
		{"several.golden", []string{"lint", "clean.json", "mixed.json", "missing.json"}},
		{"usage.golden", []string{"lint"}},
	})
}

// The golden conversions of convert/source.json, one per dialect.
var convertGoldens = []struct{ dialect, file string }{
	{"xml", "cors.xml"},
	{"aws", "aws.json"},
	{"r2", "r2.json"},
	{"wrangler", "wrangler.json"},
}

// TestCommandsConvertRoundTrip converts, with the binary, a hand-written
// document to each dialect (compared with a golden file, and read back to
// the same rules), then each of those to every other dialect: converting A
// to B and B back to A gives A's file again, so every pair keeps the rules.
func TestCommandsConvertRoundTrip(t *testing.T) {
	caddy := testrig.CaddyBinary(t)
	dir := filepath.Join(commandsDir, "convert")
	want := testrig.DecodePolicyFile(t, filepath.Join(dir, "source.json")).Rules
	for _, g := range convertGoldens {
		res := runCaddyCommand(t, caddy, dir, "", "convert", "--to", g.dialect, "source.json")
		if res.status != 0 || res.stderr != "" {
			t.Fatalf("convert --to %s source.json: exit status %d\n%s", g.dialect, res.status, res.stderr)
		}
		compareGolden(t, filepath.Join(dir, g.file), res.stdout)
		doc, err := policy.Decode(g.file, []byte(res.stdout))
		if err != nil {
			t.Fatalf("convert --to %s wrote what does not decode: %v", g.dialect, err)
		}
		if doc.Dialect.Name() != g.dialect || !reflect.DeepEqual(doc.Rules, want) {
			t.Errorf("convert --to %s gives a %s document with rules\n%+v\nwant\n%+v", g.dialect, doc.Dialect.Name(), doc.Rules, want)
		}
	}
	for _, from := range convertGoldens {
		for _, to := range convertGoldens {
			if from == to {
				continue
			}
			res := runCaddyCommand(t, caddy, dir, "", "convert", "--to", to.dialect, from.file)
			wantText, _ := os.ReadFile(filepath.Join(dir, to.file))
			if res.status != 0 || res.stdout != string(wantText) {
				t.Errorf("convert --to %s %s: exit status %d, and not %s:\n%s%s", to.dialect, from.file, res.status, to.file, res.stdout, res.stderr)
			}
		}
	}
}

// TestCommandsConvertRefuses converts, with the binary, what cannot be
// converted: a document in a mix of two dialects, read from stdin too, and
// a dialect that does not exist.
func TestCommandsConvertRefuses(t *testing.T) {
	runCommandCases(t, "convert", []commandCase{
		{"mixed.golden", []string{"convert", "--to", "r2", "mixed.json"}},
		{"unknown-dialect.golden", []string{"convert", "--to", "yaml", "source.json"}},
	})
	caddy := testrig.CaddyBinary(t)
	dir := filepath.Join(commandsDir, "convert")
	mixed, err := os.ReadFile(filepath.Join(dir, "mixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := runCaddyCommand(t, caddy, dir, string(mixed), "convert", "--to", "wrangler", "-")
	want := `stdin: looks like wrangler's {"rules": [...]} holding rules spelled as for S3 and R2 ("AllowedOrigins")`
	if res.status != 2 || res.stdout != "" || !strings.Contains(res.stderr, want) {
		t.Errorf("convert --to wrangler - < mixed.json: exit status %d, stdout %q, stderr\n%s\nwant 2, nothing, and %q",
			res.status, res.stdout, res.stderr, want)
	}
}

// TestCommandsHelp checks that the binary lists the command and its
// subcommands, with Caddy's help layout.
func TestCommandsHelp(t *testing.T) {
	runCommandCases(t, ".", []commandCase{
		{"help.golden", []string{"--help"}},
	})
}
