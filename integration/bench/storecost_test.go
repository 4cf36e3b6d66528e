//go:build loadharness

package bench

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

var (
	flagStorePolicies = flag.String("store-policies", "1000,10000,100000", "TestStoreCost: comma-separated numbers of stored policies, measured in turn (the store grows from one to the next)")
	flagStoreActive   = flag.Int("store-active", 1000, "TestStoreCost: buckets in use, the same at every size")
	flagStoreWindow   = flag.Duration("store-window", time.Minute, "TestStoreCost: how long the store requests are counted at each size")
	flagStorePoll     = flag.Duration("store-poll", 2*time.Second, "TestStoreCost: the policy store's poll")
	flagStoreResync   = flag.Duration("store-resync", 10*time.Minute, "TestStoreCost: the policy store's resync")
	flagStoreTTL      = flag.Duration("store-ttl", 10*time.Second, "TestStoreCost: the cache ttl; shorter than the window, so that every bucket in use is refreshed in it")
	flagStoreNoIndex  = flag.Bool("store-noindex", true, "TestStoreCost: also measure `poll off` (a GET per bucket in use per ttl) at the largest size, for comparison")
)

// storeCostRow is what one size of the store cost a proxy.
type storeCostRow struct {
	policies     int
	mode         string         // "poll 2s, resync 10m" or "poll off"
	firstListing map[string]int // requests from the start until the index was ready
	window       map[string]int // requests in the window, by kind
	total        int            // requests in the window
	preflights   int64          // preflights sent in the window, all granted
	rss          int64          // Caddy's resident memory after the window, bytes
}

// perMinute is the window's requests scaled to one minute.
func (r storeCostRow) perMinute() float64 {
	return float64(r.total) * float64(time.Minute) / float64(*flagStoreWindow)
}

// resyncPerMinute is what a resync's listing costs, spread over the resync
// period: the pages of the first listing over the resync in minutes.
func (r storeCostRow) resyncPerMinute() float64 {
	if r.mode == "poll off" {
		return 0
	}
	return float64(r.firstListing[testrig.KindList]) / (*flagStoreResync).Minutes()
}

// TestStoreCost measures the policy store requests one proxy makes per
// minute while browsers use a fixed set of buckets, at several numbers of
// stored policies: with the index, the cost is the polls (and a resync's
// pages, spread over the resync period), whatever the number of policies.
// It writes store-cost.md into -out. Run it with:
//
//	go test -tags loadharness -run TestStoreCost -v -timeout 60m ./integration/bench
func TestStoreCost(t *testing.T) {
	var sizes []int
	for s := range strings.SplitSeq(*flagStorePolicies, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < *flagStoreActive {
			t.Fatalf("-store-policies %q: want numbers of at least -store-active %d", *flagStorePolicies, *flagStoreActive)
		}
		sizes = append(sizes, n)
	}
	if !slices.IsSorted(sizes) {
		t.Fatalf("-store-policies %q: want increasing numbers (the store grows from one to the next)", *flagStorePolicies)
	}
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storeBucket)
	body := []byte(typicalPolicyXML)
	var rows []storeCostRow
	written := 0
	for _, n := range sizes {
		began := time.Now()
		m.PutObjects(t, storeBucket, n-written, func(i int) (string, []byte) { return costBucket(written+i) + ".xml", body })
		t.Logf("the store holds %d policies (%d written in %v)", n, n-written, time.Since(began).Round(time.Second))
		written = n
		mode := fmt.Sprintf("poll %v\n\t\t\tresync %v", *flagStorePoll, *flagStoreResync)
		t.Run(strconv.Itoa(n), func(t *testing.T) { rows = append(rows, measureStoreCost(t, m, n, mode)) })
	}
	if *flagStoreNoIndex {
		n := sizes[len(sizes)-1]
		t.Run(strconv.Itoa(n)+"-poll-off", func(t *testing.T) { rows = append(rows, measureStoreCost(t, m, n, "poll off")) })
	}
	rep := storeCostReport(rows)
	t.Log("\n" + rep)
	out, err := filepath.Abs(*flagOut)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(out, "store-cost.md"), rep)
	t.Logf("wrote %s", filepath.Join(out, "store-cost.md"))
}

// costBucket is the name of the i-th bucket with a stored policy; the
// first -store-active are the ones in use.
func costBucket(i int) string { return fmt.Sprintf("b%06d", i) }

// measureStoreCost starts a Caddy whose policy store (with the given poll
// and resync lines) is read through a counter, waits for its index, sends
// one preflight of each bucket in use, then a steady stream of them for the
// window, and counts the store requests of the window.
func measureStoreCost(t *testing.T, m *testrig.MinIO, policies int, mode string) storeCostRow {
	counter := testrig.StartStoreCounter(t, m.Endpoint)
	addr := testrig.FreeAddr(t)
	started := time.Now()
	c := testrig.StartCaddy(t, fmt.Sprintf(`http://%s {
	bucket_cors {
		policy_store s3 {
			endpoint   %s
			bucket     %s
			access_key %s
			secret_key %s
			%s
		}
		cache {
			ttl %v
		}
	}
	respond 204
}
`, addr, counter.URL, storeBucket, m.AccessKey, m.SecretKey, mode, *flagStoreTTL))
	row := storeCostRow{policies: policies, mode: strings.Join(strings.Fields(mode), " ")}
	row.mode = strings.Replace(row.mode, " resync", ", resync", 1)
	if mode != "poll off" {
		waitIndexReady(t, c, policies, started)
	}
	row.firstListing = testrig.CountKinds(counter.Since(0))

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)
	base := "http://" + addr + "/"
	var failed atomic.Int64
	send := func(i int) {
		if _, ok, err := sendPreflight(client, base+costBucket(i)+"/"+smallObject); !ok || err != nil {
			if failed.Add(1) <= 3 {
				t.Errorf("preflight of %s: not granted (%v)", costBucket(i), err)
			}
		}
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < *flagStoreActive; i += 8 {
				send(i)
			}
		})
	}
	wg.Wait()
	time.Sleep(2 * time.Second) // the warming loads settle

	// A steady stream: every bucket in use is asked for about every 12 s,
	// past its ttl, so each is refreshed several times in the window.
	mark := counter.Mark()
	end := time.Now().Add(*flagStoreWindow)
	for i := 0; time.Now().Before(end); i++ {
		send(i % *flagStoreActive)
		row.preflights++
		time.Sleep(10 * time.Millisecond)
	}
	seen := counter.Since(mark)
	row.window = testrig.CountKinds(seen)
	row.total = len(seen)
	row.rss = residentBytes(c.Pid())
	t.Logf("%d policies, %s: first listing %v; in %v with %d preflights over %d buckets: %d store requests %v; Caddy RSS %.1f MiB",
		policies, row.mode, row.firstListing, *flagStoreWindow, row.preflights, *flagStoreActive, row.total, row.window, float64(row.rss)/(1<<20))
	return row
}

// waitIndexReady waits until Caddy's GET /bucket_cors/index shows a ready
// index of policies entries, synced after since.
func waitIndexReady(t *testing.T, c *testrig.Caddy, policies int, since time.Time) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := testrig.AdminClient.Get(c.AdminURL() + "/bucket_cors/index")
		if err == nil {
			var idx []struct {
				Ready    bool   `json:"ready"`
				Entries  int    `json:"entries"`
				LastSync string `json:"last_sync"`
			}
			err = json.NewDecoder(resp.Body).Decode(&idx)
			resp.Body.Close()
			if err == nil && len(idx) == 1 {
				synced, _ := time.Parse(time.RFC3339Nano, idx[0].LastSync)
				if idx[0].Ready && idx[0].Entries == policies && synced.After(since) {
					return
				}
			}
			last = fmt.Sprintf("%+v %v", idx, err)
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the index did not show %d ready entries within 5 minutes; last: %s", policies, last)
}

// residentBytes is a process's VmRSS, or 0.
func residentBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// storeCostReport is a markdown table of the rows with a bar of the
// requests per minute.
func storeCostReport(rows []storeCostRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Store requests of one proxy, %d buckets in use, cache ttl %v, counted over %v:\n\n",
		*flagStoreActive, *flagStoreTTL, *flagStoreWindow)
	b.WriteString("| stored policies | mode | first listing (pages) | requests a minute (list, get, other) | resync pages/min | Caddy RSS | |\n")
	b.WriteString("| ---: | --- | ---: | ---: | ---: | ---: | --- |\n")
	top := 0.0
	for _, r := range rows {
		top = max(top, r.perMinute())
	}
	for _, r := range rows {
		bar := ""
		if top > 0 {
			bar = strings.Repeat("█", max(1, int(r.perMinute()/top*40+0.5)))
		}
		other := r.total - r.window[testrig.KindList] - r.window[testrig.KindGet]
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f (%d, %d, %d) | %.1f | %.0f MiB | `%s` |\n",
			thousands(float64(r.policies)), r.mode, r.firstListing[testrig.KindList], r.perMinute(),
			r.window[testrig.KindList], r.window[testrig.KindGet], other, r.resyncPerMinute(), float64(r.rss)/(1<<20), bar)
	}
	return b.String()
}
