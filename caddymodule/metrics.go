package caddymodule

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// The metrics of the policy caches, summed over every bucket_cors handler.
var (
	hitsDesc = prometheus.NewDesc("bucketcors_cache_hits_total",
		"Policy lookups answered from the cache.", nil, nil)
	missesDesc = prometheus.NewDesc("bucketcors_cache_misses_total",
		"Policy lookups that waited for a load.", nil, nil)
	staleDesc = prometheus.NewDesc("bucketcors_cache_stale_serves_total",
		"Policy lookups answered with a previous policy while its sources failed.", nil, nil)
	evictionsDesc = prometheus.NewDesc("bucketcors_cache_evictions_total",
		"Cached policies pushed out by the cache's size.", nil, nil)
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
	for _, d := range []*prometheus.Desc{hitsDesc, missesDesc, staleDesc, evictionsDesc, loadsDesc, entriesDesc} {
		ch <- d
	}
}

func (cacheCollector) Collect(ch chan<- prometheus.Metric) {
	t, entries := totals()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(hitsDesc, t.hits)
	counter(missesDesc, t.misses)
	counter(staleDesc, t.staleServes)
	counter(evictionsDesc, t.evictions)
	for l, n := range t.loads {
		counter(loadsDesc, n, l.source, l.result)
	}
	ch <- prometheus.MustNewConstMetric(entriesDesc, prometheus.GaugeValue, float64(entries))
}

// registerMetrics adds the collector to a config's registry. Every handler
// of a config calls it; the first registration counts, the others find it
// there already. A context without a registry (a bare caddy.Context{}, as in
// tests) has a nil *Registry, which must not reach Register as a non-nil
// Registerer.
func registerMetrics(reg *prometheus.Registry) error {
	if reg == nil {
		return nil
	}
	err := reg.Register(cacheCollector{})
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		return nil
	}
	return err
}
