package integration

// Config reloads while clients keep sending requests: through the admin
// API's /load, changed or forced, and through `caddy reload`.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// TestFiftyConfigReloadsUnderTrafficFailNoRequestAndLeakNothing reloads
// Caddy 50 times while a pool of clients sends preflights and GETs. No
// request may fail or get another answer than the policy's; the metrics
// keep answering, without going back; and after the reloads Caddy runs one
// bucket_cors handler, with its goroutines and resident memory where they
// were.
func TestFiftyConfigReloadsUnderTrafficFailNoRequestAndLeakNothing(t *testing.T) {
	t.Parallel()
	const (
		static  = "reload-static" // policy in the Caddyfile
		stored  = "reload-stored" // policy in the policy store
		workers = 8
		reloads = 50
		warmup  = 5
	)
	maxAge := map[string]int{static: 300, stored: 600}
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	for _, b := range []string{static, stored} {
		m.CreateBucket(t, b)
		m.PutObject(t, b, "a.txt", []byte("object of "+b), "text/plain")
	}
	storePutObject(t, m, stored, relPolicyXML(relAppOrigin, maxAge[stored]))
	// The policy store is reached through a proxy that only passes bytes,
	// to count the connections Caddy keeps to it.
	storeProxy := relStartSlowProxy(t, hostPort(t, m.Endpoint))
	addr := testrig.FreeAddr(t)
	base := "http://" + addr
	// Two configs that differ in the cache's ttl, so that a plain /load
	// of the other one is a real change; both carry the rig's global
	// options, so that they can be posted as they are. reverse_proxy's
	// keepalive is short because Caddy puts a connection that was in use
	// when its config stopped back into that config's pool, where it stays
	// until it has been idle that long: the goroutine count below would
	// otherwise wait for MinIO's own idle timeout.
	caddyfile := func(ttl string) string {
		return relGlobalOptions + fmt.Sprintf(`http://%s {
	bucket_cors {
		%s
		policy_store s3 {
			endpoint http://%s
			bucket %s
			access_key %s
			secret_key %s
		}
		cache {
			ttl %s
		}
	}
	reverse_proxy %s {
		transport http {
			keepalive 5s
		}
	}
}
`, addr, relInlinePolicy(static, relAppOrigin, maxAge[static]), storeProxy.Addr, storePolicyBucket, m.AccessKey, m.SecretKey, ttl, hostPort(t, m.Endpoint))
	}
	configs := []string{caddyfile("1s"), caddyfile("2s")}
	c := testrig.StartCaddy(t, configs[0])
	cliConfig := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(cliConfig, []byte(configs[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	caddyBin := testrig.CaddyBinary(t)

	getURL := map[string]string{}
	for _, b := range []string{static, stored} {
		getURL[b] = presignGet(t, m, base, b, "a.txt")
	}
	client := relNewClient(workers, 30*time.Second)
	errs := newRelErrors()
	var answered [4]atomic.Int64 // granted, refused, GET 200, all
	// A reload binds a new listening socket next to the old one
	// (SO_REUSEPORT) and closes the old one; Linux resets the connections
	// still queued on it unless net.ipv4.tcp_migrate_req is 1. Such a
	// connection never reached Caddy's HTTP server: it is counted, and its
	// request sent again (a few times at most: reloads follow each other
	// closely here). Where the host migrates queued connections, none may
	// be dropped.
	migrates := relTCPMigrateReq()
	var dropped atomic.Int64
	// send sends one request, again when its connection was dropped
	// unanswered.
	send := func(method, rawURL string, header map[string]string) (relResp, error) {
		for attempt := 1; ; attempt++ {
			r, info, err := relSendTraced(client, method, rawURL, header, nil)
			if migrates || attempt == 5 || !relDroppedUnanswered(info, err) {
				return r, err
			}
			dropped.Add(1)
		}
	}
	preflightHeader := func(origin string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"}
	}
	// The clients' requests, in turn: the app's preflight of each bucket,
	// a refused origin's, the app's GET of each bucket.
	one := func(i int) {
		bucket := []string{static, stored}[i%2]
		var (
			r    relResp
			err  error
			kind string
		)
		switch i % 3 {
		case 0:
			kind = "the app's preflight of " + bucket
			if r, err = send(http.MethodOptions, base+"/"+bucket+"/a.txt", preflightHeader(relAppOrigin)); err == nil {
				if err = relCheckGranted(r, relPreflightGrant(relAppOrigin, maxAge[bucket])); err == nil {
					answered[0].Add(1)
				}
			}
		case 1:
			kind = "a refused origin's preflight of " + bucket
			if r, err = send(http.MethodOptions, base+"/"+bucket+"/a.txt", preflightHeader(relRefusedOrigin)); err == nil {
				if err = relCheckRefused(r, "PUT", false); err == nil {
					answered[1].Add(1)
				}
			}
		default:
			kind = "the app's GET of " + bucket
			if r, err = send(http.MethodGet, getURL[bucket], map[string]string{"Origin": relAppOrigin}); err == nil {
				if r.status != http.StatusOK || string(r.body) != "object of "+bucket {
					err = fmt.Errorf("%d %.200q, want 200 and the object", r.status, r.body)
				} else if err = relCheckActual(r, relActualGrant(relAppOrigin, maxAge[bucket])); err == nil {
					answered[2].Add(1)
				}
			}
		}
		answered[3].Add(1)
		if err != nil {
			errs.add(kind, err)
		}
	}
	// traffic runs the clients until the returned stop is called.
	traffic := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; ctx.Err() == nil; i++ {
					one(i)
				}
			}()
		}
		return func() { cancel(); wg.Wait() }
	}
	// reload loads config n three ways in turn: the other config through
	// /load, the same one forced through /load, and `caddy reload --force`.
	cur := 0
	reload := func(n int) {
		t.Helper()
		var err error
		switch n % 3 {
		case 0:
			cur = 1 - cur
			err = c.TryReload(t, configs[cur])
		case 1:
			err = relLoad(c.AdminURL(), configs[cur])
		default:
			if err = os.WriteFile(cliConfig, []byte(configs[cur]), 0o644); err == nil {
				err = relCaddyReload(caddyBin, cliConfig, c.AdminURL())
			}
		}
		if err != nil {
			t.Fatalf("reload %d: %v", n+1, err)
		}
	}

	// Warm up: reloads under traffic, so that the baseline holds whatever
	// a reload leaves for good (the metrics collector, pools).
	stop := traffic()
	for n := range warmup {
		reload(n)
	}
	stop()
	client.CloseIdleConnections()
	baseGoroutines := relSettledGoroutines(t, c.AdminURL())
	baseRSS := relRSSOf(t, c.Pid())
	metricsBefore := storeMetrics(t, c.AdminURL())
	before := answered[3].Load()
	logsBefore := len(c.Logs())

	stop = traffic()
	start := time.Now()
	for n := range reloads {
		reload(warmup + n)
	}
	took := time.Since(start)
	stop()
	during := answered[3].Load() - before
	errs.report(t)
	t.Logf("%d reloads in %v; %d requests answered meanwhile; %d connections dropped unanswered by the listener handover and sent again (net.ipv4.tcp_migrate_req is 1: %v)",
		reloads, took.Round(time.Millisecond), during, dropped.Load(), migrates)
	if during < reloads {
		t.Errorf("only %d requests were answered during %d reloads: the traffic did not overlap them", during, reloads)
	}
	for i, what := range []string{"granted preflights", "refused preflights", "GETs"} {
		if answered[i].Load() == 0 {
			t.Errorf("no %s answered", what)
		}
	}

	// Nothing left behind: one handler, the goroutines and the memory of
	// before the 50 reloads.
	if got := storeAdminPolicy(t, c, stored); got.Source != "policy_store" {
		t.Errorf("admin API after the reloads: %s's policy from %q, want policy_store", stored, got.Source)
	}
	// The retired handlers' clients closed their idle connections to the
	// store: what is open is the running handler's pool (at most 10, the
	// SDK's idle connections per host), and any connection a load was using
	// when its handler retired.
	storeEventually(t, 10*time.Second, "the retired handlers' connections to the policy store closed", func() (bool, string) {
		open, _, _ := storeProxy.counts()
		return open <= 10, fmt.Sprintf("%d connections to the policy store open after %d reloads", open, warmup+reloads)
	})
	client.CloseIdleConnections()
	n := relWaitGoroutines(t, c.AdminURL(), baseGoroutines, 10, 30*time.Second)
	rss := relRSSOf(t, c.Pid())
	t.Logf("Caddy after the reloads: %d goroutines (baseline %d), resident memory %s (baseline %s)", n, baseGoroutines, relMiB(rss), relMiB(baseRSS))
	if rss > baseRSS+relReloadRSSMargin {
		t.Errorf("Caddy's resident memory grew from %s to %s over %d reloads, want at most %s more", relMiB(baseRSS), relMiB(rss), reloads, relMiB(relReloadRSSMargin))
	}

	// The metrics still answer, every series there, no counter gone back.
	metricsAfter := storeMetrics(t, c.AdminURL())
	for series, v := range metricsBefore {
		after, ok := metricsAfter[series]
		if !ok {
			t.Errorf("after the reloads /metrics lacks %s", series)
		} else if strings.Contains(series, "_total") && after < v {
			t.Errorf("after the reloads %s = %v, was %v", series, after, v)
		}
	}
	for _, series := range []string{
		storeSeries("bucketcors_cache_hits_total"),
		storeSeries("bucketcors_policy_loads_total", "source=policy_store", "result=found"),
	} {
		if metricsAfter[series] <= metricsBefore[series] {
			t.Errorf("%s did not grow over the reloads: %v, then %v", series, metricsBefore[series], metricsAfter[series])
		}
	}
	logs := c.Logs()[logsBefore:]
	for _, bad := range []string{"panic", "duplicate metrics collector registration"} {
		if strings.Contains(logs, bad) {
			t.Errorf("Caddy logged %q during the reloads", bad)
		}
	}
	if lines := storeErrorLines(logs); len(lines) > 0 {
		t.Errorf("Caddy logged errors during the reloads:\n%s", strings.Join(lines, "\n"))
	}
}

// relReloadRSSMargin is how much Caddy's resident memory may grow over the
// reloads: the Go runtime returns freed memory to the system lazily.
const relReloadRSSMargin = 30 << 20

// relCaddyReload runs `caddy reload --force` of a Caddyfile against the
// admin endpoint at adminURL.
func relCaddyReload(bin, caddyfile, adminURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "reload", "--config", caddyfile, "--adapter", "caddyfile",
		"--address", strings.TrimPrefix(adminURL, "http://"), "--force")
	cmd.Dir = filepath.Dir(caddyfile)
	cmd.Env = append(os.Environ(), "HOME="+filepath.Dir(caddyfile))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("caddy reload: %v\n%s", err, out)
	}
	return nil
}

// relTCPMigrateReq says whether the host moves the connections queued on a
// closing SO_REUSEPORT listener to another one (net.ipv4.tcp_migrate_req).
func relTCPMigrateReq() bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_migrate_req")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}
