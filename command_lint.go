package bucketcors

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/spf13/cobra"

	"github.com/bucketcors/bucketcors/policy"
)

func lintCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lint [--strict] <file>...",
		Short: "Lists the errors and warnings of policy documents",
		Long: `
Checks CORS policy documents, in any dialect, and prints every problem,
one per line:

  FILE: rule N (ID "x"): FIELD "value": what is wrong; what to do

An error is what S3's PutBucketCors refuses. A warning is what S3
accepts but is likely a mistake: an origin no browser sends, a rule that
an earlier rule covers, a wildcard under a public suffix, an upload rule
that aws-sdk-js cannot use, a MaxAgeSeconds that browsers cap. A count of
each goes to stderr. "-" reads a document from stdin.

Exit status: 1 when a document has an error (with --strict, also a
warning), else 0; 2 on a usage error.
`,
		Example: `  $ caddy bucket-cors lint cors.json
  $ caddy bucket-cors lint --strict policies/*.json policies/*.xml`,
		Args: cobra.ArbitraryArgs,
	}
	cmd.Flags().Bool("strict", false, "Count warnings as errors")
	cmd.RunE = runE(runLint)
	return cmd
}

func runLint(cmd *cobra.Command, args []string) (int, error) {
	if len(args) == 0 {
		return usageError(cmd, "name the policy documents to check: lint <file>...")
	}
	strict, _ := cmd.Flags().GetBool("strict")
	var errs, warnings int
	for _, path := range args {
		name, problems := lintFile(cmd, path)
		printProblems(cmd.OutOrStdout(), name, problems)
		e, w := countProblems(problems)
		errs, warnings = errs+e, warnings+w
	}
	if errs+warnings > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s, %s in %s\n",
			plural(errs, "error"), plural(warnings, "warning"), plural(len(args), "document"))
	}
	if errs > 0 || strict && warnings > 0 {
		return exitRefused, nil
	}
	return exitOK, nil
}

// lintFile returns the name of a document and its problems: the errors and
// warnings of validation, then Lint's advice, rule by rule.
func lintFile(cmd *cobra.Command, path string) (string, []policy.Problem) {
	name, data, err := readDocumentFile(cmd, path)
	if err != nil {
		return name, []policy.Problem{{Reason: "cannot read it: " + readError(err)}}
	}
	doc, problems := decodeDocument(name, data, 0)
	if problems != nil {
		return name, problems
	}
	problems = append(validateDocument(name, doc), policy.Lint(doc)...)
	// Validation gives a rule's problems before Lint's: keep that order
	// within each rule.
	slices.SortStableFunc(problems, func(a, b policy.Problem) int { return cmp.Compare(a.Rule, b.Rule) })
	return name, problems
}

// readError says why a file cannot be read, without repeating its name.
func readError(err error) string {
	if pathErr, ok := errors.AsType[*fs.PathError](err); ok {
		return pathErr.Err.Error()
	}
	return err.Error()
}

// plural writes "1 error", "2 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
