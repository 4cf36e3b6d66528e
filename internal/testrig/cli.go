package testrig

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// cliTimeout bounds one command of a client program (the AWS CLI alone
// needs about a second to start).
const cliTimeout = time.Minute

// runCLI runs bin (called name in messages) with args in the folder home,
// with env as its whole environment, and returns its stdout. A failed
// command gives an error with the exit status and the program's stderr,
// where the clients write S3's error codes; one that does not finish within
// cliTimeout fails the test.
func runCLI(t testing.TB, name, bin, home string, env, args []string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Dir = home
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			t.Fatalf("testrig: %s %s did not finish in %v\n%s", name, strings.Join(args, " "), cliTimeout, errOut.String())
		}
		return out.String(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}
