package caddymodule

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The metrics of the policy stores and their indexes, summed over every
// store in use.
var (
	propagationSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "bucketcors_policy_propagation_seconds",
		Help:    "Time from a policy change elsewhere (a change record's time, or the object's modification time for a change found by a listing) to its swap into this proxy's cache.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300, 900},
	})
	indexEntriesDesc = prometheus.NewDesc("bucketcors_index_entries",
		"Policies in the policy store indexes.", nil, nil)
	indexSyncsDesc = prometheus.NewDesc("bucketcors_index_syncs_total",
		"Rounds of the policy store indexes: polls of the change records and full listings, by result.",
		[]string{"kind", "result"}, nil)
	storeRequestsDesc = prometheus.NewDesc("bucketcors_store_requests_total",
		"Requests this proxy made to its policy stores, by operation.", []string{"op"}, nil)
)

// storeCollector reads the counters of the stores and indexes when metrics
// are gathered.
type storeCollector struct{}

func (storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{indexEntriesDesc, indexSyncsDesc, storeRequestsDesc} {
		ch <- d
	}
}

func (storeCollector) Collect(ch chan<- prometheus.Metric) {
	t := totals()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	ch <- prometheus.MustNewConstMetric(indexEntriesDesc, prometheus.GaugeValue, float64(t.IndexEntries))
	counter(indexSyncsDesc, t.Polls-t.PollErrors, "poll", "ok")
	counter(indexSyncsDesc, t.PollErrors, "poll", "error")
	counter(indexSyncsDesc, t.Listings-t.ListingErrors, "listing", "ok")
	counter(indexSyncsDesc, t.ListingErrors, "listing", "error")
	counter(storeRequestsDesc, t.StoreRequests.List, "list")
	counter(storeRequestsDesc, t.StoreRequests.Get, "get")
	counter(storeRequestsDesc, t.StoreRequests.Put, "put")
	counter(storeRequestsDesc, t.StoreRequests.Delete, "delete")
}

// observePropagation feeds propagationSeconds.
func observePropagation(d time.Duration) {
	propagationSeconds.Observe(d.Seconds())
}
