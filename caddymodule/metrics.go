package caddymodule

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// The metrics of the policy caches, summed over every cache in use.
var (
	hitsDesc = prometheus.NewDesc("bucketcors_cache_hits_total",
		"Policy lookups answered from the cache.", nil, nil)
	missesDesc = prometheus.NewDesc("bucketcors_cache_misses_total",
		"Policy lookups of a bucket with no cached entry.", nil, nil)
	staleDesc = prometheus.NewDesc("bucketcors_cache_stale_serves_total",
		"Policy lookups answered with a previous policy while its sources failed.", nil, nil)
	errorServesDesc = prometheus.NewDesc("bucketcors_cache_error_serves_total",
		"Policy lookups answered at once with a remembered failure of the sources.", nil, nil)
	evictionsDesc = prometheus.NewDesc("bucketcors_cache_evictions_total",
		"Cached policies pushed out by the cache's size.", nil, nil)
	loadWaitsDesc = prometheus.NewDesc("bucketcors_load_waits_total",
		"Requests that waited for a policy load: their bucket had no cached entry.", nil, nil)
	refreshesDesc = prometheus.NewDesc("bucketcors_cache_refreshes_total",
		"Background re-reads of a cached policy past its TTL, by result.", []string{"result"}, nil)
	inFlightDesc = prometheus.NewDesc("bucketcors_loads_in_flight",
		"Policy loads in progress.", nil, nil)
	rejectedDesc = prometheus.NewDesc("bucketcors_loads_rejected_total",
		"Loads not started because max_loads were in flight.", nil, nil)
	loadsDesc = prometheus.NewDesc("bucketcors_policy_loads_total",
		"Reads of a bucket's policy from its sources, by the source that answered and the result.",
		[]string{"source", "result"}, nil)
	entriesDesc = prometheus.NewDesc("bucketcors_cache_entries",
		"Buckets whose policy, or lack of one, is cached.", nil, nil)
)

// cacheCollector reads the counters of the caches when metrics are
// gathered, so the request path pays for nothing but the caches' own
// atomic counters.
type cacheCollector struct{}

func (cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{hitsDesc, missesDesc, staleDesc, errorServesDesc, evictionsDesc,
		loadWaitsDesc, refreshesDesc, inFlightDesc, rejectedDesc, loadsDesc, entriesDesc} {
		ch <- d
	}
}

func (cacheCollector) Collect(ch chan<- prometheus.Metric) {
	t := totals()
	c := &t.Cache
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter(hitsDesc, c.Hits)
	counter(missesDesc, c.Misses)
	counter(staleDesc, c.StaleServes)
	counter(errorServesDesc, c.ErrorServes)
	counter(evictionsDesc, c.Evictions)
	counter(loadWaitsDesc, c.LoadWaits)
	counter(refreshesDesc, c.Refreshes.OK, "ok")
	counter(refreshesDesc, c.Refreshes.Error, "error")
	counter(refreshesDesc, c.Refreshes.Rejected, "rejected")
	counter(rejectedDesc, c.LoadsRejected)
	for _, l := range c.Loads {
		counter(loadsDesc, l.Count, l.Source, l.Result)
	}
	gauge(inFlightDesc, c.LoadsInFlight)
	gauge(entriesDesc, t.CacheEntries)
}

// registerMetrics adds the collectors to a config's registry. Every handler
// of a config calls it; the first registration counts, the others find them
// there already. A context without a registry (a bare caddy.Context{}, as in
// tests) has a nil *Registry, which must not reach Register as a non-nil
// Registerer.
func registerMetrics(reg *prometheus.Registry) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{cacheCollector{}, decisionCollector{}, storeCollector{}, propagationSeconds} {
		err := reg.Register(c)
		var already prometheus.AlreadyRegisteredError
		if err != nil && !errors.As(err, &already) {
			return err
		}
	}
	return nil
}
