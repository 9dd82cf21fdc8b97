package checker

import (
	"fmt"
	"strings"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// injectedCounts are the faults --check saw injected on purpose, in the
// summary's order.
type injectedCounts struct {
	drops, duplicates, delays, stale, corrupt, omits, bursts int
}

// summary is the injected_* part of the summary line.
func (n injectedCounts) summary() string {
	return fmt.Sprintf("injected_drops=%d injected_duplicates=%d injected_delays=%d injected_stale=%d injected_corrupt=%d injected_omits=%d injected_bursts=%d",
		n.drops, n.duplicates, n.delays, n.stale, n.corrupt, n.omits, n.bursts)
}

// countCopy counts r when it is an extra copy a fault made (duplicate,
// burst), which --check judges no further, and reports whether it was.
// (A copy redelivered by the broker counts again: it cannot be told
// from the next copy.)
func (c *Checker) countCopy(r codec.Received) bool {
	switch generator.FaultKind(r.Fault) {
	case generator.FaultDuplicate:
		c.injected.duplicates++
		return true
	case generator.FaultBurst:
		c.injected.bursts++
		return true
	}
	return false
}

// countInjected counts the faults r carries (not a copy's).
func (c *Checker) countInjected(r codec.Received) {
	c.injected.drops += int(min(r.Dropped, 1<<31))
	if r.Fault == "" {
		return
	}
	for _, kind := range strings.Split(r.Fault, ",") {
		switch generator.FaultKind(kind) {
		case generator.FaultDelay:
			c.injected.delays++
		case generator.FaultStale:
			c.injected.stale++
		case generator.FaultCorrupt:
			c.injected.corrupt++
		case generator.FaultOmit:
			c.injected.omits++
		}
	}
}

// injectedDelay reports whether a delay fault held r back.
func injectedDelay(r codec.Received) bool {
	for _, kind := range strings.Split(r.Fault, ",") {
		if generator.FaultKind(kind) == generator.FaultDelay {
			return true
		}
	}
	return false
}

// forgive takes the seqs r says were suppressed on purpose (the Dropped
// seqs just before it) out of t's gaps: they never come, and are not lost
// (nor still expected, with --expect).
func (c *Checker) forgive(t *seqTrack, r codec.Received) {
	if r.Dropped == 0 || len(t.gaps) == 0 {
		return
	}
	drop := func(s uint64) {
		if _, ok := t.gaps[s]; ok {
			delete(t.gaps, s)
			c.expectArrived(r.App, s)
		}
	}
	if r.Dropped >= uint64(len(t.gaps)) { // walk the gaps, not a made-up huge range
		for s := range t.gaps {
			if s < r.Seq && r.Seq-s <= r.Dropped {
				drop(s)
			}
		}
		return
	}
	for i := uint64(1); i <= r.Dropped && i < r.Seq; i++ {
		drop(r.Seq - i)
	}
}

// expectSkipped tells --expect that seqs from..to of app were suppressed
// on purpose: they will not come, and are not awaited.
func (c *Checker) expectSkipped(app string, from, to uint64) {
	e := c.expect
	if e == nil || from > to {
		return
	}
	for s := max(from, 1); s <= min(to, e.n); s++ {
		c.expectArrived(app, s)
	}
}
