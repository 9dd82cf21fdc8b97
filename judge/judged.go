package judge

import (
	"time"

	"github.com/labsea/metricsender/generator"
)

// Judged is a schedule with its judge, as a send run uses them: feedback
// is recorded through it, a reload applies to it, and the send loop mints
// the events' correlation ids with it and tells it what went on the wire.
// Without a tracker (a run without feedback) it is just the schedule:
// Observe and Apply go to the schedule, Mint and SentOnWire do nothing.
type Judged struct {
	*generator.Schedule
	Tracker *Tracker // nil: not judged
	ids     IDs      // with a tracker
}

// NewJudged judges sched with t; t may be nil.
func NewJudged(sched *generator.Schedule, t *Tracker) Judged {
	j := Judged{Schedule: sched, Tracker: t}
	if t != nil {
		j.ids = NewIDs()
	}
	return j
}

// Apply applies cfg to the schedule and, when that worked, to the
// tracker's targets.
func (j Judged) Apply(cfg *generator.Config) (generator.ApplyResult, error) {
	res, err := j.Schedule.Apply(cfg)
	if err == nil && j.Tracker != nil {
		j.Tracker.SetConfig(cfg)
	}
	return res, err
}

// Observe records an observation, through the tracker when there is one.
func (j Judged) Observe(app string, ob generator.Observation) error {
	return j.Recorder().Observe(app, ob)
}

// Recorder is where feedback goes: the tracker, or the schedule.
func (j Judged) Recorder() generator.Recorder {
	if j.Tracker != nil {
		return j.Tracker
	}
	return j.Schedule
}

// Mint gives the events their correlation ids when there is a tracker.
func (j Judged) Mint(events []generator.Event) {
	if j.Tracker != nil {
		j.ids.Mint(events)
	}
}

// SentOnWire tells the tracker, when there is one, of the messages that
// went on the wire at at.
func (j Judged) SentOnWire(events []generator.Event, at time.Time) {
	if j.Tracker != nil {
		j.Tracker.SentOnWire(events, at)
	}
}
