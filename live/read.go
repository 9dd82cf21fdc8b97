package live

import (
	"time"

	"github.com/labsea/metricsender/generator"
)

// The Hub's reads of the state the documents show: the readings, the
// judge's report, the injector's counts, one deployment's snapshot.

// runDoc reads the run's numbers.
func (h *Hub) runDoc(run *Run, now time.Time, final bool) runDoc {
	d := runDoc{header: head(TypeRun), NowMS: now.UnixMilli(), Uptime: secs(now.Sub(run.Start)), Ticks: h.ticks.Load(), Ended: final}
	if r := h.cfg.Readings; r != nil {
		t := r.Totals()
		d.Published, d.Dropped, d.Unroutable = t.Published, t.Dropped, t.Unroutable
		d.Connected, d.TickLag = r.BrokerConnected(), secs(r.LastTickLag())
	}
	return d
}

// judgeDoc is the judge's summary (the report's totals), taken at most
// every Every/2 for all streams (it sorts every reaction of the run); the
// final one is the report the run ended with (Ended), else taken anew.
// It takes no lock of the Hub's: the judge calls Fate with its own held.
func (h *Hub) judgeDoc(run *Run, now time.Time, final bool) judgeDoc {
	if run.Judge == nil {
		return judgeDoc{header: head(TypeJudge)}
	}
	h.judgeMu.Lock()
	defer h.judgeMu.Unlock()
	switch {
	case final && h.judgeFinal != nil:
		h.judgeLast = judgeOf(*h.judgeFinal)
	case final || h.judgeAt.IsZero() || now.Sub(h.judgeAt) >= h.cfg.Every/2:
		h.judgeLast, h.judgeAt = judgeOf(run.Judge.Summary(now, run.MaxReaction)), now
	}
	return h.judgeLast
}

// faultsDoc is the count of every kind and the recent hits.
func (h *Hub) faultsDoc(run *Run) faultsDoc {
	d := faultsDoc{header: head(TypeFaults), Counts: make(map[string]uint64, len(generator.FaultKinds)), Recent: []faultHit{}}
	for _, k := range generator.FaultKinds {
		if run.Injector != nil {
			d.Counts[string(k)] = run.Injector.Count(k)
		} else {
			d.Counts[string(k)] = 0
		}
	}
	h.mu.Lock()
	if h.recent != nil {
		d.Recent, _ = h.recent.since(0, -1)
	}
	h.mu.Unlock()
	return d
}

// deploymentDoc reads one followed deployment now, and samples its
// observed state into its series when it changed.
func (h *Hub) deploymentDoc(run *Run, name string, now time.Time) (deploymentDoc, bool) {
	ds, ok := run.Schedule.SnapshotOf(name)
	if !ok {
		return deploymentDoc{}, false // a reload removed it
	}
	d := deploymentDoc{header: head(TypeDeployment), Name: name, Paused: ds.Paused, Interval: ds.Interval.Seconds(), Seq: ds.Seq,
		Metrics: make([]metricDoc, len(ds.Metrics)), State: stateOf(ds.State.State)}
	for i, m := range ds.Metrics {
		d.Metrics[i] = metricDoc{Name: m.Name, Override: m.Override}
		if m.HasLast {
			text := m.Last.Text
			d.Metrics[i].Last = &text
		}
	}
	if run.Injector != nil {
		if f, from := run.Injector.Faults(name); f != nil {
			d.Faults, d.FaultsFrom = f.Spec, from
		}
	}
	h.mu.Lock()
	if s := h.series[name]; s != nil && (s.lastState == nil || !sameState(*s.lastState, d.State)) {
		st := d.State
		s.lastState = &st
		s.states.push(stateSample{TMS: now.UnixMilli(), stateDoc: st})
	}
	h.mu.Unlock()
	return d, true
}

func sameState(a, b stateDoc) bool {
	if a.Replicas != b.Replicas || a.Ready != b.Ready || len(a.Allocation) != len(b.Allocation) {
		return false
	}
	for k, v := range a.Allocation {
		if w, ok := b.Allocation[k]; !ok || w != v {
			return false
		}
	}
	return true
}
