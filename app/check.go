package app

import (
	"fmt"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// checker is receive --check: it follows seq per (run, app) from the
// envelope and reports missing, duplicated and out-of-order messages and,
// with a config, values the config does not allow. Not safe for concurrent
// use (the receiver calls it under its lock).
//
// Gaps count from the first seq seen per (run, app), so a receiver that
// starts late reports nothing missing; a gap filled later turns from
// missing into out_of_order. Messages without an envelope (the Python
// sender's form, another is-wire publisher's) carry no seq and are only
// bounds-checked. Bounds apply to the config's deployments only: an app the
// config does not name is counted as received and nothing else. With
// --expect (expectEach) loss before the first and after the last seq seen
// counts too (see expectation).
//
// Injected faults (see check_faults.go) are told apart from real loss by
// the envelope's fault and dropped fields: seqs suppressed on purpose are
// not missing, a delayed message is not out of order, an injected copy is
// not a duplicate, and a faulted message is not held to the bounds.
type checker struct {
	streams map[streamKey]*seqTrack
	bounds  map[string]map[string]generator.Model // app -> metric -> model; nil without --config
	metrics *receiveMetrics                       // may be nil

	counts    checkCounts
	untracked int            // seqs jumped over beyond maxTrackedGap
	expect    *expectation   // --expect; nil without
	injected  injectedCounts // faults injected on purpose
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

func newChecker(cfg *generator.Config, metrics *receiveMetrics) *checker {
	c := &checker{streams: make(map[streamKey]*seqTrack), metrics: metrics}
	if cfg != nil {
		c.bounds = make(map[string]map[string]generator.Model, len(cfg.Deployments))
		for _, d := range cfg.Deployments {
			ms := make(map[string]generator.Model, len(d.Metrics))
			for _, m := range d.Metrics {
				ms[m.Name] = m.Model
			}
			c.bounds[d.Name] = ms
		}
	}
	return c
}

// observe checks one received message and returns its problems, one line each.
func (c *checker) observe(r codec.Received) (problems []string) {
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

func (c *checker) observeSeq(r codec.Received) []string {
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

func (c *checker) observeBounds(r codec.Received) []string {
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

func (c *checker) outOfBounds() {
	c.counts.outOfBounds++
	if c.metrics != nil {
		c.metrics.CheckOutOfBounds()
	}
}

// missing is how many seqs are still gaps now, plus, with --expect, the
// expected ones after the last seq seen and those of deployments never seen.
func (c *checker) missing() int {
	n := c.untracked + c.expectMissing()
	for _, t := range c.streams {
		n += len(t.gaps)
	}
	return n
}

// summary is the one line printed at exit.
func (c *checker) summary(decodeErrors int) string {
	return fmt.Sprintf("received=%d missing=%d duplicates=%d out_of_order=%d out_of_bounds=%d decode_errors=%d %s",
		c.counts.received, c.missing(), c.counts.duplicates, c.counts.outOfOrder, c.counts.outOfBounds, decodeErrors,
		c.injected.summary())
}

// failed tells whether the check fails the run: missing or out-of-bounds
// messages, or duplicates when strict. What was injected on purpose
// never fails it.
func (c *checker) failed(strict bool) bool {
	return c.missing() > 0 || c.counts.outOfBounds > 0 || (strict && c.counts.duplicates > 0)
}
