package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/generator"
)

// bench holds what every row needs. Not safe for concurrent use: rows run
// one after another, each alone on the broker.
type bench struct {
	opts    options
	br      *broker
	log     *slog.Logger // progress, to stderr
	dir     string       // temp dir: configs, built binary
	cfg     *generator.Config
	cfgPath string
	msgs    []publishing // the plain side's messages, built once
}

// sendSeries are the three sides of a send row.
type sendSeries struct{ plain, path, cli series }

// sendRow measures one confirm mode: the plain loop, metricsender's path
// in-process and the CLI, each publishing sendTicks ticks of
// sendDeployments deployments into one queue (bound as -bind says), in an
// order that alternates each round. Each run must land exactly the
// expected count in the queue.
func (b *bench) sendRow(ctx context.Context, confirm bool) (sendSeries, error) {
	queue := "bench.send." + strconv.Itoa(os.Getpid())
	keys, want := routingKeys(sendDeployments), len(b.msgs)
	switch b.opts.bind {
	case "pattern":
		keys = []string{"Metrics.*"}
	case "none": // unroutable: the broker returns every message (mandatory)
		keys, want = nil, 0
	}
	if err := b.br.declareQueue(queue, keys, nil); err != nil {
		return sendSeries{}, err
	}
	defer func() { _ = b.br.deleteQueue(queue) }()
	mode := modeName(confirm)
	var out sendSeries
	sides := []string{"plain", "path", "cli"}
	for r := range b.opts.rounds {
		for i := range sides {
			side := sides[i]
			if r%2 == 1 {
				side = sides[len(sides)-1-i]
			}
			s, n, err := b.sendMeasured(ctx, side, confirm, queue, want)
			if err != nil {
				return out, fmt.Errorf("send %s round %d %s: %w", mode, r+1, side, err)
			}
			sh, err := b.br.sample(queue)
			if err != nil {
				return out, err
			}
			if err := b.br.purge(queue); err != nil {
				return out, err
			}
			attrs := []any{"confirm", mode, "round", r + 1, "side", side, "rate", fmtRate(s.rate()), "took", s.dur.Round(time.Millisecond)}
			if s.written > 0 {
				attrs = append(attrs, "written", s.written.Round(time.Millisecond))
			}
			b.log.Info("send", append(attrs, "in_queue", n, "shape", sh.String())...)
			if n != want {
				return out, fmt.Errorf("send %s round %d %s: queue holds %d messages, want exactly %d", mode, r+1, side, n, want)
			}
			switch side {
			case "plain":
				out.plain = append(out.plain, s)
			case "path":
				out.path = append(out.path, s)
			case "cli":
				out.cli = append(out.cli, s)
			}
		}
	}
	return out, nil
}

// sendMeasured runs one side once and waits until the queue holds want
// messages (or stops filling), returning the sample and the count. Without
// confirms (and with a queue to fill) the sample is timed to landing: its
// timed part ends when the queue first held want messages, the time to the
// last write is kept as written, and the broker's CPU is counted up to the
// landing.
func (b *bench) sendMeasured(ctx context.Context, side string, confirm bool, queue string, want int) (sample, int, error) {
	var land *landing
	stop := make(chan struct{})
	defer close(stop)
	br0 := b.br.cpu()
	if !confirm && want > 0 {
		var err error
		if land, err = watchLanding(b.opts.uri, queue, want, stop, b.br.cpu); err != nil {
			return sample{}, 0, err
		}
	}
	s, err := b.sendSide(ctx, side, confirm, []string{b.opts.bin}, nil)
	if err != nil {
		return s, 0, err
	}
	n, err := b.br.settle(queue, want)
	if err != nil || land == nil || n != want {
		return s, n, err // the caller reports a count other than want
	}
	select {
	case <-land.done: // the watch polls more often than settle: it has seen it, or will at once
	case <-time.After(time.Second):
	}
	at, err := land.result()
	if err != nil {
		return s, n, err
	}
	s.written, s.dur = s.dur, at.Sub(s.start)
	if land.brokerCPU > 0 {
		s.broker = land.brokerCPU - br0
	}
	return s, n, nil
}

// sendSide runs one side of a send row once. For "cli", bin is the binary
// and env its extra environment; the timed part is the tick span (first
// tick's start to last tick's end, from the tick log lines), the process
// wall time is kept too.
func (b *bench) sendSide(ctx context.Context, side string, confirm bool, bin []string, env []string) (sample, error) {
	cpu0, br0 := selfCPU(), b.br.cpu()
	switch side {
	case "plain":
		start, d, err := plainSend(b.opts.uri, b.opts.exchange, b.msgs, confirm)
		return sample{msgs: len(b.msgs), start: start, dur: d, cpu: selfCPU() - cpu0, broker: b.br.cpu() - br0}, err
	case "path":
		start, d, n, err := pathSend(ctx, b.opts.uri, b.opts.exchange, b.cfg, sendTicks, b.opts.shard, confirm, nil)
		return sample{msgs: n, start: start, dur: d, cpu: selfCPU() - cpu0, broker: b.br.cpu() - br0}, err
	}
	r, err := runCLI(ctx, bin, []string{"send", "--config", b.cfgPath, "--interval", "1ms",
		"--count", strconv.Itoa(sendTicks), "--confirm=" + strconv.FormatBool(confirm), "--http-addr", "",
		"--uri", b.opts.uri, "--exchange", b.opts.exchange, "--seed", "1", "--log-format", "json"}, nil, slices.Concat(b.opts.cliEnv, env)...)
	if err != nil {
		return sample{}, err
	}
	start, span, n := r.tickSpan()
	return sample{msgs: n, start: start, dur: span, wall: r.wall, cpu: r.cpu, broker: b.br.cpu() - br0, rss: r.maxRSS}, nil
}

// receiveRow prefills a queue with the send row's 100k messages before each
// run and drains it with the plain consumer or `receive --queue Q --output
// json` (stdout to /dev/null), alternating the order each round.
func (b *bench) receiveRow(ctx context.Context) (plain, cli series, err error) {
	queue := "bench.recv." + strconv.Itoa(os.Getpid())
	if err := b.br.declareQueue(queue, b.recvKeys(), nil); err != nil {
		return nil, nil, err
	}
	defer func() { _ = b.br.deleteQueue(queue) }()
	for r := range b.opts.rounds {
		for i, side := range []string{"plain", "cli"} {
			if r%2 == 1 {
				side = []string{"cli", "plain"}[i]
			}
			if err := prefill(b.br, queue, b.msgs); err != nil {
				return plain, cli, err
			}
			s, err := b.receiveSide(ctx, side, queue, []string{b.opts.bin}, nil)
			if err != nil {
				return plain, cli, fmt.Errorf("receive round %d %s: %w", r+1, side, err)
			}
			left, err := b.br.settle(queue, 0)
			if err != nil {
				return plain, cli, err
			}
			_ = b.br.purge(queue)
			b.log.Info("receive", "round", r+1, "side", side, "rate", fmtRate(s.rate()),
				"took", s.dur.Round(time.Millisecond), "left_in_queue", left)
			if side == "plain" {
				plain = append(plain, s)
			} else {
				cli = append(cli, s)
			}
		}
	}
	return plain, cli, nil
}

// receiveSide drains the prefilled queue once. The CLI's time runs from
// its "starting" log line to its "stopped" line (connect, declare, drain).
func (b *bench) receiveSide(ctx context.Context, side, queue string, bin []string, env []string) (sample, error) {
	n := len(b.msgs)
	cpu0, br0 := selfCPU(), b.br.cpu()
	if side == "plain" {
		d, err := plainReceive(b.opts.uri, queue, n)
		return sample{msgs: n, dur: d, cpu: selfCPU() - cpu0, broker: b.br.cpu() - br0}, err
	}
	r, err := runCLI(ctx, bin, []string{"receive", "--queue", queue, "--topic", routingKeys(1)[0],
		"--output", "json", "--count", strconv.Itoa(n), "--uri", b.opts.uri, "--exchange", b.opts.exchange,
		"--log-format", "json"}, nil, slices.Concat(b.opts.cliEnv, env)...)
	if err != nil {
		return sample{}, err
	}
	s := sample{msgs: n, wall: r.wall, dur: r.wall, cpu: r.cpu, broker: b.br.cpu() - br0, rss: r.maxRSS}
	start, ok1 := r.line("starting")
	stop, ok2 := r.line("stopped")
	if ok1 && ok2 {
		s.dur = stop.Time.Sub(start.Time)
		s.msgs = stop.Received
	}
	return s, nil
}

// scaleRun is one run of a big-cluster row.
type scaleRun struct {
	run   cliRun
	ticks []logLine
}

// scaleRow runs `send` with n deployments, interval and ticks ticks
// (confirms on) into a queue bound with Metrics.* and capped at 100k
// messages (drop-head), so every message is routed without piling up.
func (b *bench) scaleRow(ctx context.Context, n int, interval time.Duration, ticks int, bin []string, env []string) (scaleRun, error) {
	return b.scaleRowWith(ctx, n, "", interval, ticks, bin, env)
}

// scaleRowWith is scaleRow with cpu defined by cpu ("": the list).
func (b *bench) scaleRowWith(ctx context.Context, n int, cpu string, interval time.Duration, ticks int, bin []string, env []string) (scaleRun, error) {
	path, err := writeConfigWith(b.dir, n, cpu)
	if err != nil {
		return scaleRun{}, err
	}
	cleanup, err := b.scaleQueue()
	if err != nil {
		return scaleRun{}, err
	}
	defer cleanup()
	r, err := b.scaleCLI(ctx, path, interval, ticks, bin, env)
	if err != nil {
		return scaleRun{}, err
	}
	t := r.ticks()
	b.log.Info("scale", "deployments", n, "interval", interval, "wall", r.wall.Round(time.Millisecond),
		"max_rss_mib", fmt.Sprintf("%.0f", mib(r.maxRSS)), "ticks", len(t), "cpu", r.cpu.Round(time.Millisecond))
	return scaleRun{run: r, ticks: t}, nil
}

// scaleQueue declares the queue of a big-cluster row: bound with
// Metrics.* and capped at 100k messages (drop-head), so every message is
// routed without piling up. The returned func deletes it.
func (b *bench) scaleQueue() (func(), error) {
	queue := "bench.scale." + strconv.Itoa(os.Getpid())
	if err := b.br.declareQueue(queue, []string{"Metrics.*"}, amqp091.Table{"x-max-length": int32(100_000)}); err != nil {
		return nil, err
	}
	return func() { _ = b.br.deleteQueue(queue) }, nil
}

// scaleCLI runs `send` on the config at path, confirms on, with extra
// arguments (a shard).
func (b *bench) scaleCLI(ctx context.Context, path string, interval time.Duration, ticks int, bin, env []string, extra ...string) (cliRun, error) {
	args := []string{"send", "--config", path, "--interval", interval.String(),
		"--count", strconv.Itoa(ticks), "--http-addr", "", "--uri", b.opts.uri, "--exchange", b.opts.exchange,
		"--seed", "1", "--log-format", "json"}
	return runCLI(ctx, bin, append(args, extra...), nil, slices.Concat(b.opts.cliEnv, env)...)
}

// profileSelf runs f under a CPU profile written to path.
func profileSelf(path string, f func() error) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer pprof.StopCPUProfile()
	return f()
}

// recvKeys are the bindings of a queue to prefill: the send rows' exact
// keys with -bind exact, else Metrics.* (the receiver's own binding).
func (b *bench) recvKeys() []string {
	if b.opts.bind == "exact" {
		return routingKeys(sendDeployments)
	}
	return []string{"Metrics.*"}
}

func modeName(confirm bool) string {
	if confirm {
		return "confirm"
	}
	return "off"
}
