package caddymodule

import (
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/bucketcors/bucketcors/lookup"
)

// gatherMetrics collects bucketcors' metrics through a registry of their
// own (a pedantic one, which also checks that what is collected matches
// what is described) and returns them as "name{label=value,...}" -> value.
func gatherMetrics(t *testing.T) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := registerMetrics(reg); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := make(map[string]float64)
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			sort.Strings(labels)
			key := mf.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			out[key] = metricValue(mf.GetType(), m)
		}
	}
	return out
}

// withoutPropagation drops the propagation histogram, which every test that
// swaps a changed policy in feeds, from the metrics gathered.
func withoutPropagation(m map[string]float64) map[string]float64 {
	delete(m, "bucketcors_policy_propagation_seconds")
	return m
}

func metricValue(typ dto.MetricType, m *dto.Metric) float64 {
	if typ == dto.MetricType_COUNTER {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// isolateMetrics starts the test with no counters: it needs every other
// test's handlers retired, and sets the retired handlers' totals and the
// decision counts aside until the test ends.
func isolateMetrics(t *testing.T) {
	t.Helper()
	handlers.Lock()
	defer handlers.Unlock()
	if n := len(handlers.live); n != 0 {
		t.Fatalf("%d handlers of other tests are still live", n)
	}
	saved := handlers.retired
	handlers.retired = lookup.Counters{}
	var savedDecisions [2][decisionCount]uint64
	for mode := range decisions {
		for d := range decisions[mode] {
			savedDecisions[mode][d] = decisions[mode][d].Swap(0)
		}
	}
	t.Cleanup(func() {
		handlers.Lock()
		defer handlers.Unlock()
		handlers.retired = saved
		for mode := range decisions {
			for d := range decisions[mode] {
				decisions[mode][d].Add(savedDecisions[mode][d])
			}
		}
	})
}

// lookUp runs one preflight for bucket: one policy lookup.
func lookUp(t *testing.T, h *Handler, bucket string) {
	t.Helper()
	req := newRequest(t, http.MethodOptions, "http://proxy.example/"+bucket+"/key",
		"Origin", appOrigin, "Access-Control-Request-Method", "GET")
	if _, err := serveRecorded(h, req, mustNotRun(t)); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsCountCacheLookups: after a known sequence of lookups the
// counters say exactly how many were hits, misses and stale serves, and
// which source answered each load; a retired handler's counts are kept.
func TestMetricsCountCacheLookups(t *testing.T) {
	isolateMetrics(t)
	clock := newFakeClock()
	dir := t.TempDir()
	writeFile(t, dir, "assets.json", allowing(appOrigin))
	h := handlerAt(t, clock, `bucket_cors {
	policy static {
		rule {
			origins *
			methods GET
		}
	}
	policy_dir `+dir+`
	cache {
		ttl 30s
	}
}`)

	lookUp(t, h, "assets")  // miss, waits for the load: policy_dir has it
	lookUp(t, h, "assets")  // hit
	lookUp(t, h, "assets")  // hit
	lookUp(t, h, "nothing") // miss, waits: no source has it
	lookUp(t, h, "nothing") // hit (negative entry)
	lookUp(t, h, "static")  // the configuration's own: no cache lookup
	writeFile(t, dir, "assets.json", "not a policy")
	clock.Advance(dirTTL * 12 / 10)
	lookUp(t, h, "assets") // hit past its TTL: served at once, refreshed in the background
	settle(t, h)           // the refresh fails: the previous policy is kept
	lookUp(t, h, "assets") // stale serve

	want := map[string]float64{
		"bucketcors_cache_hits_total":                                       4,
		"bucketcors_cache_misses_total":                                     2,
		"bucketcors_cache_stale_serves_total":                               1,
		"bucketcors_cache_error_serves_total":                               0,
		"bucketcors_cache_evictions_total":                                  0,
		"bucketcors_load_waits_total":                                       2,
		`bucketcors_cache_refreshes_total{result="ok"}`:                     0,
		`bucketcors_cache_refreshes_total{result="error"}`:                  0,
		`bucketcors_cache_refreshes_total{result="rejected"}`:               1,
		"bucketcors_loads_in_flight":                                        0,
		"bucketcors_loads_rejected_total":                                   0,
		`bucketcors_policy_loads_total{result="found",source="policy_dir"}`: 1,
		`bucketcors_policy_loads_total{result="error",source="policy_dir"}`: 1,
		`bucketcors_policy_loads_total{result="not_found",source="none"}`:   1,
		"bucketcors_cache_entries":                                          2,
		// Every lookup was a preflight from the app.
		`bucketcors_decisions_total{decision="allowed",mode="enforce"}`:       6,
		`bucketcors_decisions_total{decision="refused",mode="enforce"}`:       0,
		`bucketcors_decisions_total{decision="no_policy",mode="enforce"}`:     2,
		`bucketcors_decisions_total{decision="allowed",mode="report_only"}`:   0,
		`bucketcors_decisions_total{decision="refused",mode="report_only"}`:   0,
		`bucketcors_decisions_total{decision="no_policy",mode="report_only"}`: 0,
		// No policy store here.
		"bucketcors_index_entries":                                    0,
		`bucketcors_index_syncs_total{kind="poll",result="ok"}`:       0,
		`bucketcors_index_syncs_total{kind="poll",result="error"}`:    0,
		`bucketcors_index_syncs_total{kind="listing",result="ok"}`:    0,
		`bucketcors_index_syncs_total{kind="listing",result="error"}`: 0,
		`bucketcors_store_requests_total{op="list"}`:                  0,
		`bucketcors_store_requests_total{op="get"}`:                   0,
		`bucketcors_store_requests_total{op="put"}`:                   0,
		`bucketcors_store_requests_total{op="delete"}`:                0,
	}
	if got := gatherMetrics(t); !reflect.DeepEqual(withoutPropagation(got), want) {
		t.Errorf("metrics:\n got: %v\nwant: %v", got, want)
	}

	// A reload retires the handler: its entries go, its counts stay.
	if err := h.Cleanup(); err != nil {
		t.Fatal(err)
	}
	want["bucketcors_cache_entries"] = 0
	if got := gatherMetrics(t); !reflect.DeepEqual(withoutPropagation(got), want) {
		t.Errorf("metrics after the handler retired:\n got: %v\nwant: %v", got, want)
	}
}

// TestMetricsCountEvictions: a cache of one entry evicts the older bucket.
func TestMetricsCountEvictions(t *testing.T) {
	isolateMetrics(t)
	clock := newFakeClock()
	dir := t.TempDir()
	h := handlerAt(t, clock, `bucket_cors {
	policy_dir `+dir+`
	cache {
		size 1
	}
}`)
	lookUp(t, h, "first")
	lookUp(t, h, "second")
	got := gatherMetrics(t)
	if got["bucketcors_cache_evictions_total"] != 1 || got["bucketcors_cache_entries"] != 1 {
		t.Errorf("evictions = %v, entries = %v; want 1 and 1", got["bucketcors_cache_evictions_total"], got["bucketcors_cache_entries"])
	}
}

// TestMetricsRegisterAgainOnReload: every handler of a config registers
// the collector on the config's registry, and a reload does it again on a
// new registry while the old config still runs; none of that is an error,
// and each registry can be gathered.
func TestMetricsRegisterAgainOnReload(t *testing.T) {
	dir := t.TempDir()
	newDirHandler := func() *Handler { return &Handler{PolicyDir: dir} }

	oldCtx, cancelOld := newTestContext()
	defer cancelOld()
	first, second := newDirHandler(), newDirHandler()
	for _, h := range []*Handler{first, second} {
		if err := h.Provision(oldCtx); err != nil {
			t.Fatalf("Provision on the config's registry: %v", err)
		}
		defer h.Cleanup()
	}
	if err := registerMetrics(oldCtx.GetMetricsRegistry()); err != nil {
		t.Errorf("registering once more: %v", err)
	}

	newCtx, cancelNew := newTestContext()
	defer cancelNew()
	reloaded := newDirHandler()
	if err := reloaded.Provision(newCtx); err != nil {
		t.Fatalf("Provision on the reloaded config's registry: %v", err)
	}
	defer reloaded.Cleanup()

	for name, reg := range map[string]*prometheus.Registry{"old": oldCtx.GetMetricsRegistry(), "new": newCtx.GetMetricsRegistry()} {
		families, err := reg.Gather()
		if err != nil {
			t.Errorf("gathering the %s registry: %v", name, err)
		}
		found := false
		for _, mf := range families {
			found = found || mf.GetName() == "bucketcors_cache_entries"
		}
		if !found {
			t.Errorf("the %s registry has no bucketcors metrics", name)
		}
	}
}

// TestProvisionWithoutMetricsRegistry: a bare caddy.Context, as Caddy's own
// module tests use, has no metrics registry; provisioning a cache must not
// panic on it.
func TestProvisionWithoutMetricsRegistry(t *testing.T) {
	h := &Handler{PolicyDir: t.TempDir()}
	if err := h.Provision(caddy.Context{}); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	h.Cleanup()
}
