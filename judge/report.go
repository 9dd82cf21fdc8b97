package judge

import (
	"fmt"
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
	// Late counts requests that took longer than the judged maximum:
	// applied late, superseded after waiting longer, or open longer.
	Late int `json:"late"`
}

// Report is what a run's operator did, in all and per (deployment, metric).
type Report struct {
	Requests     int            `json:"requests"`
	Applied      int            `json:"applied"`
	Superseded   int            `json:"superseded"`
	Open         int            `json:"open"`
	Unsolicited  int            `json:"unsolicited"`
	Oscillations int            `json:"oscillations"`
	ReactionP50  *float64       `json:"reaction_p50_seconds"`
	ReactionP99  *float64       `json:"reaction_p99_seconds"`
	ReactionMax  *float64       `json:"reaction_max_seconds"`
	MaxReaction  float64        `json:"max_reaction_seconds,omitempty"`
	Late         int            `json:"late"`
	Metrics      []MetricReport `json:"metrics"`
}

// Report sums the run up at now. With maxReaction > 0, Late counts the
// requests that took longer: applied after more than maxReaction,
// superseded after waiting longer, or open for longer. Open requests
// younger than maxReaction are reported, not late.
func (t *Tracker) Report(now time.Time, maxReaction time.Duration) Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	rep := Report{Unsolicited: t.unsolicited, Oscillations: t.oscillations, MaxReaction: maxReaction.Seconds()}
	var all []time.Duration
	keys := make([]reqKey, 0, len(t.stats))
	for k := range t.stats {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int { return strings.Compare(a.app+"\x00"+a.metric, b.app+"\x00"+b.metric) })
	limit := maxReaction.Seconds()
	for _, k := range keys {
		s := t.stats[k]
		m := MetricReport{App: k.app, Metric: k.metric, Requests: s.requests, Applied: s.applied, Superseded: s.superseded}
		m.ReactionP50, m.ReactionP99, m.ReactionMax = quantiles(s.reactions)
		if r := t.open[k]; r != nil {
			m.Open, m.OpenFor = 1, round3(max(now.Sub(r.at), 0).Seconds())
		}
		if limit > 0 {
			for _, v := range s.reactions {
				if v.Seconds() > limit {
					m.Late++
				}
			}
			for _, v := range s.supersededAfter {
				if v.Seconds() > limit {
					m.Late++
				}
			}
			if m.Open > 0 && m.OpenFor > limit {
				m.Late++
			}
		}
		all = append(all, s.reactions...)
		rep.Requests += m.Requests
		rep.Applied += m.Applied
		rep.Superseded += m.Superseded
		rep.Open += m.Open
		rep.Late += m.Late
		rep.Metrics = append(rep.Metrics, m)
	}
	rep.ReactionP50, rep.ReactionP99, rep.ReactionMax = quantiles(all)
	return rep
}

// Line is the report's one summary line:
// requests=N applied=A superseded=S open=O reaction_p50=… reaction_p99=… reaction_max=… oscillations=K
// (seconds with 3 decimals, "-" without an applied request).
func (r Report) Line() string {
	return fmt.Sprintf("requests=%d applied=%d superseded=%d open=%d reaction_p50=%s reaction_p99=%s reaction_max=%s oscillations=%d",
		r.Requests, r.Applied, r.Superseded, r.Open, seconds(r.ReactionP50), seconds(r.ReactionP99), seconds(r.ReactionMax), r.Oscillations)
}
