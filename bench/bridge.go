package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/latest"
	"github.com/labsea/metricsender/transport"
)

// The bridge row: what the metrics API bridge's consumption costs the
// sender. 10,000 deployments, bridgeTicks ticks as fast as the send path
// goes (confirms on), into a queue bound with Metrics.* (filled, then
// purged); on the "bridge" side, the bridge's store also consumes the
// same stream from a queue of its own (package latest over the amqp
// transport, as metricsender-metrics-api does) while a poller reads every
// app's cpu from it at the HPA's rate (each app once per 15 s). The
// bridge's HTTPS layer is not in this process: it serves reads, which the
// poller stands for, and costs the sender nothing else.
const (
	bridgeDeployments = 10_000
	bridgeTicks       = 10
	hpaSyncPeriod     = 15 * time.Second
)

// bridgeRow alternates the send path alone and with the bridge consuming,
// rounds times.
func (b *bench) bridgeRow(ctx context.Context) (with, without series, err error) {
	path, err := writeConfig(b.dir, bridgeDeployments)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := generator.Load(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load config: %w", err)
	}
	queue := "bench.bridge." + strconv.Itoa(os.Getpid())
	if err := b.br.declareQueue(queue, []string{codec.TopicPrefix + "*"}, nil); err != nil {
		return nil, nil, err
	}
	defer func() { _ = b.br.deleteQueue(queue) }()
	want := bridgeDeployments * bridgeTicks
	for r := range b.opts.rounds {
		for i := range 2 {
			bridge := (i == 0) == (r%2 == 0)
			s, values, err := b.bridgeSide(ctx, cfg, bridge)
			if err != nil {
				return with, without, fmt.Errorf("bridge row round %d: %w", r+1, err)
			}
			n, err := b.br.settle(queue, want)
			if err != nil {
				return with, without, err
			}
			if err := b.br.purge(queue); err != nil {
				return with, without, err
			}
			b.log.Info("bridge", "round", r+1, "bridge", bridge, "rate", fmtRate(s.rate()), "in_queue", n, "bridge_values", values)
			if n != want || (bridge && values != bridgeDeployments*2) {
				return with, without, fmt.Errorf("bridge row round %d: queue holds %d (want %d), bridge store %d values (want %d)", r+1, n, want, values, bridgeDeployments*2)
			}
			if bridge {
				with = append(with, s)
			} else {
				without = append(without, s)
			}
		}
	}
	return with, without, nil
}

// bridgeSide runs the send path once, with the bridge's store consuming
// and being polled when bridge is set; it returns the sample and the
// values the store held at the end (0 without the bridge).
func (b *bench) bridgeSide(ctx context.Context, cfg *generator.Config, bridge bool) (sample, int, error) {
	var (
		store   *latest.Store
		handler *latest.Handler
		stop    = func() {}
	)
	if bridge {
		var err error
		if store, err = latest.New(latest.Config{}); err != nil {
			return sample{}, 0, err
		}
		handler = latest.NewHandler(store, b.log)
		cctx, cancel := context.WithCancel(ctx)
		pair, err := transport.New(cctx, "amqp", transport.Options{URI: b.opts.uri, Exchange: b.opts.exchange,
			Topics: []string{codec.TopicPrefix + "*"}, ReceiveOnly: true}, nil)
		if err != nil {
			cancel()
			return sample{}, 0, fmt.Errorf("bridge: connect: %w", err)
		}
		msgs, err := pair.Subscriber.Subscribe(cctx, codec.TopicPrefix+"*")
		if err != nil {
			cancel()
			_ = pair.Close()
			return sample{}, 0, fmt.Errorf("bridge: subscribe: %w", err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); handler.Consume(msgs) }()
		go func() { defer wg.Done(); poll(cctx, store) }()
		stop = func() { cancel(); wg.Wait(); _ = pair.Close() }
	}
	cpu0, br0 := selfCPU(), b.br.cpu()
	start, d, n, err := pathSend(ctx, b.opts.uri, b.opts.exchange, cfg, bridgeTicks, b.opts.shard, true, nil)
	s := sample{msgs: n, start: start, dur: d, cpu: selfCPU() - cpu0, broker: b.br.cpu() - br0}
	values := 0
	if bridge {
		// The bridge's queue drains after the last confirm: wait for it,
		// so the next side starts on a quiet broker.
		for deadline := time.Now().Add(time.Minute); handler.Counts().Received < int64(n) && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		values = store.Stats().Values
	}
	stop()
	return s, values, err
}

// poll reads every app's cpu from store once per hpaSyncPeriod, spread
// evenly, as an HPA per app would, until ctx ends.
func poll(ctx context.Context, store *latest.Store) {
	tick := time.NewTicker(hpaSyncPeriod / bridgeDeployments)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			store.Get("cpu", "default", appName(i%bridgeDeployments))
		}
	}
}

// addBridge is the bridge row: the send path's rate with the bridge
// consuming against without it.
func (t *table) addBridge(with, without series) {
	t.compare(fmt.Sprintf("send path, %d deployments x %d ticks, confirms on, with the metrics API bridge's store consuming the same stream and polled for every app every 15 s (base column: the same send path without it)",
		bridgeDeployments, bridgeTicks), 0.95, with, without, "")
	t.cpuRow("send path with the bridge consuming (client CPU includes the bridge's)", with)
	t.cpuRow("send path without the bridge", without)
}
