package judge

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
)

// MetricReport is the fate of one (deployment, metric)'s requests.
type MetricReport struct {
	App         string   `json:"app"`
	Metric      string   `json:"metric"`
	Requests    int      `json:"requests"`
	Applied     int      `json:"applied"`
	Superseded  int      `json:"superseded"`
	Open        int      `json:"open"`
	OpenFor     float64  `json:"open_for_seconds,omitempty"` // how long the open one has waited
	ReactionP50 *float64 `json:"reaction_p50_seconds"`
	ReactionP99 *float64 `json:"reaction_p99_seconds"`
	ReactionMax *float64 `json:"reaction_max_seconds"`
	// Late counts requests that took too long against the judged
	// maximum D: applied after more than D, superseded after waiting D or
	// more, or still open after waiting D or more.
	Late int `json:"late"`
}

// Report is what a run's operator did, in all and per (deployment, metric).
type Report struct {
	Requests    int `json:"requests"`
	Applied     int `json:"applied"`
	Superseded  int `json:"superseded"`
	Open        int `json:"open"`
	Unsolicited int `json:"unsolicited"`
	// Oscillations counts turns of the observed replicas that did not
	// obey the requests (see the package doc).
	Oscillations int            `json:"oscillations"`
	ReactionP50  *float64       `json:"reaction_p50_seconds"`
	ReactionP99  *float64       `json:"reaction_p99_seconds"`
	ReactionMax  *float64       `json:"reaction_max_seconds"`
	MaxReaction  float64        `json:"max_reaction_seconds,omitempty"`
	Late         int            `json:"late"`
	Metrics      []MetricReport `json:"metrics"`
	// HPA is the real autoscaler's reactions, apart from the requests
	// above; nil when the run judges none (no Autoscaler).
	HPA *HPAReport `json:"hpa,omitempty"`
}

// HPAReport is what the real HPA did with the replica counts its own
// rules called for (Autoscaler), in all and per deployment, counted and
// judged as the requests are.
type HPAReport struct {
	Requests    int      `json:"requests"`
	Applied     int      `json:"applied"`
	Superseded  int      `json:"superseded"`
	Open        int      `json:"open"`
	ReactionP50 *float64 `json:"reaction_p50_seconds"`
	ReactionP99 *float64 `json:"reaction_p99_seconds"`
	ReactionMax *float64 `json:"reaction_max_seconds"`
	Late        int      `json:"late"`
	// Apps has one entry per deployment with an HPA request, metric
	// "replicas", sorted by app.
	Apps []MetricReport `json:"apps"`
	// Unjudged are the deployments an HPA scales that the judge does not
	// follow (app "*": the HPAs could not be read), sorted by app.
	Unjudged []UnjudgedApp `json:"unjudged"`
}

// UnjudgedApp is a deployment whose HPA is not judged, and why.
type UnjudgedApp struct {
	App    string `json:"app"`
	Reason string `json:"reason"`
}

// Report sums the run up at now. With maxReaction D > 0, Late counts the
// requests that took too long: applied after more than D, superseded
// after waiting D or more, or still open at now after waiting D or more.
// An open request younger than D is reported, not late. The verdict
// compares durations; only the report's seconds are rounded, for
// printing.
func (t *Tracker) Report(now time.Time, maxReaction time.Duration) Report {
	return t.report(now, maxReaction, true)
}

// Summary is Report(now, maxReaction) without its per-metric and per-app
// lists (Metrics and HPA.Apps are nil): the summary line's numbers,
// without a quantile per (deployment, metric) nor sorting them, for a
// caller that takes it every second (the live page). Its Line is
// Report's at the same now. Safe for concurrent use.
func (t *Tracker) Summary(now time.Time, maxReaction time.Duration) Report {
	return t.report(now, maxReaction, false)
}

// report is Report, or with detail false Summary: the totals are the
// same sums either way.
func (t *Tracker) report(now time.Time, maxReaction time.Duration, detail bool) Report {
	var unjudged map[string]string
	if t.cfg.Autoscaler != nil {
		unjudged = t.cfg.Autoscaler.Unjudged() // outside t.mu, as Calls
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	rep := Report{Unsolicited: t.unsolicited, Oscillations: t.oscillations, MaxReaction: maxReaction.Seconds()}
	var all, hpaAll []time.Duration
	var hpa HPAReport
	keys := slices.Collect(maps.Keys(t.stats))
	if detail {
		slices.SortFunc(keys, func(a, b reqKey) int { return strings.Compare(a.app+"\x00"+a.metric, b.app+"\x00"+b.metric) })
	}
	for _, k := range keys {
		s := t.stats[k]
		m := MetricReport{App: k.app, Metric: k.metric, Requests: s.requests, Applied: s.applied, Superseded: s.superseded}
		if detail {
			m.ReactionP50, m.ReactionP99, m.ReactionMax = quantiles(s.reactions)
		}
		var openFor time.Duration
		if r := t.open[k]; r != nil {
			openFor = max(now.Sub(r.at), 0)
			m.Open, m.OpenFor = 1, round3(openFor.Seconds())
		}
		if maxReaction > 0 {
			m.Late = lateCount(s, m.Open > 0, openFor, maxReaction)
		}
		if k.hpa {
			hpaAll = append(hpaAll, s.reactions...)
			hpa.Requests += m.Requests
			hpa.Applied += m.Applied
			hpa.Superseded += m.Superseded
			hpa.Open += m.Open
			hpa.Late += m.Late
			if detail {
				hpa.Apps = append(hpa.Apps, m)
			}
			continue
		}
		all = append(all, s.reactions...)
		rep.Requests += m.Requests
		rep.Applied += m.Applied
		rep.Superseded += m.Superseded
		rep.Open += m.Open
		rep.Late += m.Late
		if detail {
			rep.Metrics = append(rep.Metrics, m)
		}
	}
	rep.ReactionP50, rep.ReactionP99, rep.ReactionMax = quantiles(all)
	if t.cfg.Autoscaler != nil {
		hpa.ReactionP50, hpa.ReactionP99, hpa.ReactionMax = quantiles(hpaAll)
		if detail && hpa.Apps == nil {
			hpa.Apps = []MetricReport{}
		}
		hpa.Unjudged = []UnjudgedApp{}
		for _, app := range slices.Sorted(maps.Keys(unjudged)) {
			hpa.Unjudged = append(hpa.Unjudged, UnjudgedApp{App: app, Reason: unjudged[app]})
		}
		rep.HPA = &hpa
	}
	return rep
}

// lateCount is how many of one (deployment, metric)'s requests were late
// against d: applied after more than d (an answer at exactly d is in
// time), superseded or still open after waiting d or more (a request that
// has waited d unanswered has had its time).
func lateCount(s *reqStats, open bool, openFor, d time.Duration) int {
	n := 0
	for _, v := range s.reactions {
		if v > d {
			n++
		}
	}
	for _, v := range s.supersededAfter {
		if v >= d {
			n++
		}
	}
	if open && openFor >= d {
		n++
	}
	return n
}

// Line is the report's one summary line:
// requests=N applied=A superseded=S open=O reaction_p50=… reaction_p99=… reaction_max=… oscillations=K
// (seconds with 3 decimals, "-" without an applied request), and with an
// HPA report
// hpa_requests=N hpa_applied=A hpa_superseded=S hpa_open=O hpa_reaction_p50=… hpa_reaction_p99=… hpa_reaction_max=… hpa_late=L hpa_unjudged=U
// after it (U: the entries of HPA.Unjudged).
func (r Report) Line() string {
	line := fmt.Sprintf("requests=%d applied=%d superseded=%d open=%d reaction_p50=%s reaction_p99=%s reaction_max=%s oscillations=%d",
		r.Requests, r.Applied, r.Superseded, r.Open, seconds(r.ReactionP50), seconds(r.ReactionP99), seconds(r.ReactionMax), r.Oscillations)
	if h := r.HPA; h != nil {
		line += fmt.Sprintf(" hpa_requests=%d hpa_applied=%d hpa_superseded=%d hpa_open=%d hpa_reaction_p50=%s hpa_reaction_p99=%s hpa_reaction_max=%s hpa_late=%d hpa_unjudged=%d",
			h.Requests, h.Applied, h.Superseded, h.Open, seconds(h.ReactionP50), seconds(h.ReactionP99), seconds(h.ReactionMax), h.Late, len(h.Unjudged))
	}
	return line
}

// AllLate is how many requests were late, the HPA's included.
func (r Report) AllLate() int {
	if r.HPA != nil {
		return r.Late + r.HPA.Late
	}
	return r.Late
}

// WriteFile writes r as indented JSON (the --report file), ending in a
// newline.
func (r Report) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err == nil {
		err = os.WriteFile(path, append(b, '\n'), 0o644)
	}
	return err
}
