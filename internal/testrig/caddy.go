package testrig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// How long Caddy may take to answer on its admin endpoint and site
// addresses, and to stop on SIGTERM before it is killed.
const (
	caddyReadyTimeout = 30 * time.Second
	caddyStopGrace    = 5 * time.Second
)

// AdminClient is the client for Caddy's admin endpoint, which the rig uses
// and tests should use too. It opens a connection per request: Caddy starts a new admin server on every load and
// shuts the old one down in the background, closing its idle connections,
// so a kept-alive connection can be closed just as the next request goes
// out on it. Go resends only a GET after that; a POST fails with EOF.
var AdminClient = adminClient(time.Minute)

// adminTransport carries every request to the admin endpoint.
var adminTransport = &http.Transport{DisableKeepAlives: true}

// adminClient returns a client for the admin endpoint with its own timeout.
func adminClient(timeout time.Duration) *http.Client {
	return &http.Client{Transport: adminTransport, Timeout: timeout}
}

// Caddy is a running `caddy run` with a Caddyfile.
//
// Its admin endpoint is on a loopback port that the rig picks, given to Caddy
// through the CADDY_ADMIN environment variable, so the Caddyfile needs no
// `admin` option and must not set one (Reload goes through the admin
// endpoint). The rig also adds two global options to the Caddyfile, in its
// own global options block when it starts with one, or in a block put in
// front of it:
//
//	default_bind 127.0.0.1  # sites listen on loopback only
//	skip_install_trust      # never touch the system's trust store
//
// each unless the Caddyfile already names it. Site addresses should be
// http:// ones with a port from FreePort: http://127.0.0.1:<port> serves
// requests for that Host only, http://:<port> any Host (such as the browser's
// *.test names). An https site would make Caddy issue certificates and
// listen on :80 too. Every address Caddy listens on must be a loopback one,
// or the test fails.
//
// HOME and the XDG directories point into Dir, so Caddy's storage and
// autosaved config stay there. Caddy gets the test's environment otherwise,
// so {$VAR} and {env.VAR} in the Caddyfile can be set with t.Setenv.
type Caddy struct {
	// Dir holds the Caddyfile, HOME and Caddy's storage; tests can put
	// files there (policy files, say).
	Dir string

	adminAddr string
	logs      logBuffer
	proc      *process
}

// CaddyOption changes how StartCaddy runs Caddy.
type CaddyOption func(*caddyOptions)

type caddyOptions struct {
	workDir string
	env     []string
}

// WorkingDir runs Caddy in dir, as a `caddy run` started there: relative
// paths of the Caddyfile (a file_server's root, a policy_file) are taken
// from dir. The Caddyfile, HOME and Caddy's storage stay in Caddy.Dir.
func WorkingDir(dir string) CaddyOption {
	return func(o *caddyOptions) { o.workDir = dir }
}

// CaddyEnv adds variables ("NAME=value") to Caddy's environment, after the
// test's own, so they win: HTTPS_PROXY for a ConnectProxy, SSL_CERT_FILE
// for a CA that Caddy's Go clients (a policy_origin) are to trust. Unlike
// t.Setenv, it leaves the test free to run in parallel.
func CaddyEnv(kv ...string) CaddyOption {
	return func(o *caddyOptions) { o.env = append(o.env, kv...) }
}

// StartCaddy writes caddyfile into a temporary directory, runs
// `caddy run --config <file> --adapter caddyfile` (in that directory, unless
// WorkingDir says otherwise), and waits until the admin endpoint answers and
// every address the config listens on accepts connections. Caddy stops when
// the test ends; its log is shown when the test fails. Line numbers in
// Caddy's log are those of the Caddyfile with the global options added (see
// Caddy); Validate and Adapt run the Caddyfile as it is.
func StartCaddy(t testing.TB, caddyfile string, opts ...CaddyOption) *Caddy {
	t.Helper()
	if adminOption.MatchString(caddyfile) {
		t.Fatalf("testrig: the Caddyfile sets the admin option; leave it out, the rig sets the admin address")
	}
	bin := CaddyBinary(t)
	c := &Caddy{Dir: t.TempDir()}
	o := caddyOptions{workDir: c.Dir}
	for _, opt := range opts {
		opt(&o)
	}
	file := filepath.Join(c.Dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(prepareCaddyfile(caddyfile)), 0o644); err != nil {
		t.Fatalf("testrig: %v", err)
	}
	t.Cleanup(func() {
		if c.proc == nil {
			return
		}
		if c.proc.exited() {
			t.Errorf("testrig: Caddy (admin %s) exited during the test: %v", c.adminAddr, c.proc.waitErr)
		}
		c.proc.stop(caddyStopGrace)
		if t.Failed() {
			t.Logf("Caddy (admin %s) log:\n%s", c.adminAddr, c.logs.String())
		}
	})
	// The admin port can be taken between FreePort and Caddy's bind by
	// another test binary's FreePort; try another then. The site ports are
	// the test's and cannot be changed here.
	for attempt := 1; ; attempt++ {
		c.adminAddr = pickAddr(t)
		env := append(caddyEnv(c.Dir), o.env...)
		env = append(env, "CADDY_ADMIN="+c.adminAddr)
		args := []string{"run", "--config", file, "--adapter", "caddyfile"}
		p, err := startProcess("Caddy", &c.logs, bin, args, env, o.workDir)
		if err != nil {
			t.Fatalf("testrig: %v", err)
		}
		err = p.waitFor(caddyReadyTimeout, c.adminReady)
		if err == nil {
			c.proc = p
			break
		}
		p.stop(caddyStopGrace)
		if attempt < 3 && errors.Is(err, errExited) && strings.Contains(c.logs.String(), c.adminAddr+": bind: address already in use") {
			continue
		}
		t.Fatalf("testrig: starting Caddy: %v\n%s", err, c.logs.String())
	}
	if err := c.waitListeners(); err != nil {
		t.Fatalf("testrig: starting Caddy: %v\n%s", err, c.logs.String())
	}
	return c
}

// AdminURL returns the base URL of the admin endpoint, http://127.0.0.1:<port>.
func (c *Caddy) AdminURL() string { return "http://" + c.adminAddr }

// Pid returns the process ID of the running Caddy, for tests that watch its
// resources (/proc/<pid>/status).
func (c *Caddy) Pid() int { return c.proc.cmd.Process.Pid }

// Logs returns what Caddy has written to stdout and stderr so far: its JSON
// log lines.
func (c *Caddy) Logs() string { return c.logs.String() }

// Reload loads a new Caddyfile through the admin endpoint (POST /load,
// text/caddyfile), with the same global options added as StartCaddy, and
// waits for the new config's addresses. A refused config fails the test.
func (c *Caddy) Reload(t testing.TB, caddyfile string) {
	t.Helper()
	if err := c.TryReload(t, caddyfile); err != nil {
		t.Fatalf("testrig: reloading Caddy: %v", err)
	}
}

// TryReload is Reload for a config that may be refused: it returns Caddy's
// error, and Caddy keeps running the config it had.
func (c *Caddy) TryReload(t testing.TB, caddyfile string) error {
	t.Helper()
	if adminOption.MatchString(caddyfile) {
		t.Fatalf("testrig: the Caddyfile sets the admin option; leave it out, the rig sets the admin address")
	}
	req, err := http.NewRequest(http.MethodPost, c.AdminURL()+"/load", strings.NewReader(prepareCaddyfile(caddyfile)))
	if err != nil {
		t.Fatalf("testrig: %v", err)
	}
	req.Header.Set("Content-Type", "text/caddyfile")
	resp, err := adminClient(caddyReadyTimeout).Do(req)
	if err != nil {
		t.Fatalf("testrig: POST %s/load: %v\n%s", c.AdminURL(), err, c.logs.String())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /load: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if err := c.waitListeners(); err != nil {
		t.Fatalf("testrig: after reloading Caddy: %v\n%s", err, c.logs.String())
	}
	return nil
}

// adminReady reports whether the admin endpoint serves the config.
func (c *Caddy) adminReady() bool {
	resp, err := adminClient(2 * time.Second).Get(c.AdminURL() + "/config/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitListeners reads the addresses of the HTTP servers from the running
// config and waits until each accepts connections. It fails on an address
// that is not loopback.
func (c *Caddy) waitListeners() error {
	// The whole config, as a path into it answers 400 when there is no
	// http app.
	resp, err := adminClient(5 * time.Second).Get(c.AdminURL() + "/config/")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /config/: %s", resp.Status)
	}
	var config struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Listen []string `json:"listen"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&config); err != nil {
		return fmt.Errorf("GET /config/: %w", err)
	}
	servers := config.Apps.HTTP.Servers
	var addrs []string
	for name, s := range servers {
		for _, l := range s.Listen {
			a, err := dialAddrs(l)
			if err != nil {
				return fmt.Errorf("server %s: %w", name, err)
			}
			addrs = append(addrs, a...)
		}
	}
	for _, a := range addrs {
		err := c.proc.waitFor(caddyReadyTimeout, func() bool {
			conn, err := net.DialTimeout("tcp", a, time.Second)
			if err != nil {
				return false
			}
			conn.Close()
			return true
		})
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", a, err)
		}
	}
	return nil
}

// dialAddrs turns a listen address of Caddy's JSON config ("127.0.0.1:8080",
// "tcp/[::1]:80", "127.0.0.1:8000-8003") into addresses to dial. It skips
// other networks (unix, udp) and refuses a host that is not loopback.
func dialAddrs(listen string) ([]string, error) {
	network, addr := "tcp", listen
	if i := strings.Index(listen, "/"); i >= 0 {
		network, addr = listen[:i], listen[i+1:]
	}
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return nil, nil
	}
	host, ports, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("listen address %q is not loopback: use http://127.0.0.1:<port> sites and "+
			"leave default_bind to the rig, or bind 127.0.0.1", listen)
	}
	lo, hi, _ := strings.Cut(ports, "-")
	first, err := strconv.Atoi(lo)
	last := first
	if err == nil && hi != "" {
		last, err = strconv.Atoi(hi)
	}
	if err != nil {
		return nil, fmt.Errorf("listen address %q: bad port", listen)
	}
	var out []string
	for p := first; p <= last; p++ {
		out = append(out, net.JoinHostPort(host, strconv.Itoa(p)))
	}
	return out, nil
}

// adminOption finds a global `admin` option, which would move the admin
// endpoint away from the address the rig waits on.
var adminOption = regexp.MustCompile(`(?m)^\s*admin(\s|$)`)

// prepareCaddyfile adds the rig's global options (see Caddy) to caddyfile.
func prepareCaddyfile(caddyfile string) string {
	var opts []string
	for _, o := range []string{"default_bind 127.0.0.1", "skip_install_trust"} {
		name, _, _ := strings.Cut(o, " ")
		if !strings.Contains(caddyfile, name) {
			opts = append(opts, "\t"+o+"\n")
		}
	}
	if len(opts) == 0 {
		return caddyfile
	}
	// Caddy's global options block is a first block that opens with a lone
	// "{" line; comments and blank lines may come before it.
	offset := 0
	for _, line := range strings.SplitAfter(caddyfile, "\n") {
		offset += len(line)
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if trimmed == "{" && strings.HasSuffix(line, "\n") {
			return caddyfile[:offset] + strings.Join(opts, "") + caddyfile[offset:]
		}
		break
	}
	return "{\n" + strings.Join(opts, "") + "}\n\n" + caddyfile
}

// caddyEnv is the environment of a Caddy command run in dir: the test's,
// with HOME and the XDG directories in dir.
func caddyEnv(dir string) []string {
	env := withoutPrefix(os.Environ(), "CADDY_ADMIN=")
	return append(env,
		"HOME="+dir,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
	)
}

// caddyCmdTimeout bounds `caddy validate` and `caddy adapt`.
const caddyCmdTimeout = time.Minute

// Validate runs `caddy validate --adapter caddyfile` on caddyfile, written
// as it is to a file named Caddyfile, and returns Caddy's output (stdout and
// stderr) and the error of a failed run.
func Validate(t testing.TB, caddyfile string) (output string, err error) {
	t.Helper()
	stdout, stderr, err := runCaddyCmd(t, "validate", caddyfile)
	return stdout + stderr, err
}

// Adapt runs `caddy adapt --adapter caddyfile` on caddyfile, written as it is
// to a file named Caddyfile, and returns the JSON config (stdout), Caddy's
// warnings and errors (stderr), and the error of a failed run.
func Adapt(t testing.TB, caddyfile string) (jsonConfig, output string, err error) {
	t.Helper()
	return runCaddyCmd(t, "adapt", caddyfile)
}

func runCaddyCmd(t testing.TB, sub, caddyfile string) (stdout, stderr string, err error) {
	t.Helper()
	bin := CaddyBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(caddyfile), 0o644); err != nil {
		t.Fatalf("testrig: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), caddyCmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, sub, "--config", file, "--adapter", "caddyfile")
	cmd.Dir = dir
	cmd.Env = caddyEnv(dir)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("testrig: caddy %s did not finish in %v\n%s", sub, caddyCmdTimeout, errOut.String())
	}
	return out.String(), errOut.String(), err
}
