package bucketcors

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/bucketcors/bucketcors/caddymodule"
	"github.com/bucketcors/bucketcors/policy"
)

func explainCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explain --policy <file> | --config <path> --bucket <name> [--origin <origin>] [--method <method>] [--headers <names>] [--actual] [--json]",
		Short: "Says whether a policy allows a request, and why",
		Long: `
Judges one request by a bucket's CORS policy, as the bucket_cors handler
does, and says why: the rule that allowed it (its number and ID), or, for
each rule in order, the first check it failed (the origin, the method or a
header). Then it shows the status and headers the proxy answers with.

The policy is either a document in any dialect (--policy, "-" for stdin),
or the one a Caddy configuration gives the bucket (--config and --bucket):
the handler's inline policy or policy_file for the bucket, else the
bucket's file in policy_dir, else the default policy ("*"). A policy_store
or policy_origin is not read: the output says where it would come first.
Every bucket_cors handler of the configuration is explained in turn.

The request is a preflight (OPTIONS) unless --actual is given:
  --origin    the Origin header; without it, the request has none
  --method    the Access-Control-Request-Method of a preflight, or the
              method of an actual request
  --headers   the Access-Control-Request-Headers, such as
              "content-type, x-amz-date"
  --actual    a request that is not a preflight
  --json      the same, as one JSON object

Exit status: 0 allowed, 1 refused, 2 usage error or a document that
cannot be used.
`,
		Example: `  $ caddy bucket-cors explain --policy cors.json --origin https://app.example.com --method PUT --headers "content-type, x-amz-date"
  $ caddy bucket-cors explain --config Caddyfile --bucket uploads --origin https://app.example.com --method GET --actual`,
		Args: cobra.ArbitraryArgs,
	}
	f := cmd.Flags()
	f.StringP("policy", "p", "", "Policy document to judge by, in any dialect")
	f.StringP("config", "c", "", "Caddy configuration whose bucket_cors handlers to judge by")
	f.StringP("adapter", "a", "", "Name of the config adapter (default: caddyfile, none for a .json file)")
	f.StringP("bucket", "b", "", "Bucket whose policy to judge by (with --config)")
	f.StringP("origin", "o", "", "Origin of the request")
	f.StringP("method", "m", "", "Access-Control-Request-Method of a preflight, or the method of an actual request")
	f.StringP("headers", "H", "", "Access-Control-Request-Headers of the request")
	f.Bool("actual", false, "Judge an actual request rather than a preflight")
	f.Bool("json", false, "Write the explanation as JSON")
	cmd.RunE = runE(runExplain)
	return cmd
}

// explainFlags are the flags of explain, read.
type explainFlags struct {
	policyFile, config, adapter, bucket string
	json                                bool
	request                             policy.Request
}

func readExplainFlags(cmd *cobra.Command) explainFlags {
	f := cmd.Flags()
	str := func(name string) string { s, _ := f.GetString(name); return s }
	flag := func(name string) bool { b, _ := f.GetBool(name); return b }
	ef := explainFlags{
		policyFile: str("policy"), config: str("config"), adapter: str("adapter"), bucket: str("bucket"),
		json: flag("json"),
		request: policy.Request{
			Origin: str("origin"),
			Method: str("method"),
			Actual: flag("actual"),
		},
	}
	if headers := str("headers"); headers != "" {
		ef.request.Headers = []string{headers}
	}
	return ef
}

func runExplain(cmd *cobra.Command, args []string) (int, error) {
	ef := readExplainFlags(cmd)
	switch {
	case len(args) > 0:
		return usageError(cmd, "unexpected argument %q: name the policy with --policy <file>", args[0])
	case ef.policyFile == "" && ef.config == "":
		return usageError(cmd, "name a policy: --policy <file>, or --config <path> with --bucket <name>")
	case ef.policyFile != "" && ef.config != "":
		return usageError(cmd, "--policy and --config each name the policy: give one")
	case ef.config != "" && ef.bucket == "":
		return usageError(cmd, "--config needs --bucket <name>: the bucket whose policy to judge by")
	case ef.config == "" && ef.bucket != "":
		return usageError(cmd, "--bucket goes with --config; a --policy document is the bucket's policy")
	case ef.config == "" && ef.adapter != "":
		return usageError(cmd, "--adapter goes with --config")
	case ef.request.Actual && ef.request.Method == "":
		return usageError(cmd, "--actual needs --method <method>: the method of the request")
	}
	if ef.config != "" {
		return explainConfig(cmd, &ef)
	}
	return explainPolicyFile(cmd, &ef)
}

// explainPolicyFile explains by the document of --policy.
func explainPolicyFile(cmd *cobra.Command, ef *explainFlags) (int, error) {
	name, data, err := readDocumentFile(cmd, ef.policyFile)
	if err != nil {
		return usageError(cmd, "--policy: %v", err)
	}
	doc, problems := decodeDocument(name, data, 0)
	if problems != nil {
		printProblems(cmd.ErrOrStderr(), name, problems)
		return exitUsage, nil
	}
	pol, err := policy.Compile(name, doc)
	if err != nil {
		printProblems(cmd.ErrOrStderr(), name, problemsOf(err))
		return exitUsage, nil
	}
	if warnings := pol.Warnings(); warnings != nil {
		printProblems(cmd.ErrOrStderr(), name, warnings.Problems)
	}
	e := policy.Explain(pol, ef.request)
	out := cmd.OutOrStdout()
	if ef.json {
		err = caddymodule.WriteJSON(out, e)
	} else {
		_, err = io.WriteString(out, e.String())
	}
	return explainStatus(e), err
}

// explainStatus is explain's exit status for an explanation: 1 for a
// request that the proxy refuses CORS to. An actual request without an
// Origin is not a CORS request, and passes as it is.
func explainStatus(e policy.Explanation) int {
	if e.Allowed || e.Request.Actual && e.Request.Origin == "" {
		return exitOK
	}
	return exitRefused
}
