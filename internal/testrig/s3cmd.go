package testrig

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// S3cmd runs Debian's s3cmd against endpoint, a plain-http loopback URL
// (http://127.0.0.1:<port>), with the credentials c, as
// `s3cmd -c <config> args...`, and returns its stdout. A failed command gives
// an error with the exit status and s3cmd's stderr, where its
// "ERROR: S3 error: 403 (Code): Message" lines go.
//
// The config file is the rig's own, in a temporary directory that is also
// HOME, so the user's ~/.s3cfg is never read: path-style requests to
// endpoint (host_base and host_bucket are its host:port), plain http,
// Signature Version 4 for c.Region (default us-east-1), no proxy, and one
// attempt per request, so that an error answer shows as it is, at once.
func S3cmd(t testing.TB, endpoint string, c Credentials, args ...string) (stdout string, err error) {
	t.Helper()
	bin := s3cmdBinary(t)
	u, perr := url.Parse(endpoint)
	if perr != nil || u.Scheme != "http" || u.Host == "" {
		t.Fatalf("testrig: S3cmd: endpoint %q is not an http:// URL", endpoint)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		t.Fatalf("testrig: S3cmd: endpoint %q is not on a loopback IP", endpoint)
	}
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	home := t.TempDir()
	config := filepath.Join(home, "s3cfg")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`[default]
access_key = %s
secret_key = %s
host_base = %s
host_bucket = %s
bucket_location = %s
use_https = False
signature_v2 = False
proxy_host =
proxy_port = 0
max_retries = 1
`, c.AccessKey, c.SecretKey, u.Host, u.Host, region)), 0o600); err != nil {
		t.Fatalf("testrig: %v", err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "HOME=" + home}
	return runCLI(t, "s3cmd", bin, home, env, append([]string{"-c", config}, args...))
}
