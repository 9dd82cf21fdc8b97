package generator

import (
	"path/filepath"
	"time"
)

// params holds the parameters of one model mapping ({min: .., max: ..}) as
// they are parsed; ok turns false at the first problem recorded.
type params struct {
	p     *parser
	at    entry // the model's key and value
	field string
	keys  map[string]entry
	spec  map[string]string // parameters as written, for MetricSpec.Spec
	ok    bool
}

// params reads the mapping of model entry e, reporting unknown keys and
// missing required ones.
func (p *parser) params(e entry, field string, required []string, optional ...string) *params {
	known := append(append([]string{}, required...), optional...)
	pr := &params{p: p, at: e, field: field, spec: map[string]string{}, ok: true}
	before := len(p.errs)
	_, pr.keys, pr.ok = p.mapping(e.key, e.val, field, known...)
	if !pr.ok {
		return pr
	}
	pr.ok = len(p.errs) == before
	for _, k := range required {
		if _, ok := pr.keys[k]; !ok {
			p.fail(e.key, join(field, k), "missing")
			pr.ok = false
		}
	}
	return pr
}

// has reports whether the optional parameter k is given.
func (pr *params) has(k string) bool { _, ok := pr.keys[k]; return ok }

// fail records a problem with parameter k.
func (pr *params) fail(k, format string, args ...any) {
	at := pr.at.key
	if e, ok := pr.keys[k]; ok {
		at = e.key
	}
	pr.p.fail(at, join(pr.field, k), format, args...)
	pr.ok = false
}

// text returns parameter k as written ("" if absent or not a scalar).
func (pr *params) text(k string) string {
	e, ok := pr.keys[k]
	if !ok {
		return ""
	}
	s, good := pr.p.scalar(e.key, e.val, join(pr.field, k))
	if !good {
		pr.ok = false
		return ""
	}
	pr.spec[k] = s
	return s
}

// num parses parameter k as a number or quantity.
func (pr *params) num(k string) number {
	s := pr.text(k)
	if s == "" {
		return number{}
	}
	n, err := parseNumber(s)
	if err != nil {
		pr.fail(k, "%v", err)
		return number{}
	}
	return n
}

// dur parses parameter k as a Go duration; positive requires > 0.
func (pr *params) dur(k string, positive bool) time.Duration {
	s := pr.text(k)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		pr.fail(k, "not a duration (like 30s, 5m, 1h30m): %q", s)
	case positive && d <= 0:
		pr.fail(k, "must be > 0, got %s", s)
	}
	return d
}

// ordered checks lo <= hi, reporting at hi.
func (pr *params) ordered(lo, hi string, l, h number) {
	if l.ok && h.ok && l.v > h.v {
		pr.fail(hi, "must be >= %s (%s), got %s", lo, l.text, h.text)
	}
}

func (p *parser) uniform(pr *params) (Model, bool) {
	lo, hi, step := pr.num("min"), pr.num("max"), pr.num("step")
	pr.ordered("min", "max", lo, hi)
	u := &Uniform{min: lo.v, max: hi.v}
	switch {
	case !step.ok:
	case step.v <= 0:
		pr.fail("step", "must be > 0, got %s", step.text)
	case lo.ok && hi.ok && lo.v <= hi.v:
		if n := gridPoints(lo.v, hi.v, step.v); n > 1e15 {
			pr.fail("step", "too fine: %g grid points, at most 1e15", n)
		} else {
			u.step, u.n = step.v, int64(n)
		}
	}
	u.f = formatFor(pr.has("step"), max(step.dec, lo.dec), lo, hi, step)
	return u, pr.ok
}

func (p *parser) walk(pr *params) (Model, bool) {
	start, lo, hi, step := pr.num("start"), pr.num("min"), pr.num("max"), pr.num("step")
	pr.ordered("min", "max", lo, hi)
	if step.ok && step.v <= 0 {
		pr.fail("step", "must be > 0, got %s", step.text)
	}
	if start.ok && lo.ok && hi.ok && lo.v <= hi.v && (start.v < lo.v || start.v > hi.v) {
		pr.fail("start", "must be within [min, max] = [%s, %s], got %s", lo.text, hi.text, start.text)
	}
	f := formatFor(true, max(step.dec, start.dec), start, lo, hi, step)
	return &Walk{start: start.v, min: lo.v, max: hi.v, step: step.v, f: f}, pr.ok
}

func (p *parser) sine(pr *params) (Model, bool) {
	lo, hi := pr.num("min"), pr.num("max")
	period, phase := pr.dur("period", true), pr.dur("phase", false)
	pr.ordered("min", "max", lo, hi)
	return &Sine{min: lo.v, max: hi.v, period: period, phase: phase, f: formatFor(false, 0, lo, hi)}, pr.ok
}

func (p *parser) ramp(pr *params) (Model, bool) {
	from, to := pr.num("from"), pr.num("to")
	over := pr.dur("over", true)
	return &Ramp{from: from.v, to: to.v, over: over, f: formatFor(false, 0, from, to)}, pr.ok
}

func (p *parser) spike(pr *params) (Model, bool) {
	base, peak := pr.num("base"), pr.num("peak")
	every, dur := pr.dur("every", true), pr.dur("for", true)
	if every > 0 && dur > every {
		pr.fail("for", "must be <= every (%s), got %s", pr.spec["every"], pr.spec["for"])
	}
	f := formatFor(false, 0, base, peak)
	return &Spike{base: f.value(base.v), peak: f.value(peak.v), every: every, dur: dur, f: f}, pr.ok
}

func (p *parser) replay(pr *params) (Model, bool) {
	file, column := pr.text("file"), pr.text("column")
	if !pr.ok {
		return nil, false
	}
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.baseDir, file)
	}
	key := path + "\x00" + column
	r, ok := p.replays[key]
	if !ok {
		var err error
		var bad string
		if r, bad, err = readReplay(path, file, column); err != nil {
			pr.fail(bad, "%v", err)
			return nil, false
		}
		p.replays[key] = r
	}
	return r.Clone(), true
}
