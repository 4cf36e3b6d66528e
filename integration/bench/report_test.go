//go:build loadharness

package bench

import (
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report is what the harness writes.
type report struct {
	markdown, svg string
}

// caseSummary is a case's figures over the rounds.
type caseSummary struct {
	c                             *benchCase
	rps, rpsMin, rpsMax           float64
	p50, p99                      float64 // medians, µs
	clientCPU, caddyCPU, minioCPU float64 // medians
	cpuPerRequest                 float64 // median, µs
	socketErrors                  int64
	rounds                        []wrkResult
}

// ratioSpec is one ratio the issue asks for; goal 0 means none is set.
type ratioSpec struct {
	num, den, what string
	goal           float64
}

var ratioSpecs = []ratioSpec{
	{"1a", "2", "preflight allowed by bucket_cors ÷ Caddy's respond 204", 0.90},
	{"1b", "2", "preflight refused by bucket_cors ÷ Caddy's respond 204", 0.90},
	{"1c", "2", "cold-cache preflight (policy_store) ÷ respond 204", 0},
	{"1d", "2", "cold-cache preflight (policy_dir) ÷ respond 204", 0},
	{"1a", "3", "preflight allowed by bucket_cors ÷ the hand-written snippet", 1.00},
	{"1a", "4", "preflight allowed by bucket_cors ÷ MinIO answering its own", 0},
	{"4", "2", "MinIO answering its own preflight ÷ respond 204 (for scale)", 0},
	{"5a", "5b", "GET 4 KiB: bucket_cors + reverse_proxy ÷ reverse_proxy alone", 0.97},
	{"5c", "5d", "GET 1 MiB: bucket_cors + reverse_proxy ÷ reverse_proxy alone", 0.97},
}

func summarize(c *benchCase, runs []wrkResult) caseSummary {
	s := caseSummary{c: c, rounds: runs}
	pick := func(f func(*wrkResult) float64) []float64 {
		out := make([]float64, len(runs))
		for i := range runs {
			out[i] = f(&runs[i])
		}
		return out
	}
	rps := pick(func(r *wrkResult) float64 { return r.rps })
	s.rps, s.rpsMin, s.rpsMax = median(rps), slices.Min(rps), slices.Max(rps)
	s.p50 = median(pick(func(r *wrkResult) float64 { return r.p50 }))
	s.p99 = median(pick(func(r *wrkResult) float64 { return r.p99 }))
	s.clientCPU = median(pick(func(r *wrkResult) float64 { return r.clientCPU }))
	s.caddyCPU = median(pick(func(r *wrkResult) float64 { return r.caddyCPU }))
	s.minioCPU = median(pick(func(r *wrkResult) float64 { return r.minioCPU }))
	s.cpuPerRequest = median(pick(func(r *wrkResult) float64 { return r.cpuPerRequest }))
	for i := range runs {
		s.socketErrors += runs[i].socketErrors()
	}
	return s
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// buildReport renders the Markdown table, the ratios and the chart.
func buildReport(cases []*benchCase, results map[string][]wrkResult, info machine, cold *burstReport, memory string) report {
	var sums []caseSummary
	byID := map[string]*caseSummary{}
	for _, c := range cases {
		sums = append(sums, summarize(c, results[c.name]))
	}
	// The report lists cases in their fixed order, not the order selected.
	slices.SortStableFunc(sums, func(a, b caseSummary) int { return strings.Compare(a.c.id, b.c.id) })
	for i := range sums {
		byID[sums[i].c.id] = &sums[i]
	}

	var b strings.Builder
	b.WriteString("# bucketcors load harness: results\n\n")
	b.WriteString("<!-- Written by integration/bench (go test -tags loadharness -run TestLoadHarness); each run overwrites it. -->\n\n")
	fmt.Fprintf(&b, "**Machine:** %d CPUs (%s), %s, %s; Caddy %s; %s; %s.  \n",
		info.cpus, orUnknown(info.cpuModel), orUnknown(info.kernel), info.goV, orUnknown(info.caddy), orUnknown(info.minio), orUnknown(info.wrk))
	warmup := "no warm-up"
	if *flagWarmup > 0 {
		warmup = "an unmeasured " + roundedDuration(*flagWarmup) + " run of each case first"
	}
	fmt.Fprintf(&b, "**Load:** wrk -t%d -c%d, %s a run, %s, every case once a round in a new random order (seed %d), %s. "+
		"%s. Load average (1 min) %s before, %s after. Started %s.\n\n",
		*flagThreads, *flagConnections, roundedDuration(*flagDuration), plural(*flagRounds, "round"), info.seed, warmup,
		info.pinning, orUnknown(info.loadBefore), orUnknown(info.loadAfter), info.started.Format("2006-01-02 15:04 UTC"))
	if info.affinity != "" {
		fmt.Fprintf(&b, "Pinning checked after the runs: %s.\n\n", info.affinity)
	}

	b.WriteString("| # | case | requests/s, median [min–max] | p50 | p99 | CPU: wrk / Caddy / MinIO | server CPU per request | socket errors |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range sums {
		fmt.Fprintf(&b, "| %s | %s | %s [%s–%s] | %s | %s | %.0f%% / %.0f%% / %.0f%% | %.1f µs | %d |\n",
			s.c.id, s.c.title, thousands(s.rps), thousands(s.rpsMin), thousands(s.rpsMax),
			fmtLatency(s.p50), fmtLatency(s.p99), 100*s.clientCPU, 100*s.caddyCPU, 100*s.minioCPU, s.cpuPerRequest, s.socketErrors)
	}
	b.WriteString("\nCPU is the share of one CPU each program used during the run (median over the rounds); " +
		"a server near its CPUs' limit and wrk below its own means the server was what was measured. " +
		"Server CPU per request is the CPU time of the servers that answer the case (Caddy, MinIO, or both for " +
		"(1c) and (5)) over the requests answered: other work on the machine moves it much less than requests/s.\n\n")
	// respond 204 keeps Caddy busy on nothing but requests: if it could
	// not fill its CPUs, something else on the machine had them.
	if ceiling := byID["2"]; ceiling != nil && info.serverProcs > 0 && ceiling.caddyCPU < 0.8*float64(info.serverProcs) {
		fmt.Fprintf(&b, "**Caution:** during (2) Caddy used %.0f%% of the %s it was pinned to: other work on the machine "+
			"took the rest, so these figures are noisy. Run again on a quiet machine.\n\n",
			100*ceiling.caddyCPU/float64(info.serverProcs), plural(info.serverProcs, "CPU"))
	}

	b.WriteString("## Ratios\n\n")
	b.WriteString("Median requests/s of one case over the other's; in brackets, the lowest and highest of the ratios taken round by round. " +
		"The last column is the same ratio of requests per second of server CPU (the inverse ratio of server CPU per request), " +
		"a cross-check that holds better on a busy machine.\n\n")
	b.WriteString("| ratio | what | requests/s [per round] | goal | by server CPU [per round] |\n")
	b.WriteString("| --- | --- | ---: | --- | ---: |\n")
	for _, r := range ratioSpecs {
		num, den := byID[r.num], byID[r.den]
		if num == nil || den == nil || den.rps == 0 {
			continue
		}
		value := num.rps / den.rps
		var per, perCPU []float64
		for i := range min(len(num.rounds), len(den.rounds)) {
			per = append(per, num.rounds[i].rps/den.rounds[i].rps)
			perCPU = append(perCPU, den.rounds[i].cpuPerRequest/num.rounds[i].cpuPerRequest)
		}
		goal := "—"
		if r.goal > 0 {
			verdict := "met"
			if value < r.goal {
				verdict = "**not met**"
			}
			goal = fmt.Sprintf("≥ %.2f: %s", r.goal, verdict)
		}
		fmt.Fprintf(&b, "| (%s)/(%s) | %s | %.2f [%.2f–%.2f] | %s | %.2f [%.2f–%.2f] |\n",
			r.num, r.den, r.what, value, slices.Min(per), slices.Max(per), goal,
			den.cpuPerRequest/num.cpuPerRequest, slices.Min(perCPU), slices.Max(perCPU))
	}

	if cold != nil {
		b.WriteString("\n## A cold bucket\n\n")
		fmt.Fprintf(&b, "%d preflights sent at once for a bucket whose policy (in the policy store) no request had named: "+
			"`bucketcors_policy_loads_total` went up by %.0f, %.0f of the requests waited for that load "+
			"(`bucketcors_cache_misses_total`), the rest found it cached; %d of %d were granted.\n",
			cold.n, cold.loads, cold.waiting, cold.allowed, cold.n)
	}
	if memory != "" {
		b.WriteString("\n## Memory\n\n")
		fmt.Fprintf(&b, "caddymodule's TestCacheBytesPerPolicy (runtime.MemStats after GC, the handler's cache filled with "+
			"a typical policy compiled for each bucket): %s.\n", memory)
	}
	b.WriteString("\n![requests per second by case](results.svg)\n")
	return report{markdown: b.String(), svg: renderSVG(sums, info)}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func roundedDuration(d time.Duration) string {
	return strconv.Itoa(int((d+time.Second-1)/time.Second)) + " s"
}

// fmtLatency renders µs as µs or ms.
func fmtLatency(us float64) string {
	if us < 1000 {
		return fmt.Sprintf("%.0f µs", us)
	}
	return fmt.Sprintf("%.2f ms", us/1000)
}

// thousands renders a whole number with thin spaces between thousands.
func thousands(x float64) string {
	s := strconv.FormatInt(int64(x+0.5), 10)
	var out []string
	for len(s) > 3 {
		out = append([]string{s[len(s)-3:]}, out...)
		s = s[:len(s)-3]
	}
	return strings.Join(append([]string{s}, out...), "\u2009")
}

// The chart's layout, in pixels.
const (
	svgWidth   = 960
	svgLabelW  = 330
	svgBarMax  = 400
	svgRowH    = 26
	svgBarH    = 16
	svgHeaderH = 28
	svgMargin  = 16
)

// renderSVG draws a horizontal bar of the median requests/s of each case,
// with the min–max over the rounds as a whisker. Each group has its own
// scale: a 1 MiB GET and a preflight differ by orders of magnitude.
func renderSVG(sums []caseSummary, info machine) string {
	var groups []string
	byGroup := map[string][]caseSummary{}
	for _, s := range sums {
		if _, ok := byGroup[s.c.group]; !ok {
			groups = append(groups, s.c.group)
		}
		byGroup[s.c.group] = append(byGroup[s.c.group], s)
	}
	height := svgMargin*2 + 34 + 40
	for _, g := range groups {
		height += svgHeaderH + len(byGroup[g])*svgRowH + 8
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", svgWidth, height)
	y := svgMargin + 14
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="15" font-weight="bold">bucketcors: requests per second, median of %s of %s</text>`+"\n",
		svgMargin, y, plural(*flagRounds, "round"), roundedDuration(*flagDuration))
	y += 18
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555555">%s</text>`+"\n", svgMargin, y,
		html.EscapeString(fmt.Sprintf("%d CPUs (%s), %s, Caddy %s, wrk -t%d -c%d; %s",
			info.cpus, orUnknown(info.cpuModel), info.goV, orUnknown(info.caddy), *flagThreads, *flagConnections, info.pinning)))
	y += 10
	for _, g := range groups {
		list := byGroup[g]
		scale := 0.0
		for _, s := range list {
			scale = max(scale, s.rpsMax, s.rps)
		}
		y += svgHeaderH
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", svgMargin, y-8, html.EscapeString(g))
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#cccccc"/>`+"\n", svgLabelW, y-4, svgLabelW, y+len(list)*svgRowH-6)
		for _, s := range list {
			w := func(v float64) float64 {
				if scale == 0 {
					return 0
				}
				return v / scale * svgBarMax
			}
			fill := "#2f6fb3"
			if s.c.baseline {
				fill = "#9aa5b1"
			}
			mid := float64(y) + svgBarH/2
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n",
				svgLabelW-8, mid, html.EscapeString("("+s.c.id+") "+s.c.title))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", svgLabelW, y, w(s.rps), svgBarH, fill)
			x1, x2 := float64(svgLabelW)+w(s.rpsMin), float64(svgLabelW)+w(s.rpsMax)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#222222"/>`+"\n", x1, mid, x2, mid)
			for _, x := range []float64{x1, x2} {
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#222222"/>`+"\n", x, mid-4, x, mid+4)
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" dominant-baseline="middle">%s</text>`+"\n",
				float64(svgLabelW)+max(w(s.rps), w(s.rpsMax))+8, mid, html.EscapeString(thousands(s.rps)+" req/s, p99 "+fmtLatency(s.p99)))
			y += svgRowH
		}
		y += 8
	}
	y += 14
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="#2f6fb3"/><text x="%d" y="%d">through bucket_cors</text>`+"\n",
		svgMargin, y-10, svgMargin+18, y)
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="#9aa5b1"/><text x="%d" y="%d">baselines</text>`+"\n",
		svgMargin+160, y-10, svgMargin+178, y)
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555555">whiskers: lowest and highest round; each group has its own scale</text>`+"\n",
		svgMargin+270, y)
	b.WriteString("</svg>\n")
	return b.String()
}
