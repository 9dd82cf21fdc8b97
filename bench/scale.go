package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Issue 15's rows: the largest Kubernetes cluster (150,000 pods, one app
// each) in one process, and split over shards through one broker.
const (
	scale150k = 150_000
	shardsN   = 4
)

// scaleShards runs N `send --shard i/N` processes at once on one config of
// n deployments (n/N each, about), through one broker, and returns each
// shard's run in shard order.
func (b *bench) scaleShards(ctx context.Context, n, shards int, interval time.Duration, ticks int) ([]scaleRun, error) {
	path, err := writeConfig(b.dir, n)
	if err != nil {
		return nil, err
	}
	cleanup, err := b.scaleQueue()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	runs := make([]scaleRun, shards)
	errs := make([]error, shards)
	var wg sync.WaitGroup
	for i := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shard := strconv.Itoa(i) + "/" + strconv.Itoa(shards)
			r, err := b.scaleCLI(ctx, path, interval, ticks, []string{b.opts.bin}, nil, "--shard", shard)
			if err != nil {
				errs[i] = fmt.Errorf("shard %s: %w", shard, err)
				return
			}
			runs[i] = scaleRun{run: r, ticks: r.ticks()}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, r := range runs {
		b.log.Info("shard", "shard", fmt.Sprintf("%d/%d", i, shards), "deployments", r.deployments(),
			"wall", r.run.wall.Round(time.Millisecond), "max_rss_mib", fmt.Sprintf("%.0f", mib(r.run.maxRSS)),
			"ticks", len(r.ticks), "cpu", r.run.cpu.Round(time.Millisecond))
	}
	return runs, nil
}

// deployments is the largest tick of a run: its deployments.
func (r scaleRun) deployments() int {
	n := 0
	for _, t := range r.ticks {
		n = max(n, t.Messages)
	}
	return n
}

// lagStats are the p99 tick lag, the longest tick and the messages of runs.
func lagStats(runs ...scaleRun) (p99 float64, took time.Duration, msgs, ticks int) {
	var lags []float64
	for _, r := range runs {
		for _, l := range r.ticks {
			lags = append(lags, l.Lag.Seconds())
			took = max(took, l.Took)
			msgs += l.Messages
		}
		ticks = max(ticks, len(r.ticks))
	}
	return percentile(lags, 99), took, msgs, ticks
}

// addScale150k: 150,000 deployments in one process; issue 15's targets.
func (t *table) addScale150k(r scaleRun, interval time.Duration) {
	p99, took, msgs, ticks := lagStats(r)
	ok := p99 < 1 && mib(r.run.maxRSS) < 256 && msgs == scale150k*ticks
	t.rows = append(t.rows, fmt.Sprintf("| 150,000 deployments, %s interval, confirms on | p99 tick lag < 1 s; RSS < 256 MiB | p99 lag %.3f s over %d ticks (each tick took <= %.2f s), peak RSS %.0f MiB, %d msgs | - | - | %s |",
		interval, p99, ticks, took.Seconds(), mib(r.run.maxRSS), msgs, verdict(ok)))
	if msgs > 0 {
		t.cpu = append(t.cpu, fmt.Sprintf("| scale 150k: CLI | %d msgs in %d ticks | %.2f | - | %.0f MiB |",
			msgs, ticks, float64(r.run.cpu.Microseconds())/float64(msgs), mib(r.run.maxRSS)))
	}
}

// addShards: the same 150,000 deployments as shardsN processes through one
// broker: the same totals, each shard's lag and memory.
func (t *table) addShards(runs []scaleRun, n int, interval time.Duration) {
	p99, took, msgs, ticks := lagStats(runs...)
	var peak int64
	var cpu time.Duration
	per := ""
	for i, r := range runs {
		peak = max(peak, r.run.maxRSS)
		cpu += r.run.cpu
		if i > 0 {
			per += ", "
		}
		per += strconv.Itoa(r.deployments())
	}
	ok := p99 < 1 && msgs == n*ticks // the target; peak RSS is reported beside it
	t.rows = append(t.rows, fmt.Sprintf("| %d shards x ~%d deployments (%s), %s interval, one broker, confirms on | the same totals; p99 tick lag < 1 s | %d msgs in %d ticks (want %d), p99 lag %.3f s (each tick took <= %.2f s), peak RSS per shard %.0f MiB | - | - | %s |",
		len(runs), n/len(runs), per, interval, msgs, ticks, n*ticks, p99, took.Seconds(), mib(peak), verdict(ok)))
	if msgs > 0 {
		t.cpu = append(t.cpu, fmt.Sprintf("| %d shards: CLI (sum of the processes) | %d msgs in %d ticks | %.2f | - | %.0f MiB each at most |",
			len(runs), msgs, ticks, float64(cpu.Microseconds())/float64(msgs), mib(peak)))
	}
}
