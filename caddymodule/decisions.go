package caddymodule

import (
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bucketcors/bucketcors/edge"
	"github.com/bucketcors/bucketcors/policy"
)

// The modes of a handler.
const (
	// ModeEnforce answers preflights and rewrites the CORS headers of
	// every answer by the policy.
	ModeEnforce = "enforce"
	// ModeReportOnly judges every request by the policy, counts and logs
	// what enforcing would have done, and lets the request through
	// untouched.
	ModeReportOnly = "report_only"
)

// provisionMode checks Mode and sets up what report_only needs.
func (h *Handler) provisionMode() error {
	switch h.Mode {
	case "", ModeEnforce:
		h.reportOnly = false
	case ModeReportOnly:
		h.reportOnly = true
		h.refusals = edge.NewRefusalLog(h.now)
	default:
		return fmt.Errorf("mode %q: use %s (answer by the policy, the default) or %s (judge and count, but let every request through)",
			h.Mode, ModeEnforce, ModeReportOnly)
	}
	return nil
}

// modeName is the handler's mode as the metrics and the admin API name it.
func (h *Handler) modeName() string {
	if h.reportOnly {
		return ModeReportOnly
	}
	return ModeEnforce
}

// decision is what the handler does, or would do, with a CORS request: a
// request with an Origin.
type decision uint8

const (
	// decisionAllowed: a rule of the bucket's policy allows the request.
	decisionAllowed decision = iota
	// decisionRefused: the bucket has a policy and no rule allows the
	// request, or its policy could not be read.
	decisionRefused
	// decisionNoPolicy: the bucket has no policy.
	decisionNoPolicy
	decisionCount
)

var decisionNames = [decisionCount]string{"allowed", "refused", "no_policy"}

// decisionOf is the decision for a request that pol (nil for none) judged.
func decisionOf(pol *policy.Policy, allowed bool) decision {
	switch {
	case pol == nil:
		return decisionNoPolicy
	case allowed:
		return decisionAllowed
	default:
		return decisionRefused
	}
}

// decisions counts the decisions of every handler there has been, by mode
// (0 enforce, 1 report_only) and decision. Package-level, so the counts
// outlive the handlers of a config and never go back on a reload.
var decisions [2][decisionCount]atomic.Uint64

// count adds one decision of h's mode.
func (h *Handler) count(d decision) {
	mode := 0
	if h.reportOnly {
		mode = 1
	}
	decisions[mode][d].Add(1)
}

var decisionsDesc = prometheus.NewDesc("bucketcors_decisions_total",
	"CORS requests (requests with an Origin) by what the policy decided, or would have decided in report_only mode.",
	[]string{"mode", "decision"}, nil)

// decisionCollector reads the decision counters when metrics are gathered.
type decisionCollector struct{}

func (decisionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- decisionsDesc }

func (decisionCollector) Collect(ch chan<- prometheus.Metric) {
	for mode, name := range [2]string{ModeEnforce, ModeReportOnly} {
		for d := range decisionCount {
			ch <- prometheus.MustNewConstMetric(decisionsDesc, prometheus.CounterValue,
				float64(decisions[mode][d].Load()), name, decisionNames[d])
		}
	}
}
