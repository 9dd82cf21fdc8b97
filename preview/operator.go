package preview

import (
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/policy"
)

// operator is `preview --operator`: the stand-in operator's policy
// on the virtual clock. It reads each message as sent (after faults), and
// what it decides is observed by the app spec.Delay later, from the app's
// first tick after that: the loop the real operator closes, in a preview.
type operator struct {
	spec    policy.Spec
	sched   *generator.Schedule
	start   time.Time
	pending []pendingDecision // in due order: one delay for all
}

type pendingDecision struct {
	due time.Duration
	app string
	d   policy.Decision
}

func newOperator(spec policy.Spec, sched *generator.Schedule, start time.Time) *operator {
	return &operator{spec: spec, sched: sched, start: start}
}

// replicas is app's observed replicas, as its current tick saw them.
func (o *operator) replicas(app string) float64 {
	st, err := o.sched.Observed(app)
	if err != nil {
		return 0
	}
	return st.Replicas
}

// decide runs the policy on one message sent at elapsed time at.
func (o *operator) decide(at time.Duration, ev generator.Event) {
	st, err := o.sched.Observed(ev.App)
	if err != nil {
		return
	}
	req := policy.RequestOf(ev)
	req.At = o.start.Add(at)
	if d := o.spec.Policy.Decide(req, st.Replicas); !d.Empty() {
		o.pending = append(o.pending, pendingDecision{due: at + o.spec.Delay, app: ev.App, d: d})
	}
}

// apply makes the apps observe the decisions due by elapsed time at; the
// next ticks see them.
func (o *operator) apply(at time.Duration) {
	n := 0
	for _, p := range o.pending {
		if p.due > at {
			break
		}
		_ = o.sched.Observe(p.app, p.d.Observation("operator", o.start.Add(p.due)))
		n++
	}
	o.pending = o.pending[n:]
}
