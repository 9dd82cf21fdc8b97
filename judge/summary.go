package judge

import (
	"maps"
	"slices"
	"time"
)

// Summary is Report(now, maxReaction) without its per-metric and per-app
// lists (Metrics and HPA.Apps are nil): the summary line's numbers,
// without a quantile per (deployment, metric) nor sorting them, for a
// caller that takes it every second (the live page). Its Line is
// Report's at the same now. Safe for concurrent use.
func (t *Tracker) Summary(now time.Time, maxReaction time.Duration) Report {
	var unjudged map[string]string
	if t.cfg.Autoscaler != nil {
		unjudged = t.cfg.Autoscaler.Unjudged() // outside t.mu, as Report
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	rep := Report{Unsolicited: t.unsolicited, Oscillations: t.oscillations, MaxReaction: maxReaction.Seconds()}
	var hpa HPAReport
	var all, hpaAll []time.Duration
	for k, s := range t.stats {
		open := 0
		var openFor time.Duration
		if r := t.open[k]; r != nil {
			open, openFor = 1, max(now.Sub(r.at), 0)
		}
		late := 0
		if maxReaction > 0 {
			late = lateCount(s, open > 0, openFor, maxReaction)
		}
		if k.hpa {
			hpa.Requests, hpa.Applied, hpa.Superseded = hpa.Requests+s.requests, hpa.Applied+s.applied, hpa.Superseded+s.superseded
			hpa.Open, hpa.Late = hpa.Open+open, hpa.Late+late
			hpaAll = append(hpaAll, s.reactions...)
			continue
		}
		rep.Requests, rep.Applied, rep.Superseded = rep.Requests+s.requests, rep.Applied+s.applied, rep.Superseded+s.superseded
		rep.Open, rep.Late = rep.Open+open, rep.Late+late
		all = append(all, s.reactions...)
	}
	rep.ReactionP50, rep.ReactionP99, rep.ReactionMax = quantiles(all)
	if t.cfg.Autoscaler != nil {
		hpa.ReactionP50, hpa.ReactionP99, hpa.ReactionMax = quantiles(hpaAll)
		hpa.Unjudged = []UnjudgedApp{}
		for _, app := range slices.Sorted(maps.Keys(unjudged)) {
			hpa.Unjudged = append(hpa.Unjudged, UnjudgedApp{App: app, Reason: unjudged[app]})
		}
		rep.HPA = &hpa
	}
	return rep
}
