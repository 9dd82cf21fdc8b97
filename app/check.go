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
// sender's form) carry no seq and are only bounds-checked. With --expect
// (expectEach) loss before the first and after the last seq seen counts
// too (see expectation).
type checker struct {
	streams map[streamKey]*seqTrack
	bounds  map[string]map[string]generator.Model // app -> metric -> model; nil without --config
	metrics *receiveMetrics                       // may be nil

	counts    checkCounts
	untracked int          // seqs jumped over beyond maxTrackedGap
	expect    *expectation // --expect; nil without
}

type checkCounts struct {
	received, duplicates, outOfOrder, outOfBounds int
}

type streamKey struct{ run, app string }

// seqTrack is one stream's progress: the highest seq seen and the gaps
// below it that have not arrived (yet).
type seqTrack struct {
	max  uint64
	gaps map[uint64]struct{}
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
	if r.HasEnvelope {
		problems = append(problems, c.observeSeq(r)...)
	}
	if c.bounds != nil {
		problems = append(problems, c.observeBounds(r)...)
	}
	return problems
}

func (c *checker) observeSeq(r codec.Received) []string {
	key := streamKey{r.Run, r.App}
	t, ok := c.streams[key]
	if !ok {
		t = &seqTrack{max: r.Seq, gaps: map[uint64]struct{}{}}
		c.streams[key] = t
		c.expectStart(r.App, t, r.Seq)
		return nil
	}
	switch {
	case r.Seq == t.max+1:
		t.max = r.Seq
		c.expectArrived(r.App, r.Seq)
	case r.Seq > t.max+1:
		c.expectArrived(r.App, r.Seq)
		gap := r.Seq - t.max - 1
		if gap > maxTrackedGap {
			for s := r.Seq - maxTrackedGap; s < r.Seq; s++ {
				t.gaps[s] = struct{}{}
			}
			c.untracked += int(gap - maxTrackedGap)
		} else {
			for s := t.max + 1; s < r.Seq; s++ {
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
			c.counts.outOfOrder++
			if c.metrics != nil {
				c.metrics.CheckOutOfOrder()
			}
			return []string{fmt.Sprintf("%s run %s: seq %d arrived after %d (out of order)", r.App, r.Run, r.Seq, t.max)}
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
		c.outOfBounds()
		return []string{fmt.Sprintf("%s: not a deployment of the config", r.App)}
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
	return fmt.Sprintf("received=%d missing=%d duplicates=%d out_of_order=%d out_of_bounds=%d decode_errors=%d",
		c.counts.received, c.missing(), c.counts.duplicates, c.counts.outOfOrder, c.counts.outOfBounds, decodeErrors)
}

// failed tells whether the check fails the run: missing or out-of-bounds
// messages, or duplicates when strict.
func (c *checker) failed(strict bool) bool {
	return c.missing() > 0 || c.counts.outOfBounds > 0 || (strict && c.counts.duplicates > 0)
}
