package judge

import "time"

// Summary is Report(now, 0) without the per-metric list: the summary
// line's numbers (Metrics nil, Late 0), without sorting every
// (deployment, metric), for a caller that takes it every second (the
// live page). Its Line is Report's. Safe for concurrent use.
func (t *Tracker) Summary() Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	rep := Report{Unsolicited: t.unsolicited, Oscillations: t.oscillations}
	n := 0
	for _, s := range t.stats {
		n += len(s.reactions)
	}
	all := make([]time.Duration, 0, n)
	for k, s := range t.stats {
		rep.Requests += s.requests
		rep.Applied += s.applied
		rep.Superseded += s.superseded
		if t.open[k] != nil {
			rep.Open++
		}
		all = append(all, s.reactions...)
	}
	rep.ReactionP50, rep.ReactionP99, rep.ReactionMax = quantiles(all)
	return rep
}
