package bucketcors

import (
	"bytes"

	"github.com/spf13/cobra"

	"github.com/bucketcors/bucketcors/policy"
)

func convertCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "convert --to xml|aws|r2|wrangler <file>",
		Short: "Writes a policy document in another dialect",
		Long: `
Reads a CORS policy document in any dialect and writes it to stdout in
the dialect --to names:

  xml        S3's CORSConfiguration XML (the PutBucketCors API)
  aws        the AWS CLI's JSON: aws s3api put-bucket-cors
  r2         the R2 dashboard's JSON: a bare array of rules
  wrangler   wrangler's JSON: wrangler r2 bucket cors set

Every rule keeps its origins, methods, headers, exposed headers, max age
and ID, so that reading the result gives the same rules; comments and
layout are not kept. "-" reads the document from stdin.

A document that does not parse is refused with its problems, and with
what it looks like when that is not what the target tool reads. One that
S3 would refuse is not converted; its warnings go to stderr.

Exit status: 0 converted, 2 on a usage error or a document that cannot
be converted.
`,
		Example: `  $ caddy bucket-cors convert --to wrangler cors.json > wrangler-cors.json
  $ caddy bucket-cors convert --to xml cors.json`,
		Args: cobra.ArbitraryArgs,
	}
	cmd.Flags().StringP("to", "t", "", "Dialect to write: xml, aws, r2 or wrangler")
	cmd.RunE = runE(runConvert)
	return cmd
}

func runConvert(cmd *cobra.Command, args []string) (int, error) {
	to, _ := cmd.Flags().GetString("to")
	if to == "" {
		return usageError(cmd, "name the dialect to write: --to xml, aws, r2 or wrangler")
	}
	dialect, err := policy.ParseDialect(to)
	if err != nil {
		return usageError(cmd, "--to: %v", err)
	}
	if len(args) != 1 {
		return usageError(cmd, "name one policy document to convert: convert --to %s <file>", dialect.Name())
	}
	name, data, err := readDocumentFile(cmd, args[0])
	if err != nil {
		return usageError(cmd, "%s: cannot read it: %s", name, readError(err))
	}
	doc, problems := decodeDocument(name, data, dialect)
	if problems == nil {
		problems = validateDocument(name, doc)
	}
	printProblems(cmd.ErrOrStderr(), name, problems)
	if errs, _ := countProblems(problems); errs > 0 {
		return exitUsage, nil
	}
	out, err := doc.Marshal(dialect)
	if err != nil {
		return exitUsage, err
	}
	if !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	_, err = cmd.OutOrStdout().Write(out)
	return exitOK, err
}
