package checker

import "github.com/labsea/metricsender/generator"

// expectation is Config.Expect N (--expect N): every deployment of the config is expected to
// deliver seqs 1..N (a `send --count N` run). It turns loss the seq gaps
// cannot see into missing: seqs before the first one seen, seqs after the
// last one seen up to N, and deployments never seen at all (N each). It
// also tells when every expected (app, seq) has arrived, so the receiver
// can stop. A deployment seen in several runs (a restarted sender) is
// expected to deliver 1..N in each. Seqs above N are not expected: they
// are checked for gaps as without --expect.
type expectation struct {
	n    uint64
	apps map[string]int // deployment -> runs seen of it
	// left counts the expected (app, seq) pairs that have not arrived:
	// N per deployment not seen, N minus the distinct seqs <= N per run.
	left int
}

// expectEach sets Expect n (> 0) for the deployments of cfg; New calls
// it, before the first Observe.
func (c *Checker) expectEach(cfg *generator.Config, n int) {
	if n <= 0 || cfg == nil {
		return
	}
	e := &expectation{n: uint64(n), apps: make(map[string]int, len(cfg.Deployments))}
	for _, d := range cfg.Deployments {
		if _, dup := e.apps[d.Name]; !dup {
			e.apps[d.Name] = 0
			e.left += n
		}
	}
	c.expect = e
}

// expectStart is told of a new stream t whose first seq is first: the
// seqs below it are missing (gaps until they arrive).
func (c *Checker) expectStart(app string, t *seqTrack, first uint64) {
	e := c.expect
	if e == nil {
		return
	}
	runs, ok := e.apps[app]
	if !ok {
		return
	}
	if e.apps[app] = runs + 1; runs > 0 {
		e.left += int(e.n) // another run of it: 1..N again
	}
	var lead uint64
	if first > 1 {
		lead = first - 1
	}
	if lead > maxTrackedGap {
		c.untracked += int(lead - maxTrackedGap)
		lead = maxTrackedGap
	}
	for s := first - lead; s < first; s++ {
		t.gaps[s] = struct{}{}
	}
	c.expectArrived(app, first)
}

// expectArrived is told of a seq of app that arrived for the first time
// in its stream.
func (c *Checker) expectArrived(app string, seq uint64) {
	if e := c.expect; e != nil && seq >= 1 && seq <= e.n {
		if _, ok := e.apps[app]; ok {
			e.left--
		}
	}
}

// expectMissing is what --expect adds to missing: the seqs above the
// last one seen, up to N, of every run of a deployment, and N for each
// deployment never seen. (Seqs below the first one seen are gaps.)
func (c *Checker) expectMissing() int {
	e := c.expect
	if e == nil {
		return 0
	}
	n := 0
	for _, runs := range e.apps {
		if runs == 0 {
			n += int(e.n)
		}
	}
	for key, t := range c.streams {
		if _, ok := e.apps[key.app]; ok && t.max < e.n {
			n += int(e.n - t.max)
		}
	}
	return n
}

// ExpectMet reports whether Expect is set and every expected (app, seq)
// has arrived: a receiver can stop.
func (c *Checker) ExpectMet() bool { return c.expect != nil && c.expect.left == 0 }
