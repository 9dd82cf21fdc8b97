package main

import (
	"fmt"
	"strings"
	"time"
)

// table accumulates the measured rows and prints them as markdown.
type table struct {
	rows []string // rows of the issue-5 table
	cpu  []string // rows of the CPU table
}

func verdict(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func (t *table) compare(what string, want float64, ours, base series, note string) {
	r := ratios(ours, base)
	m := median(r)
	ourText := fmtRate(ours.medianRate())
	if note != "" {
		ourText += " " + note
	}
	t.rows = append(t.rows, fmt.Sprintf("| %s | >= %gx | %s | %s | **%.2fx** (%s) | %s |",
		what, want, ourText, fmtRate(base.medianRate()), m, fmtRatios(r), verdict(m >= want)))
}

// writtenNote gives, for runs timed to landing, the ratio of the times to
// the last write instead: what a client-side clock would have said.
func writtenNote(ours, base series) string {
	w := func(ss series) series {
		out := make(series, len(ss))
		for i, s := range ss {
			s.dur = s.written
			out[i] = s
		}
		return out
	}
	if len(ours) == 0 || ours[0].written == 0 {
		return ""
	}
	r := ratios(w(ours), w(base))
	return fmt.Sprintf("(to the last write: %.2fx: %s)", median(r), fmtRatios(r))
}

func (t *table) cpuRow(what string, s series) {
	client := s.medianPerMsg(func(x sample) time.Duration { return x.cpu })
	broker := s.medianPerMsg(func(x sample) time.Duration { return x.broker })
	rss := "-"
	var peak int64
	for _, x := range s {
		peak = max(peak, x.rss)
	}
	if peak > 0 {
		rss = fmt.Sprintf("%.0f MiB", mib(peak))
	}
	t.cpu = append(t.cpu, fmt.Sprintf("| %s | %s | %.2f | %.2f | %s |", what, fmtRate(s.medianRate()), client, broker, rss))
}

func (t *table) addSend(confirm bool, s sendSeries) {
	what, want := "send, confirms off", 0.9
	if confirm {
		what, want = "send, confirms on (plain: async, window 1000)", 0.8
	}
	span := "tick span"
	if !confirm {
		what += " (to landing: every message in the queue)"
		span = "first tick to landing"
	}
	t.compare(what+": send path in-process", want, s.path, s.plain, writtenNote(s.path, s.plain))
	wall := make([]float64, len(s.cli))
	for i, x := range s.cli {
		wall[i] = x.wall.Seconds()
	}
	t.compare(what+": CLI `send --count 100`, 100,000 msgs ("+span+")", want, s.cli, s.plain,
		strings.TrimSpace(fmt.Sprintf("(process wall %.2f s) %s", median(wall), writtenNote(s.cli, s.plain))))
	mode := modeName(confirm)
	t.cpuRow("send "+mode+": plain amqp091-go", s.plain)
	t.cpuRow("send "+mode+": send path in-process", s.path)
	t.cpuRow("send "+mode+": CLI", s.cli)
}

func (t *table) addReceive(plain, cli series) {
	t.compare("receive `--queue Q --output json`, 100k prefilled", 0.9, cli, plain, "")
	t.cpuRow("receive: plain consumer", plain)
	t.cpuRow("receive: CLI", cli)
}

func (t *table) addScale20k(runs []scaleRun) {
	var walls []float64
	var peak int64
	for _, r := range runs {
		walls = append(walls, r.run.wall.Seconds())
		peak = max(peak, r.run.maxRSS)
	}
	w := median(walls)
	ok := w <= 1.3*5 && mib(peak) < 150
	t.rows = append(t.rows, fmt.Sprintf("| 20,000 deployments, 1 s, confirms on, 5 ticks | wall <= 1.3x of 5 s; RSS < 150 MiB | wall %.2f s (runs: %s), peak RSS %.0f MiB | ideal 5 s | **%.2fx** | %s |",
		w, fmtRatios(walls), mib(peak), w/5, verdict(ok)))
	for _, r := range runs {
		t.cpu = append(t.cpu, fmt.Sprintf("| scale 20k: CLI (one run) | %s | %.2f | - | %.0f MiB |",
			"100k msgs in 5 ticks", float64(r.run.cpu.Microseconds())/100_000, mib(r.run.maxRSS)))
	}
}

// addScale100kExpr is the expr variant's row, its RSS against the plain
// row's when that ran too.
func (t *table) addScale100kExpr(r scaleRun, plain *scaleRun) {
	var lags []float64
	for _, l := range r.ticks {
		lags = append(lags, l.Lag.Seconds())
	}
	p99 := percentile(lags, 99)
	vs, ok := "scale100k not run", p99 < 1
	if plain != nil {
		ratio := float64(r.run.maxRSS) / float64(plain.run.maxRSS)
		vs = fmt.Sprintf("%.2fx the row without it (%.0f MiB)", ratio, mib(plain.run.maxRSS))
		ok = ok && ratio <= 1.10
	}
	t.rows = append(t.rows, fmt.Sprintf("| 100,000 deployments, cpu an expr, 10 s | p99 tick lag < 1 s; RSS within 10%% of the row without it | p99 lag %.3f s over %d ticks, peak RSS %.0f MiB, %s | - | - | %s |",
		p99, len(lags), mib(r.run.maxRSS), vs, verdict(ok)))
}

func (t *table) addScale100k(r scaleRun) {
	var lags []float64
	var took time.Duration
	for _, l := range r.ticks {
		lags = append(lags, l.Lag.Seconds())
		took = max(took, l.Took)
	}
	p99 := percentile(lags, 99)
	ok := p99 < 1 && mib(r.run.maxRSS) < 400
	t.rows = append(t.rows, fmt.Sprintf("| 100,000 deployments, 10 s interval, confirms on | p99 tick lag < 1 s; RSS < 400 MiB | p99 lag %.3f s over %d ticks (each tick took <= %.2f s), peak RSS %.0f MiB | - | - | %s |",
		p99, len(lags), took.Seconds(), mib(r.run.maxRSS), verdict(ok)))
	msgs := 0
	for _, l := range r.ticks {
		msgs += l.Messages
	}
	if msgs > 0 {
		t.cpu = append(t.cpu, fmt.Sprintf("| scale 100k: CLI | %d msgs in %d ticks | %.2f | - | %.0f MiB |",
			msgs, len(r.ticks), float64(r.run.cpu.Microseconds())/float64(msgs), mib(r.run.maxRSS)))
	}
}

// addFailure records a row whose run failed, with the error's last line
// (metricsender's own message).
func (t *table) addFailure(what string, err error) {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	t.rows = append(t.rows, fmt.Sprintf("| %s | - | fails: `%s` | - | - | **no** |", what, lines[len(lines)-1]))
}

func (t *table) markdown(opts options, br *broker) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### Issue 5 targets (%d rounds, median of per-round ratios; per-round ratios in brackets)\n\n", opts.rounds)
	b.WriteString("| what | target | metricsender | plain amqp091-go | ratio | met |\n|---|---|---|---|---|---|\n")
	for _, r := range t.rows {
		b.WriteString(r + "\n")
	}
	b.WriteString("\n### CPU per message (medians; client = the measured process, broker = beam.smp during the run)\n\n")
	b.WriteString("| side | rate | client CPU µs/msg | broker CPU µs/msg | peak RSS |\n|---|---|---|---|---|\n")
	for _, r := range t.cpu {
		b.WriteString(r + "\n")
	}
	if br.beamPID == 0 {
		b.WriteString("\n(broker CPU not visible from here: 0)\n")
	}
	return b.String()
}
