package testrig

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// AWS runs the AWS CLI against endpoint (which must be a loopback URL: the
// rig sends nothing elsewhere) as `aws --endpoint-url <endpoint> args...`,
// with the credentials in the environment, and returns its stdout. A failed
// command gives an error with the exit status and the CLI's stderr (where
// its "An error occurred (Code) when calling the ... operation" lines go).
//
// The CLI runs with a HOME of its own and no config or credentials files,
// no pager, no instance metadata lookups, and one attempt per request
// (AWS_MAX_ATTEMPTS=1), so an error answer shows as it is, at once.
func AWS(t testing.TB, endpoint string, c Credentials, args ...string) (stdout string, err error) {
	t.Helper()
	bin := awsBinary(t)
	u, perr := url.Parse(endpoint)
	if perr != nil || u.Host == "" {
		t.Fatalf("testrig: AWS: endpoint %q is not a URL", endpoint)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		t.Fatalf("testrig: AWS: endpoint %q is not on loopback", endpoint)
	}
	home := t.TempDir()
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"LANG=C.UTF-8",
		"HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_ACCESS_KEY_ID=" + c.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + c.SecretKey,
		"AWS_REGION=" + region,
		"AWS_DEFAULT_REGION=" + region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_CLI_AUTO_PROMPT=off",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_RETRY_MODE=standard",
	}
	return runCLI(t, "aws", bin, home, env, append([]string{"--endpoint-url", endpoint}, args...))
}

// AWS runs the AWS CLI against the server with its root credentials; see
// the function AWS.
func (m *MinIO) AWS(t testing.TB, args ...string) (stdout string, err error) {
	t.Helper()
	return AWS(t, m.Endpoint, m.Credentials(), args...)
}
