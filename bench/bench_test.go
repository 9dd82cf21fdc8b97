package main

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// BenchmarkModelNext is the value choice of one metric per tick, for the
// models a config can name. ns/op is per value.
func BenchmarkModelNext(b *testing.B) {
	cases := []struct{ name, spec string }{
		{name: "list", spec: `[0.5, 0.8, 1.0]`},
		{name: "weighted", spec: `{choice: ["100m", "500m", "1"], weights: [5, 3, 1]}`},
		{name: "uniform", spec: `{uniform: {min: "100m", max: "2", step: "50m"}}`},
		{name: "walk", spec: `{walk: {start: "1Gi", min: "128Mi", max: "4Gi", step: "64Mi"}}`},
		{name: "sine", spec: `{sine: {min: "10", max: "110", period: "10m"}}`},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			m, _, err := generator.ParseModel([]byte(bc.spec), "")
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			at := time.Duration(0)
			for b.Loop() {
				_ = m.Next(r, at)
				at += time.Second
			}
		})
	}
}

// discardPublisher is a message.Publisher that counts and drops.
type discardPublisher struct{ n int }

func (p *discardPublisher) Publish(_ string, msgs ...*message.Message) error {
	p.n += len(msgs)
	return nil
}

func (p *discardPublisher) Close() error { return nil }

// BenchmarkRouterHop prices the watermill router hop of the send path
// without a broker: one op is one tick of 1000 deployments emitted through
// codec.Source -> router -> codec.Middleware -> a publisher that drops, as
// app/send.go wires it ("router"), against calling the middleware on the
// same shards directly ("direct"). ns/event is the cost per message.
func BenchmarkRouterHop(b *testing.B) {
	cfg := benchConfig(1000)
	routed := func(b *testing.B, publishInMiddleware bool) {
		source := codec.NewSource(0)
		pub := &discardPublisher{}
		router, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
		if err != nil {
			b.Fatal(err)
		}
		if publishInMiddleware {
			router.AddMiddleware(codec.PublishMiddleware(pub))
		}
		router.AddMiddleware(codec.Middleware())
		router.AddHandler("publish", "events", source, codec.TopicPrefix+"*", pub,
			func(msg *message.Message) ([]*message.Message, error) { return []*message.Message{msg}, nil })
		go func() { _ = router.Run(context.Background()) }()
		b.Cleanup(func() { _ = source.Close(); _ = router.Close() })
		<-router.Running()
		events := tickOf(b, cfg)
		b.ReportAllocs()
		for b.Loop() {
			if err := source.Emit(context.Background(), events); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
	}
	b.Run("router", func(b *testing.B) { routed(b, false) })
	b.Run("router-publish-in-middleware", func(b *testing.B) { routed(b, true) })
	b.Run("direct", func(b *testing.B) {
		h := codec.Middleware()(func(msg *message.Message) ([]*message.Message, error) {
			return []*message.Message{msg}, nil
		})
		pub := &discardPublisher{}
		events := tickOf(b, cfg)
		b.ReportAllocs()
		for b.Loop() {
			for start := 0; start < len(events); start += codec.DefaultShardSize {
				out, err := h(codec.NewEventsMessage(events[start:min(start+codec.DefaultShardSize, len(events))]))
				if err != nil {
					b.Fatal(err)
				}
				_ = pub.Publish("", out...)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
	})
}

// benchConfig is n deployments with the example's two list metrics.
func benchConfig(n int) *generator.Config {
	cfg := &generator.Config{Interval: time.Second, Deployments: make([]generator.Deployment, n)}
	cpu := &generator.Choice{Values: []generator.Value{{Text: "0.5"}, {Text: "0.8"}, {Text: "1.0"}}}
	mem := &generator.Choice{Values: []generator.Value{{Text: "256"}, {Text: "512"}, {Text: "1024"}}}
	for i := range cfg.Deployments {
		cfg.Deployments[i] = generator.Deployment{Name: appName(i), Metrics: []generator.MetricSpec{
			{Name: "cpu", Model: cpu}, {Name: "memory", Model: mem},
		}}
	}
	return cfg
}

// tickOf returns a copy of the first tick of cfg.
func tickOf(tb testing.TB, cfg *generator.Config) []generator.Event {
	tb.Helper()
	s, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Run: benchRun, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	bt, ok := s.Next()
	if !ok {
		tb.Fatal("empty schedule")
	}
	events := make([]generator.Event, len(bt.Events))
	for i, ev := range bt.Events {
		ev.Metrics = append([]generator.Metric(nil), ev.Metrics...)
		events[i] = ev
	}
	return events
}

func TestPlainMessagesMatchTheCodec(t *testing.T) {
	cases := []struct {
		name  string
		deps  int
		ticks int
	}{
		{name: "one tick", deps: 3, ticks: 1},
		{name: "several ticks", deps: 10, ticks: 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs, err := plainMessages(benchConfig(tc.deps), tc.ticks)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != tc.deps*tc.ticks {
				t.Fatalf("got %d messages, want %d", len(msgs), tc.deps*tc.ticks)
			}
			for i, m := range msgs {
				app := appName(i % tc.deps)
				if m.key != codec.Topic(app) || m.pub.ReplyTo != app {
					t.Fatalf("message %d: key %q reply_to %q, want %q and %q", i, m.key, m.pub.ReplyTo, codec.Topic(app), app)
				}
				if len(m.pub.Headers) != 2 || m.pub.Headers["cpu"] == nil || m.pub.Headers["memory"] == nil {
					t.Fatalf("message %d: headers %v, want cpu and memory", i, m.pub.Headers)
				}
				if m.pub.ContentType != codec.ContentTypeJSON || m.pub.CorrelationId == "" || len(m.pub.Body) == 0 {
					t.Fatalf("message %d: %+v", i, m.pub)
				}
			}
		})
	}
}

func TestStats(t *testing.T) {
	cases := []struct {
		name     string
		xs       []float64
		median   float64
		p99, p50 float64
	}{
		{name: "one", xs: []float64{3}, median: 3, p99: 3, p50: 3},
		{name: "odd", xs: []float64{5, 1, 3}, median: 3, p99: 5, p50: 3},
		{name: "even", xs: []float64{4, 1, 3, 2}, median: 2.5, p99: 4, p50: 2},
		{name: "hundred", xs: func() []float64 {
			xs := make([]float64, 100)
			for i := range xs {
				xs[i] = float64(100 - i)
			}
			return xs
		}(), median: 50.5, p99: 99, p50: 50},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := median(tc.xs); got != tc.median {
				t.Errorf("median = %v, want %v", got, tc.median)
			}
			if got := percentile(tc.xs, 99); got != tc.p99 {
				t.Errorf("p99 = %v, want %v", got, tc.p99)
			}
			if got := percentile(tc.xs, 50); got != tc.p50 {
				t.Errorf("p50 = %v, want %v", got, tc.p50)
			}
		})
	}
}

func TestTickSpan(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	line := func(at time.Duration, took time.Duration, n int) logLine {
		return logLine{Time: t0.Add(at), Msg: "tick", Took: took, Messages: n}
	}
	cases := []struct {
		name  string
		logs  []logLine
		start time.Time
		span  time.Duration
		count int
	}{
		{name: "none", logs: []logLine{{Msg: "starting"}}},
		{name: "one tick", logs: []logLine{line(100*time.Millisecond, 40*time.Millisecond, 1000)},
			start: t0.Add(60 * time.Millisecond), span: 40 * time.Millisecond, count: 1000},
		{name: "two ticks and others", logs: []logLine{{Msg: "starting", Time: t0},
			line(100*time.Millisecond, 40*time.Millisecond, 1000), line(150*time.Millisecond, 45*time.Millisecond, 1000),
			{Msg: "stopped", Time: t0.Add(time.Second)}},
			start: t0.Add(60 * time.Millisecond), span: 90 * time.Millisecond, count: 2000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start, span, n := cliRun{logs: tc.logs}.tickSpan()
			if !start.Equal(tc.start) || span != tc.span || n != tc.count {
				t.Errorf("tickSpan = %v, %v, %d; want %v, %v, %d", start, span, n, tc.start, tc.span, tc.count)
			}
		})
	}
}

func TestRate(t *testing.T) {
	cases := []struct {
		name string
		s    sample
		want string
	}{
		{name: "two seconds", s: sample{msgs: 100_000, dur: 2 * time.Second}, want: "50.0k msg/s"},
		{name: "not measured", s: sample{msgs: 100_000}, want: "0.0k msg/s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmtRate(tc.s.rate()); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestShardsRow(t *testing.T) {
	tick := func(msgs int, lag time.Duration) logLine { return logLine{Msg: "tick", Messages: msgs, Lag: lag} }
	runs := []scaleRun{
		{run: cliRun{maxRSS: 100 << 20}, ticks: []logLine{tick(6, 0), tick(6, 10*time.Millisecond)}},
		{run: cliRun{maxRSS: 120 << 20}, ticks: []logLine{tick(4, 0), tick(4, 20*time.Millisecond)}},
	}
	var tb table
	tb.addShards(runs, 10, 20*time.Second)
	row := tb.rows[0]
	for _, want := range []string{"2 shards x ~5 deployments (6, 4)", "20 msgs in 2 ticks (want 20)", "peak RSS per shard 120 MiB", "| yes |"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
	tb = table{}
	tb.addShards(runs[:1], 10, 20*time.Second)
	if strings.Contains(tb.rows[0], "| yes |") {
		t.Errorf("a shard short of the totals passed: %q", tb.rows[0])
	}
}
