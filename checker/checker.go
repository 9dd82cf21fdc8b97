package checker

import (
	"fmt"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// Checker follows seq per (run, app) from the envelope and reports
// missing, duplicated and out-of-order messages and, with the run's
// config, values the config does not allow (see the package doc). Not
// safe for concurrent use: receive calls it under its lock.
type Checker struct {
	streams map[streamKey]*seqTrack
	bounds  map[string]map[string]generator.Model // app -> metric -> model; nil without Config.Run
	metrics Metrics                               // may be nil

	counts    checkCounts
	untracked int            // seqs jumped over beyond maxTrackedGap
	expect    *expectation   // Config.Expect; nil without
	injected  injectedCounts // faults injected on purpose
}

// Config is what a check knows of the run.
type Config struct {
	// Run is the run's config: its deployments bound the values (an app it
	// does not name is only counted as received). nil: no bounds, no Expect.
	Run *generator.Config
	// Expect > 0 expects seqs 1..Expect from every deployment of Run (a
	// `send --count N` run; see the package doc). 0, or no Run: off.
	Expect int
	// Metrics counts the problems as they are found; nil counts nothing.
	Metrics Metrics
}

// Metrics counts what the check finds as it finds it (receive's /metrics).
type Metrics interface {
	CheckMissing(n int) // n seqs jumped over
	CheckDuplicate()    // a seq again
	CheckOutOfOrder()   // a gap filled late
	CheckOutOfBounds()  // a value or metric the config does not allow
}

type checkCounts struct {
	received, duplicates, outOfOrder, outOfBounds int
}

type streamKey struct{ run, app string }

// seqTrack is one stream's progress: the highest seq seen and the gaps
// below it that have not arrived (yet).
type seqTrack struct {
	max   uint64
	first uint64 // the first seq seen: a delayed one below it comes late, not again
	gaps  map[uint64]struct{}
}

// maxTrackedGap bounds the gap remembered for one jump in seq: a jump past
// it (a corrupted or foreign seq) counts as missing without remembering
// each seq, so memory stays bounded.
const maxTrackedGap = 1 << 20

// New returns a Checker that has seen nothing yet. It cannot fail: an
// Expect <= 0 is off (the commands refuse a negative --expect, and one
// without --config, before they get here).
func New(cfg Config) *Checker {
	c := &Checker{streams: make(map[streamKey]*seqTrack), metrics: cfg.Metrics}
	if cfg.Run != nil {
		c.bounds = make(map[string]map[string]generator.Model, len(cfg.Run.Deployments))
		for _, d := range cfg.Run.Deployments {
			ms := make(map[string]generator.Model, len(d.Metrics))
			for _, m := range d.Metrics {
				ms[m.Name] = m.Model
			}
			c.bounds[d.Name] = ms
		}
	}
	c.expectEach(cfg.Run, cfg.Expect)
	return c
}

// Observe checks one received message and returns its problems, one line
// each (for a log; the counts are in Summary).
func (c *Checker) Observe(r codec.Received) (problems []string) {
	c.counts.received++
	if c.countCopy(r) {
		return nil // an injected copy: no duplicate, and its values were judged on the original
	}
	duplicates := c.counts.duplicates
	if r.HasEnvelope {
		problems = append(problems, c.observeSeq(r)...)
	}
	if c.counts.duplicates == duplicates { // a redelivery's faults were counted the first time
		c.countInjected(r)
	}
	if c.bounds != nil && r.Fault == "" { // a faulted message is off limits on purpose
		problems = append(problems, c.observeBounds(r)...)
	}
	return problems
}

func (c *Checker) observeSeq(r codec.Received) []string {
	key := streamKey{r.Run, r.App}
	t, ok := c.streams[key]
	if !ok {
		t = &seqTrack{max: r.Seq, first: r.Seq, gaps: map[uint64]struct{}{}}
		c.streams[key] = t
		c.expectStart(r.App, t, r.Seq)
		c.forgive(t, r)
		return nil
	}
	c.forgive(t, r)
	switch {
	case r.Seq == t.max+1:
		t.max = r.Seq
		c.expectArrived(r.App, r.Seq)
	case r.Seq > t.max+1 && r.Seq-t.max-1 <= r.Dropped:
		c.expectSkipped(r.App, t.max+1, r.Seq-1) // every seq between was suppressed on purpose
		t.max = r.Seq
		c.expectArrived(r.App, r.Seq)
	case r.Seq > t.max+1:
		c.expectArrived(r.App, r.Seq)
		c.expectSkipped(r.App, r.Seq-r.Dropped, r.Seq-1)
		gap := r.Seq - t.max - 1 - r.Dropped // the last Dropped seqs before it were suppressed on purpose
		if gap > maxTrackedGap {
			for s := r.Seq - r.Dropped - maxTrackedGap; s < r.Seq-r.Dropped; s++ {
				t.gaps[s] = struct{}{}
			}
			c.untracked += int(gap - maxTrackedGap)
		} else {
			for s := t.max + 1; s < r.Seq-r.Dropped; s++ {
				t.gaps[s] = struct{}{}
			}
		}
		t.max = r.Seq
		if c.metrics != nil {
			c.metrics.CheckMissing(int(gap))
		}
		return []string{fmt.Sprintf("%s run %s: seq jumped to %d, %d missing so far", r.App, r.Run, r.Seq, gap)}
	default:
		if _, late := t.gaps[r.Seq]; late {
			delete(t.gaps, r.Seq)
			c.expectArrived(r.App, r.Seq)
			if injectedDelay(r) {
				return nil // held back on purpose: counted in injected_delays
			}
			c.counts.outOfOrder++
			if c.metrics != nil {
				c.metrics.CheckOutOfOrder()
			}
			return []string{fmt.Sprintf("%s run %s: seq %d arrived after %d (out of order)", r.App, r.Run, r.Seq, t.max)}
		}
		if r.Seq < t.first && injectedDelay(r) {
			// Held back past the first message this receiver saw: the
			// stream starts earlier, and the seqs between are gaps now.
			for s := r.Seq + 1; s < t.first && s-r.Seq <= maxTrackedGap; s++ {
				t.gaps[s] = struct{}{}
			}
			t.first = r.Seq
			return nil
		}
		c.counts.duplicates++
		if c.metrics != nil {
			c.metrics.CheckDuplicate()
		}
		return []string{fmt.Sprintf("%s run %s: seq %d again (duplicate)", r.App, r.Run, r.Seq)}
	}
	return nil
}

func (c *Checker) observeBounds(r codec.Received) []string {
	models, ok := c.bounds[r.App]
	if !ok {
		return nil // another publisher's app on the same topics: received, not ours to judge
	}
	var problems []string
	for _, m := range r.Metrics {
		model, ok := models[m.Name]
		if !ok {
			c.outOfBounds()
			problems = append(problems, fmt.Sprintf("%s: metric %q is not in the config", r.App, m.Name))
			continue
		}
		if b, ok := model.(generator.Bounded); ok && !b.Allows(m.Value.Text) {
			c.outOfBounds()
			problems = append(problems, fmt.Sprintf("%s: %s=%s is outside what the config allows", r.App, m.Name, m.Value.Text))
		}
	}
	if len(r.Metrics) != len(models) {
		c.outOfBounds()
		problems = append(problems, fmt.Sprintf("%s: %d metrics, the config has %d", r.App, len(r.Metrics), len(models)))
	}
	return problems
}

func (c *Checker) outOfBounds() {
	c.counts.outOfBounds++
	if c.metrics != nil {
		c.metrics.CheckOutOfBounds()
	}
}

// Missing is how many seqs are still gaps now, plus, with Expect, the
// expected ones after the last seq seen and those of deployments never seen.
func (c *Checker) Missing() int {
	n := c.untracked + c.expectMissing()
	for _, t := range c.streams {
		n += len(t.gaps)
	}
	return n
}

// Summary is the one line printed at exit; decodeErrors are the
// receiver's, which the checker never sees.
func (c *Checker) Summary(decodeErrors int) string {
	return fmt.Sprintf("received=%d missing=%d duplicates=%d out_of_order=%d out_of_bounds=%d decode_errors=%d %s",
		c.counts.received, c.Missing(), c.counts.duplicates, c.counts.outOfOrder, c.counts.outOfBounds, decodeErrors,
		c.injected.summary())
}

// Failed tells whether the check fails the run: missing or out-of-bounds
// messages, or duplicates when strict. What was injected on purpose
// never fails it.
func (c *Checker) Failed(strict bool) bool {
	return c.Missing() > 0 || c.counts.outOfBounds > 0 || (strict && c.counts.duplicates > 0)
}
