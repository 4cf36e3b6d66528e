package testrig

import (
	"errors"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// installHint is what a person runs to get every program the tests need.
const installHint = "run ./scripts/test.sh, which installs it"

// missing skips the test, or fails it when BUCKETCORS_REQUIRE_INTEGRATION=1,
// because a program it needs is not there.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("BUCKETCORS_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf("testrig: %s (BUCKETCORS_REQUIRE_INTEGRATION=1)", msg)
	}
	t.Skipf("testrig: %s", msg)
}

// findProgram returns the program named by the environment variable env, or
// else the first executable of candidates (absolute paths, or names looked up
// in PATH). It skips or fails the test when there is none.
func findProgram(t testing.TB, what, env string, candidates ...string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if !isExecutable(p) {
			missing(t, "%s: %s=%s is not an executable file; %s", what, env, p, installHint)
		}
		return p
	}
	for _, c := range candidates {
		if !filepath.IsAbs(c) {
			if p, err := exec.LookPath(c); err == nil {
				return p
			}
			continue
		}
		if isExecutable(c) {
			return c
		}
	}
	missing(t, "%s not found: set %s, or %s (looked in %s)", what, env, installHint, strings.Join(candidates, ", "))
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// toolsDir is where ./scripts/test.sh installs programs.
func toolsDir() string {
	if d := os.Getenv("BUCKETCORS_TOOLS"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "bucketcors", "bin")
	}
	return ""
}

func minioBinary(t testing.TB) string {
	t.Helper()
	var candidates []string
	if d := toolsDir(); d != "" {
		candidates = append(candidates, filepath.Join(d, "minio"))
	}
	if build.Default.GOPATH != "" {
		candidates = append(candidates, filepath.Join(build.Default.GOPATH, "bin", "minio"))
	}
	return findProgram(t, "MinIO", "BUCKETCORS_MINIO", append(candidates, "minio")...)
}

func chromiumBinary(t testing.TB) string {
	t.Helper()
	return findProgram(t, "Chromium", "BUCKETCORS_CHROMIUM",
		"/usr/bin/chromium", "chromium", "chromium-browser")
}

func awsBinary(t testing.TB) string {
	t.Helper()
	// Debian's awscli first: another aws earlier in PATH (pyenv's, say) may be
	// a different major version.
	return findProgram(t, "AWS CLI", "BUCKETCORS_AWS", "/usr/bin/aws", "aws")
}

// CaddyBinary returns the Caddy to run: $BUCKETCORS_CADDY, or else a Caddy
// built from this checkout's ./cmd/caddy (Caddy's standard modules and
// bucketcors), built once per test binary. A checkout that does not build
// fails the test with the compiler's output.
func CaddyBinary(t testing.TB) string {
	t.Helper()
	if os.Getenv("BUCKETCORS_CADDY") != "" {
		return findProgram(t, "Caddy", "BUCKETCORS_CADDY")
	}
	devCaddy.once.Do(buildDevCaddy)
	switch {
	case devCaddy.noGo != "":
		missing(t, "Caddy: BUCKETCORS_CADDY is unset and %s; %s", devCaddy.noGo, installHint)
	case devCaddy.err != nil:
		t.Fatalf("testrig: BUCKETCORS_CADDY is unset, and building ./cmd/caddy failed: %v", devCaddy.err)
	}
	return devCaddy.path
}

var devCaddy struct {
	once sync.Once
	path string
	noGo string // why there is no go command to build with
	err  error
}

// buildDevCaddy builds ./cmd/caddy into the user's cache directory. One
// fixed path keeps the disk use bounded and lets go build skip the link when
// the binary is up to date; a file lock keeps test binaries of several
// packages, run at once, from writing it together.
func buildDevCaddy() {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		if !isExecutable(goBin) {
			devCaddy.noGo = "no go command to build ./cmd/caddy with"
			return
		}
	}
	out, err := exec.Command(goBin, "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		devCaddy.err = fmt.Errorf("finding the module root with go env GOMOD: %v %s", err, out)
		return
	}
	root := filepath.Dir(gomod)
	cache, err := os.UserCacheDir()
	if err != nil {
		devCaddy.err = err
		return
	}
	dir := filepath.Join(cache, "bucketcors", "dev")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		devCaddy.err = err
		return
	}
	lock, err := os.OpenFile(filepath.Join(dir, "caddy.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		devCaddy.err = err
		return
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		devCaddy.err = fmt.Errorf("locking %s: %w", lock.Name(), err)
		return
	}
	path := filepath.Join(dir, "caddy")
	cmd := exec.Command(goBin, "build", "-o", path, "./cmd/caddy")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("go build -o %s ./cmd/caddy (in %s): %v\n%s", path, root, err, out)
		}
		devCaddy.err = err
		return
	}
	devCaddy.path = path
}

func s3cmdBinary(t testing.TB) string {
	t.Helper()
	return findProgram(t, "s3cmd", "BUCKETCORS_S3CMD", "/usr/bin/s3cmd", "s3cmd")
}

// jsBundlePath is where ./scripts/test.sh writes the bundle, from the
// module root.
const jsBundlePath = ".build/jsclient/sdk.js"

// JSBundle returns the path of the AWS SDK for JavaScript and Uppy bundled
// for the browser (integration/jsclient, built with npm ci and esbuild by
// ./scripts/test.sh): $BUCKETCORS_JS_BUNDLE, or else .build/jsclient/sdk.js
// in this checkout. A missing bundle skips the test, or fails it when
// BUCKETCORS_REQUIRE_INTEGRATION=1.
func JSBundle(t testing.TB) string {
	t.Helper()
	path := os.Getenv("BUCKETCORS_JS_BUNDLE")
	if path == "" {
		root, err := moduleRoot()
		if err != nil {
			missing(t, "the AWS SDK for JavaScript bundle: BUCKETCORS_JS_BUNDLE is unset and %v; %s", err, installHint)
			return ""
		}
		path = filepath.Join(root, jsBundlePath)
	}
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		missing(t, "the AWS SDK for JavaScript bundle %s is missing (BUCKETCORS_JS_BUNDLE); %s", path, installHint)
	}
	return path
}

// moduleRoot returns the directory of the go.mod above the working
// directory (go test runs each package in its own directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
