// `caddy bucket-cors` (explain, lint, convert) on the Caddy command line,
// registered with the module by importing this package.

package bucketcors

import (
	"errors"
	"fmt"
	"io"
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/bucketcors/bucketcors/policy"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "bucket-cors",
		Usage: "explain|lint|convert",
		Short: "Explains, checks and converts bucket CORS policies",
		Long: `
Works with the CORS policies of the bucket_cors handler, in any of the
four dialects it reads: S3's XML, the AWS CLI's JSON, the R2 dashboard's
JSON and wrangler's JSON.

  explain   says whether a policy allows a request, which rule decides,
            and what the proxy answers
  lint      lists the errors and warnings of policy documents
  convert   writes a policy document in another dialect

Run 'caddy bucket-cors <command> --help' for the flags of each.
`,
		CobraFunc: bucketCORSCommand,
	})
}

// Exit statuses of the subcommands.
const (
	exitOK      = 0
	exitRefused = 1 // explain: refused; lint: errors found
	exitUsage   = 2 // a usage error, or a document that cannot be read
)

// bucketCORSCommand sets up `caddy bucket-cors` and its subcommands.
func bucketCORSCommand(cmd *cobra.Command) {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) (int, error) {
		if len(args) > 0 {
			return exitUsage, fmt.Errorf("unknown command %q for %q: use explain, lint or convert", args[0], cmd.CommandPath())
		}
		return exitOK, cmd.Help()
	})
	// A flag that does not parse is a usage error, as a missing one is.
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitWith(c, exitUsage, err)
	})
	cmd.AddCommand(explainCommand(), lintCommand(), convertCommand())
}

// commandFunc is a subcommand: it writes its output to cmd.OutOrStdout()
// and cmd.ErrOrStderr(), and returns its exit status with the error that
// stopped it, if one did.
type commandFunc func(cmd *cobra.Command, args []string) (int, error)

// runE adapts a subcommand to cobra, so that caddycmd.Main exits with its
// status.
func runE(run commandFunc) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		status, err := run(cmd, args)
		return exitWith(cmd, status, err)
	}
}

// exitStatus carries a subcommand's exit status through cobra's Execute to
// caddycmd.Main, which finds in it the error it reads the status from.
type exitStatus struct {
	status int
	err    error
}

func (e *exitStatus) Error() string { return e.err.Error() }
func (e *exitStatus) Unwrap() error { return e.err }

// errStatus1 is the error of status 1 with nothing more to say: explain's
// refusal and lint's errors are already on stdout.
var errStatus1 = errors.New("exit status 1")

// exitWith returns the error that makes caddycmd.Main exit with status.
// caddycmd.WrapCommandFuncForCobra logs err as every Caddy command does,
// and passes a status above 1 on to Main; a status of 1 without an error it
// would turn into 0, so that one is returned as an error of its own, which
// Main exits 1 on.
func exitWith(cmd *cobra.Command, status int, err error) error {
	if status == exitOK && err == nil {
		return nil
	}
	out := errStatus1
	if status != 1 || err != nil {
		out = caddycmd.WrapCommandFuncForCobra(func(caddycmd.Flags) (int, error) { return status, err })(cmd, nil)
	}
	// The output says it all: no "Error: exit status 1" from cobra.
	cmd.SilenceErrors = true
	return &exitStatus{status: status, err: out}
}

// usageError is a command line that does not say what to do.
func usageError(cmd *cobra.Command, format string, args ...any) (int, error) {
	return exitUsage, fmt.Errorf("%s: %s", cmd.CommandPath(), fmt.Sprintf(format, args...))
}

// stdinName names a document read from standard input ("-").
const stdinName = "stdin"

// readDocumentFile reads a policy document from path, or from standard
// input when path is "-". It returns the name that messages give it, and
// reads at most one byte past policy.MaxDocumentSize, so that Decode
// refuses a larger one without it being read whole.
func readDocumentFile(cmd *cobra.Command, path string) (string, []byte, error) {
	if path == "-" {
		data, err := readDocument(cmd.InOrStdin())
		return stdinName, data, err
	}
	f, err := os.Open(path)
	if err != nil {
		return path, nil, err
	}
	defer f.Close()
	data, err := readDocument(f)
	return path, data, err
}

func readDocument(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, policy.MaxDocumentSize+1))
}

// decodeDocument decodes data, or returns what is wrong with it: the
// policy package's problems, and what the document looks like when that is
// not what want (0: any dialect) reads.
func decodeDocument(name string, data []byte, want policy.Dialect) (*policy.Document, []policy.Problem) {
	doc, err := policy.Decode(name, data)
	if err == nil {
		return doc, nil
	}
	problems := problemsOf(err)
	if mismatch := policy.DescribeMismatch(data, want); mismatch != "" {
		problems = append(problems, policy.Problem{Reason: mismatch})
	}
	return nil, problems
}

// problemsOf returns the problems of a policy error.
func problemsOf(err error) []policy.Problem {
	var invalid *policy.ValidationError
	if errors.As(err, &invalid) {
		return invalid.Problems
	}
	return []policy.Problem{{Reason: err.Error()}}
}

// validateDocument returns the errors and warnings of a decoded document.
func validateDocument(name string, doc *policy.Document) []policy.Problem {
	if invalid := policy.Validate(name, doc); invalid != nil {
		return invalid.Problems
	}
	return nil
}

// countProblems counts the errors and the warnings among problems.
func countProblems(problems []policy.Problem) (errs, warnings int) {
	for _, p := range problems {
		if p.Warning {
			warnings++
		} else {
			errs++
		}
	}
	return errs, warnings
}

// printProblems writes problems one per line, each naming the document,
// the rule, the field and the value, the reason and the fix.
func printProblems(w io.Writer, name string, problems []policy.Problem) {
	if len(problems) == 0 {
		return
	}
	fmt.Fprintln(w, (&policy.ValidationError{Name: name, Problems: problems}).Error())
}
