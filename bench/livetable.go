package main

import (
	"fmt"
	"strings"
)

// addLive: the live page's cost. Each side of the send row's CLI run
// against nobody on the page (target for the browser: within 5%), then
// what the page's stream sends per tick at 10,000 deployments.
func (t *table) addLive(r liveResult) {
	what := "live page: CLI `send --count 100`, confirms on, following " + liveFollowed + ", against nobody on the page"
	ratioRow := func(side string, s series, note string) {
		rs := ratios(s, r.none)
		m := median(rs)
		ours := strings.TrimSpace(fmtRate(s.medianRate()) + " " + note)
		t.rows = append(t.rows, fmt.Sprintf("| %s: %s | >= 0.95x | %s | %s (nobody) | **%.3fx** (%s) | %s |",
			what, side, ours, fmtRate(r.none.medianRate()), m, fmtRatios(rs), verdict(m >= 0.95)))
	}
	ratioRow("its event stream read by a plain HTTP client (the sender's own cost)", r.stream, "")
	if r.browser != nil {
		t.rows = append(t.rows, fmt.Sprintf("| %s: a headless Chromium on the page | >= 0.95x | not measured: no browser (%v) | - | - | - |", what, r.browser))
	} else {
		var cpu []float64
		for _, c := range r.chromiumCPU {
			cpu = append(cpu, c.Seconds())
		}
		ratioRow("a headless Chromium on the page (same 2 cores)", r.with, fmt.Sprintf("(Chromium's CPU during the run: median %.2f s)", median(cpu)))
		t.cpuRow("live: CLI send, Chromium on the page", r.with)
	}
	t.cpuRow("live: CLI send, stream read by a plain client", r.stream)
	t.cpuRow("live: CLI send, nobody on the page", r.none)
	perDeployment := (r.perTick16 - r.perTick) / 15
	t.rows = append(t.rows, fmt.Sprintf("| live page at %d deployments, 1 s ticks: bytes per tick of its event stream | bounded by the selection, not the deployments | %.0f B/tick following 1, %.0f B/tick following 16 (the most; about %.0f B per followed deployment), over %d ticks; the page itself %d B once | - | - | %s |",
		liveDeployments, r.perTick, r.perTick16, perDeployment, r.streamTicks, r.pageBytes, verdict(r.perTick16 < 64<<10)))
}
