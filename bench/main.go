// Command bench measures metricsender against a plain amqp091-go client on
// a real RabbitMQ, side by side in one run (issue 5), and prints a markdown
// table for BENCHMARKS.md. Run it from the module root:
//
//	go run ./bench -uri amqp://guest:guest@127.0.0.1:5672/ -rounds 5
//
// Rows (-rows, comma-separated; default all):
//
//   - send-off, send-confirm: 100,000 messages (1000 deployments, 100
//     ticks at --interval 1ms) published by a plain amqp091-go loop (one
//     channel; with confirms a sliding window of 1000 unconfirmed), by
//     metricsender's send path built in this process as app/send.go builds
//     it, and by the real binary `metricsender send --count 100`. Same
//     messages (same seed, codec, routing keys Metrics.app-N, headers, body
//     size), mandatory, into one queue bound with Metrics.*; each run
//     must leave exactly 100,000 messages in it (then purged). With
//     confirms every side is timed until the last confirm; without, until
//     the queue holds all 100,000 (polled every 5 ms from a connection of
//     the bench's own), since a client's last write returns long before
//     the broker has taken what its socket buffered; the time to the last
//     write is printed beside it.
//   - receive: the queue prefilled with those 100,000 messages is drained by
//     a plain consumer (prefetch 1000, one ack per message) or by
//     `metricsender receive --queue Q --output json --count 100000`.
//   - bridge: the send path (in-process, confirms on) with 10,000
//     deployments x 10 ticks, alone and with the metrics API bridge's
//     store (package latest) consuming the same stream from its own queue
//     while a poller reads every app at the HPA's 15 s rate: the cost of
//     the bridge to the sender on one machine (bridge.go).
//   - scale20k: `send` with 20,000 deployments, 1 s interval, confirms on,
//     5 ticks: process wall time against the ideal 5 s, and peak RSS.
//   - scale100k: 100,000 deployments, 10 s interval (-ticks100k ticks):
//     tick lag from the tick log lines, and peak RSS.
//   - scale100k-expr: the same with cpu a CEL expr over a sine var and
//     the observed replicas instead of a list (same message sizes): p99
//     tick lag < 1 s and peak RSS within 10% of scale100k's (issue 12;
//     run both rows together).
//   - scale150k: 150,000 deployments (the largest Kubernetes cluster, one
//     app per pod) at -interval150k (20 s: at 10 s this machine's broker,
//     ~15-19k msg/s with confirms, is the limit), -ticks150k ticks: p99
//     tick lag < 1 s and peak RSS < 256 MiB (issue 15).
//   - shards: the same 150,000 deployments as 4 processes `send --shard
//     i/4` at once through one broker: the same totals, each shard's lag
//     and peak RSS.
//   - live: the CLI side of send-confirm with --http-addr, once with a
//     headless Chromium (internal/chromium) on its live page following
//     app-1 and once with none, alternating, the page connected before the
//     first tick (the sender reaches the broker through a proxy held until
//     then): the ratio of their rates (target >= 0.95). Then the bytes per
//     tick of the page's event stream at 10,000 deployments, following 1
//     and 16. Without Chromium the first part says so and is skipped.
//
// The queues are bound with Metrics.* (as the receiver binds): anything
// else publishing Metrics.* on the exchange meanwhile breaks the exact
// counts. -bind exact binds the 1000 routing keys one by one instead (much
// slower in RabbitMQ 3.10's topic exchange), -bind none leaves the send
// rows' messages unroutable (the broker returns each one).
//
// Each comparison alternates the sides' order round by round and reports
// the median of the per-round ratios. With -cpuprofile DIR it afterwards
// profiles one more run of each side of metricsender (the in-process path
// here, the CLI through this binary acting as metricsender) into DIR.
//
// The exchange (default "is") is shared with anything else on the broker:
// run it alone, or give -exchange another name.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/labsea/metricsender/app"
	"github.com/labsea/metricsender/generator"
)

const (
	sendDeployments = 1000
	sendTicks       = 100
)

type options struct {
	uri          string
	exchange     string
	bin          string
	rounds       int
	rows         map[string]bool
	ticks100k    int
	ticks150k    int
	interval150k time.Duration
	profileDir   string
	bind         string
	shard        int
	cliEnv       []string
}

func main() {
	// "bench cli ARGS" is metricsender itself (app.Run), under a CPU
	// profile when BENCH_CPUPROFILE names a file: how -cpuprofile profiles
	// the CLI.
	if len(os.Args) > 1 && os.Args[1] == "cli" {
		os.Exit(cliMain(os.Args[2:]))
	}
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, opts, logger); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	var rows string
	fs.StringVar(&o.uri, "uri", cmp.Or(os.Getenv("AMQP_URI"), "amqp://guest:guest@127.0.0.1:5672/"), "broker URI")
	fs.StringVar(&o.exchange, "exchange", "is", "exchange every side publishes to")
	fs.StringVar(&o.bin, "bin", "", "metricsender binary (empty: go build the module into a temp dir)")
	fs.IntVar(&o.rounds, "rounds", 5, "A/B rounds per comparison")
	fs.StringVar(&rows, "rows", "send-off,send-confirm,receive,bridge,scale20k,scale100k,scale100k-expr,scale150k,shards,live", "rows to measure")
	fs.IntVar(&o.ticks100k, "ticks100k", 6, "ticks of the 100k-deployment row (10 s each)")
	fs.IntVar(&o.ticks150k, "ticks150k", 4, "ticks of the 150k-deployment rows (scale150k, shards)")
	fs.DurationVar(&o.interval150k, "interval150k", 20*time.Second, "interval of the 150k-deployment rows")
	fs.StringVar(&o.profileDir, "cpuprofile", "", "directory for CPU profiles of metricsender's sides (empty: none)")
	fs.StringVar(&o.bind, "bind", "pattern", "send rows' queue binding: pattern (Metrics.*, as the receiver binds), exact (the 1000 routing keys) or none (unroutable, returned)")
	fs.IntVar(&o.shard, "shard", 0, "events per router message of the in-process send path (0: the codec's default, as the CLI)")
	fs.Func("cli-env", "KEY=VALUE added to the environment of every metricsender run (repeatable), e.g. GOGC=400", func(v string) error {
		if !strings.Contains(v, "=") {
			return errors.New("want KEY=VALUE")
		}
		o.cliEnv = append(o.cliEnv, v)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch o.bind {
	case "exact", "pattern", "none":
	default:
		return o, fmt.Errorf("-bind %q: want exact, pattern or none", o.bind)
	}
	if o.rounds < 1 {
		return o, errors.New("-rounds: must be >= 1")
	}
	o.rows = map[string]bool{}
	for _, r := range strings.Split(rows, ",") {
		switch r = strings.TrimSpace(r); r {
		case "send-off", "send-confirm", "receive", "bridge", "scale20k", "scale100k", "scale100k-expr", "scale150k", "shards", "live":
			o.rows[r] = true
		case "":
		default:
			return o, fmt.Errorf("-rows: unknown row %q", r)
		}
	}
	return o, nil
}

func run(ctx context.Context, opts options, logger *slog.Logger) error {
	dir, err := os.MkdirTemp("", "metricsender-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	if opts.bin == "" {
		opts.bin = filepath.Join(dir, "metricsender")
		logger.Info("building metricsender", "out", opts.bin)
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", opts.bin, "github.com/labsea/metricsender").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %w\n%s", err, out)
		}
	}
	br, err := dialBroker(opts.uri, opts.exchange)
	if err != nil {
		return err
	}
	defer br.close()
	b := &bench{opts: opts, br: br, log: logger, dir: dir}
	if b.cfgPath, err = writeConfig(dir, sendDeployments); err != nil {
		return err
	}
	if b.cfg, err = generator.Load(b.cfgPath); err != nil {
		return fmt.Errorf("load config: %w", err)
	}
	if b.msgs, err = plainMessages(b.cfg, sendTicks); err != nil {
		return err
	}
	if br.beamPID == 0 {
		logger.Warn("broker process (beam.smp) not found: broker CPU not reported")
	}
	var t table
	for _, confirm := range []bool{false, true} {
		if !opts.rows["send-"+modeName(confirm)] {
			continue
		}
		s, err := b.sendRow(ctx, confirm)
		if err != nil {
			return err
		}
		t.addSend(confirm, s)
	}
	if opts.rows["receive"] {
		plain, cli, err := b.receiveRow(ctx)
		if err != nil {
			return err
		}
		t.addReceive(plain, cli)
	}
	if opts.rows["bridge"] {
		with, without, err := b.bridgeRow(ctx)
		if err != nil {
			t.addFailure("send path with the metrics API bridge consuming", err)
		} else {
			t.addBridge(with, without)
		}
	}
	// A big-cluster run that fails (a config the loader refuses, say) is a
	// result too: it goes in the table and the other rows still run.
	if opts.rows["scale20k"] {
		var runs []scaleRun
		for range min(opts.rounds, 3) {
			r, err := b.scaleRow(ctx, 20_000, time.Second, 5, []string{opts.bin}, nil)
			if err != nil {
				t.addFailure("20,000 deployments, 1 s, confirms on, 5 ticks", err)
				break
			}
			runs = append(runs, r)
		}
		if len(runs) > 0 {
			t.addScale20k(runs)
		}
	}
	var plain *scaleRun
	if opts.rows["scale100k"] {
		r, err := b.scaleRow(ctx, 100_000, 10*time.Second, opts.ticks100k, []string{opts.bin}, nil)
		if err != nil {
			t.addFailure("100,000 deployments, 10 s interval, confirms on", err)
		} else {
			t.addScale100k(r)
			plain = &r
		}
	}
	if opts.rows["scale100k-expr"] {
		r, err := b.scaleRowWith(ctx, 100_000, exprCPU, 10*time.Second, opts.ticks100k, []string{opts.bin}, nil)
		if err != nil {
			t.addFailure("100,000 deployments with an expr metric", err)
		} else {
			t.addScale100kExpr(r, plain)
		}
	}
	if opts.rows["scale150k"] {
		r, err := b.scaleRow(ctx, scale150k, opts.interval150k, opts.ticks150k, []string{opts.bin}, nil)
		if err != nil {
			t.addFailure("150,000 deployments, confirms on", err)
		} else {
			t.addScale150k(r, opts.interval150k)
		}
	}
	if opts.rows["shards"] {
		runs, err := b.scaleShards(ctx, scale150k, shardsN, opts.interval150k, opts.ticks150k)
		if err != nil {
			t.addFailure(fmt.Sprintf("%d shards of 150,000 deployments", shardsN), err)
		} else {
			t.addShards(runs, scale150k, opts.interval150k)
		}
	}
	if opts.rows["live"] {
		r, err := b.liveRow(ctx)
		if err != nil {
			t.addFailure("live page", err)
		} else {
			t.addLive(r)
		}
	}
	fmt.Print(t.markdown(opts, br))
	if opts.profileDir != "" {
		return b.profile(ctx)
	}
	return nil
}

// profile runs each of metricsender's sides once more under a CPU profile.
func (b *bench) profile(ctx context.Context) error {
	dir := b.opts.profileDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("profile dir: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	self := []string{exe, "cli"}
	for _, confirm := range []bool{false, true} {
		mode := modeName(confirm)
		if !b.opts.rows["send-"+mode] {
			continue
		}
		queue := "bench.prof." + mode
		if err := b.br.declareQueue(queue, b.recvKeys(), nil); err != nil {
			return err
		}
		err := profileSelf(filepath.Join(dir, "path-send-"+mode+".pprof"), func() error {
			_, err := b.sendSide(ctx, "path", confirm, nil, nil)
			return err
		})
		if err == nil {
			_ = b.br.purge(queue)
			_, err = b.sendSide(ctx, "cli", confirm, self, []string{"BENCH_CPUPROFILE=" + filepath.Join(dir, "cli-send-"+mode+".pprof")})
		}
		_ = b.br.deleteQueue(queue)
		if err != nil {
			return fmt.Errorf("profile send %s: %w", mode, err)
		}
	}
	if b.opts.rows["receive"] {
		queue := "bench.prof.recv"
		if err := b.br.declareQueue(queue, b.recvKeys(), nil); err != nil {
			return err
		}
		err := prefill(b.br, queue, b.msgs)
		if err == nil {
			_, err = b.receiveSide(ctx, "cli", queue, self, []string{"BENCH_CPUPROFILE=" + filepath.Join(dir, "cli-receive.pprof")})
		}
		_ = b.br.deleteQueue(queue)
		if err != nil {
			return fmt.Errorf("profile receive: %w", err)
		}
	}
	if b.opts.rows["scale20k"] {
		if _, err := b.scaleRow(ctx, 20_000, time.Second, 5, self, []string{"BENCH_CPUPROFILE=" + filepath.Join(dir, "cli-scale20k.pprof")}); err != nil {
			return fmt.Errorf("profile scale20k: %w", err)
		}
	}
	b.log.Info("profiles written", "dir", dir, "read", "go tool pprof -top "+filepath.Join(dir, "<file>.pprof"))
	return nil
}

// cliMain runs metricsender's command line, under a CPU profile when
// BENCH_CPUPROFILE names a file, writing an allocation profile at exit when
// BENCH_MEMPROFILE does.
func cliMain(args []string) int {
	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench cli:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench cli:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if path := os.Getenv("BENCH_HEAPPROFILE"); path != "" {
		// The live heap at one moment of the run (-sample_index=inuse_space),
		// BENCH_HEAPPROFILE_AT after the start: what a steady state holds.
		at, err := time.ParseDuration(os.Getenv("BENCH_HEAPPROFILE_AT"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench cli: BENCH_HEAPPROFILE_AT:", err)
			return 1
		}
		time.AfterFunc(at, func() {
			if f, err := os.Create(path); err == nil {
				runtime.GC()
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				_ = f.Close()
			}
		})
	}
	code := app.Run(append([]string{"metricsender"}, args...), os.Stdout, os.Stderr)
	if path := os.Getenv("BENCH_MEMPROFILE"); path != "" {
		// Every allocation of the run by site (-sample_index=alloc_space):
		// what drives the peak RSS.
		if f, err := os.Create(path); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			_ = f.Close()
		}
	}
	return code
}
