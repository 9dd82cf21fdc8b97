package generator_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// choice is a list model, as the loader builds for `cpu: [a, b, c]`.
func choice(texts ...string) generator.Model {
	c := &generator.Choice{}
	for _, s := range texts {
		c.Values = append(c.Values, generator.Value{Text: s})
	}
	return c
}

// atModel sends the elapsed time it is called with, to check the grid.
type atModel struct{}

func (atModel) Next(_ *rand.Rand, at time.Duration) generator.Value {
	return generator.Value{Text: at.String(), Num: at.Seconds(), HasNum: true}
}

// constModel always sends its text.
type constModel string

func (c constModel) Next(*rand.Rand, time.Duration) generator.Value {
	return generator.Value{Text: string(c)}
}

// dep builds a deployment with metrics given as name, model pairs.
func dep(name string, interval time.Duration, metrics ...any) generator.Deployment {
	d := generator.Deployment{Name: name, Interval: interval}
	for i := 0; i < len(metrics); i += 2 {
		d.Metrics = append(d.Metrics, generator.MetricSpec{Name: metrics[i].(string), Model: metrics[i+1].(generator.Model)})
	}
	return d
}

func newSchedule(t *testing.T, cfg *generator.Config, opts generator.ScheduleOptions) *generator.Schedule {
	t.Helper()
	if opts.Start.IsZero() {
		opts.Start = t0
	}
	s, err := generator.NewSchedule(cfg, opts)
	if err != nil {
		t.Fatalf("NewSchedule: %v", err)
	}
	return s
}

// tick is a batch reduced to what grid tests compare: "at: app app ...".
func tick(b generator.Batch) string {
	apps := make([]string, len(b.Events))
	for i, ev := range b.Events {
		apps[i] = ev.App
	}
	return fmt.Sprintf("%v: %s", b.At, strings.Join(apps, " "))
}

// ticks takes up to n batches with Next.
func ticks(t *testing.T, s *generator.Schedule, n int) []string {
	t.Helper()
	var out []string
	for range n {
		b, ok := s.Next()
		if !ok {
			break
		}
		out = append(out, tick(b))
	}
	return out
}

func TestScheduleGrid(t *testing.T) {
	m := []any{"cpu", choice("1")}
	tests := []struct {
		name string
		cfg  generator.Config
		opts generator.ScheduleOptions
		n    int
		want []string
	}{
		{
			name: "one interval, all in one batch per tick",
			cfg:  generator.Config{Interval: 10 * time.Second, Deployments: []generator.Deployment{dep("a", 0, m...), dep("b", 0, m...), dep("c", 0, m...)}},
			n:    3,
			want: []string{"0s: a b c", "10s: a b c", "20s: a b c"},
		},
		{
			name: "per-deployment intervals interleave, same instants merge in config order",
			cfg:  generator.Config{Interval: 10 * time.Second, Deployments: []generator.Deployment{dep("slow", 15*time.Second, m...), dep("fast", 0, m...)}},
			n:    6,
			want: []string{"0s: slow fast", "10s: fast", "15s: slow", "20s: fast", "30s: slow fast", "40s: fast"},
		},
		{
			name: "zero config interval means the default",
			cfg:  generator.Config{Deployments: []generator.Deployment{dep("a", 0, m...)}},
			n:    2,
			want: []string{"0s: a", "1m0s: a"},
		},
		{
			name: "options interval overrides the default only",
			cfg:  generator.Config{Interval: time.Minute, Deployments: []generator.Deployment{dep("a", 0, m...), dep("own", 7*time.Second, m...)}},
			opts: generator.ScheduleOptions{Interval: 5 * time.Second},
			n:    5,
			want: []string{"0s: a own", "5s: a", "7s: own", "10s: a", "14s: own"},
		},
		{
			name: "spread phases i*interval/n",
			cfg:  generator.Config{Interval: 8 * time.Second, Spread: true, Deployments: []generator.Deployment{dep("a", 0, m...), dep("b", 0, m...), dep("c", 0, m...), dep("d", 0, m...)}},
			n:    6,
			want: []string{"0s: a", "2s: b", "4s: c", "6s: d", "8s: a", "10s: b"},
		},
		{
			name: "spread counts each interval's deployments apart",
			cfg:  generator.Config{Interval: 6 * time.Second, Spread: true, Deployments: []generator.Deployment{dep("a", 0, m...), dep("x", 4*time.Second, m...), dep("b", 0, m...), dep("c", 0, m...)}},
			n:    6,
			want: []string{"0s: a x", "2s: b", "4s: x c", "6s: a", "8s: x b", "10s: c"},
		},
		{
			name: "spread over a non-divisible interval stays exact",
			cfg:  generator.Config{Interval: 10 * time.Nanosecond, Spread: true, Deployments: []generator.Deployment{dep("a", 0, m...), dep("b", 0, m...), dep("c", 0, m...)}},
			n:    4,
			want: []string{"0s: a", "3ns: b", "6ns: c", "10ns: a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSchedule(t, &tt.cfg, tt.opts)
			if got := ticks(t, s, tt.n); !slices.Equal(got, tt.want) {
				t.Errorf("ticks:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestScheduleCountAndSeq(t *testing.T) {
	tests := []struct {
		name  string
		count int
		cfg   generator.Config
	}{
		{"one interval", 3, generator.Config{Interval: time.Second, Deployments: []generator.Deployment{dep("a", 0, "cpu", choice("1")), dep("b", 0, "cpu", choice("1"))}}},
		{"mixed intervals", 4, generator.Config{Interval: time.Second, Deployments: []generator.Deployment{dep("a", 0, "cpu", choice("1")), dep("b", 7*time.Second, "cpu", choice("1")), dep("c", 3*time.Second, "cpu", choice("1"))}}},
		{"spread", 2, generator.Config{Interval: time.Second, Spread: true, Deployments: []generator.Deployment{dep("a", 0, "cpu", choice("1")), dep("b", 0, "cpu", choice("1"))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSchedule(t, &tt.cfg, generator.ScheduleOptions{Count: tt.count})
			seqs := map[string][]uint64{}
			last := time.Duration(-1)
			for {
				b, ok := s.Next()
				if !ok {
					break
				}
				if b.At <= last {
					t.Fatalf("batch at %v after %v: not in time order", b.At, last)
				}
				last = b.At
				for _, ev := range b.Events {
					seqs[ev.App] = append(seqs[ev.App], ev.Seq)
				}
			}
			for _, d := range tt.cfg.Deployments {
				want := make([]uint64, tt.count)
				for i := range want {
					want[i] = uint64(i + 1)
				}
				if got := seqs[d.Name]; !slices.Equal(got, want) {
					t.Errorf("%s seqs = %v, want %v", d.Name, got, want)
				}
			}
			if _, ok := s.Next(); ok {
				t.Error("Next after the end returned a batch")
			}
		})
	}
}

func TestScheduleEvent(t *testing.T) {
	cfg := &generator.Config{Interval: 10 * time.Second, Deployments: []generator.Deployment{
		dep("web", 0, "zeta", choice("z"), "at", atModel{}, "cpu", choice("100m", "200m", "300m")),
	}}
	s := newSchedule(t, cfg, generator.ScheduleOptions{Run: "run-1", Count: 3})
	for k := range 3 {
		t.Run(fmt.Sprintf("tick %d", k), func(t *testing.T) {
			b, ok := s.Next()
			if !ok || len(b.Events) != 1 {
				t.Fatalf("Next = %d events, %v", len(b.Events), ok)
			}
			at := time.Duration(k) * 10 * time.Second
			ev := b.Events[0]
			if b.At != at || !ev.Time.Equal(t0.Add(at)) || ev.App != "web" || ev.Run != "run-1" || ev.Seq != uint64(k+1) {
				t.Errorf("batch at %v, event %+v", b.At, ev)
			}
			var names []string
			for _, m := range ev.Metrics {
				names = append(names, m.Name)
			}
			if want := []string{"at", "cpu", "zeta"}; !slices.Equal(names, want) {
				t.Errorf("metrics %v, want sorted %v", names, want)
			}
			if got := ev.Metrics[0].Value.Text; got != at.String() {
				t.Errorf("model called with at %s, want %s", got, at)
			}
			if cpu := ev.Metrics[1].Value.Text; !slices.Contains([]string{"100m", "200m", "300m"}, cpu) {
				t.Errorf("cpu %q not from its list", cpu)
			}
		})
	}
}

// values runs n batches and returns app -> "metric=value" lines.
func values(t *testing.T, cfg *generator.Config, seed int64, n int) map[string][]string {
	t.Helper()
	s := newSchedule(t, cfg, generator.ScheduleOptions{Seed: seed, Count: n})
	out := map[string][]string{}
	for {
		b, ok := s.Next()
		if !ok {
			return out
		}
		for _, ev := range b.Events {
			for _, m := range ev.Metrics {
				out[ev.App] = append(out[ev.App], m.Name+"="+m.Value.Text)
			}
		}
	}
}

func TestScheduleDeterminism(t *testing.T) {
	list := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	base := func(extra ...generator.Deployment) *generator.Config {
		cfg := &generator.Config{Interval: time.Second, Deployments: []generator.Deployment{
			dep("web", 0, "cpu", choice(list...), "mem", choice(list...)),
			dep("api", 2*time.Second, "cpu", choice(list...)),
		}}
		cfg.Deployments = append(cfg.Deployments, extra...)
		return cfg
	}
	ref := values(t, base(), 7, 20)
	tests := []struct {
		name     string
		cfg      *generator.Config
		seed     int64
		wantSame bool
	}{
		{"same seed and config", base(), 7, true},
		{"added deployment leaves others alone", base(dep("new", 0, "cpu", choice(list...))), 7, true},
		{"added deployment in front leaves others alone", &generator.Config{Interval: time.Second, Deployments: append([]generator.Deployment{dep("first", 0, "cpu", choice(list...))}, base().Deployments...)}, 7, true},
		{"other seed", base(), 8, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := values(t, tt.cfg, tt.seed, 20)
			for _, app := range []string{"web", "api"} {
				if same := slices.Equal(got[app], ref[app]); same != tt.wantSame {
					t.Errorf("%s: same = %v, want %v\n got %v\nwant %v", app, same, tt.wantSame, got[app], ref[app])
				}
			}
		})
	}
	t.Run("values come from the metric's Stream", func(t *testing.T) {
		r := generator.Stream(7, "api", "cpu")
		for i, got := range ref["api"] {
			if want := "cpu=" + list[r.IntN(len(list))]; got != want {
				t.Fatalf("api value %d = %s, want %s", i, got, want)
			}
		}
	})
}

func TestNewScheduleErrors(t *testing.T) {
	ok := dep("a", 0, "cpu", choice("1"))
	tests := []struct {
		name string
		cfg  *generator.Config
		opts generator.ScheduleOptions
		want []string
	}{
		{"nil config", nil, generator.ScheduleOptions{}, []string{"config: nil"}},
		{"negative options", &generator.Config{Deployments: []generator.Deployment{ok}}, generator.ScheduleOptions{Interval: -1, Count: -1}, []string{"interval: -1ns: must be > 0", "count: -1: must be >= 0"}},
		{"every config problem", &generator.Config{Deployments: []generator.Deployment{
			ok, ok, dep("", 0), dep("b", -time.Second, "", choice("1"), "x", choice("1"), "x", choice("1")),
			{Name: "c", Metrics: []generator.MetricSpec{{Name: "cpu"}}},
		}}, generator.ScheduleOptions{}, []string{
			`deployments[1].name: duplicate "a"`, "deployments[2].name: empty", "deployments[3].interval: -1s: must be > 0",
			"deployments[3].metrics: empty metric name", "deployments[3].metrics.x: duplicate", "deployments[4].metrics.cpu: no model",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := generator.NewSchedule(tt.cfg, tt.opts)
			if err == nil {
				t.Fatalf("NewSchedule = %v, want an error", s)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// runCollect runs s with an emit that records every batch (copied).
func runCollect(t *testing.T, ctx context.Context, s *generator.Schedule, start time.Time, onEmit func(n int) error) ([]string, error) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	err := s.Run(ctx, func(_ context.Context, b generator.Batch) error {
		if now := time.Now(); now.Before(start.Add(b.At)) {
			t.Errorf("batch at %v emitted %v early", b.At, start.Add(b.At).Sub(now))
		}
		mu.Lock()
		got = append(got, tick(b))
		n := len(got)
		mu.Unlock()
		if onEmit != nil {
			return onEmit(n)
		}
		return nil
	})
	return got, err
}

func TestScheduleRun(t *testing.T) {
	const iv = 20 * time.Millisecond
	cfg := &generator.Config{Interval: iv, Deployments: []generator.Deployment{dep("a", 0, "cpu", choice("1")), dep("b", 30*time.Millisecond, "cpu", choice("1"))}}
	want := []string{"0s: a b", "20ms: a", "30ms: b", "40ms: a", "60ms: a b", "90ms: b"}
	boom := errors.New("boom")
	tests := []struct {
		name    string
		onEmit  func(n int) error
		want    []string
		wantErr error
	}{
		{"on the grid", nil, want, nil},
		{"blocking emit makes ticks late, never skipped", func(n int) error {
			if n == 1 {
				time.Sleep(5 * iv) // every later tick is now due at once
			}
			return nil
		}, want, nil},
		{"emit error ends the run", func(n int) error {
			if n == 2 {
				return boom
			}
			return nil
		}, want[:2], boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			s := newSchedule(t, cfg, generator.ScheduleOptions{Start: start, Count: 4})
			got, err := runCollect(t, t.Context(), s, start, tt.onEmit)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Run = %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("batches:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestScheduleRunCancel(t *testing.T) {
	cfg := &generator.Config{Interval: 5 * time.Millisecond, Deployments: []generator.Deployment{dep("a", 0, "cpu", choice("1"))}}
	tests := []struct {
		name     string
		start    time.Duration // Start relative to now
		cancelAt int           // cancel in the emit of this batch; 0 = before Run
		want     int           // batches emitted
	}{
		{"cancelled before Run", 0, 0, 0},
		{"cancelled while emitting", 0, 3, 3},
		{"cancelled while waiting", time.Hour, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now().Add(tt.start)
			s := newSchedule(t, cfg, generator.ScheduleOptions{Start: start})
			ctx, cancel := context.WithCancel(t.Context())
			t.Cleanup(cancel)
			if tt.cancelAt == 0 && tt.start == 0 {
				cancel()
			}
			if tt.start > 0 {
				time.AfterFunc(10*time.Millisecond, cancel)
			}
			got, err := runCollect(t, ctx, s, start, func(n int) error {
				if n == tt.cancelAt {
					cancel()
				}
				return nil
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
			if len(got) != tt.want {
				t.Errorf("emitted %d batches %q, want %d", len(got), got, tt.want)
			}
		})
	}
}

func ExampleSchedule_Next() {
	cfg := &generator.Config{
		Interval: time.Minute,
		Deployments: []generator.Deployment{
			{Name: "app1", Metrics: []generator.MetricSpec{{Name: "cpu", Model: &generator.Choice{Values: []generator.Value{{Text: "0.5"}}}}}},
			{Name: "app2", Interval: 90 * time.Second, Metrics: []generator.MetricSpec{{Name: "gpu", Model: &generator.Choice{Values: []generator.Value{{Text: "1"}}}}}},
		},
	}
	s, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Seed: 42, Count: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		b, ok := s.Next()
		if !ok {
			break
		}
		for _, ev := range b.Events {
			fmt.Printf("%v %s seq=%d %s=%s at %s\n", b.At, ev.App, ev.Seq, ev.Metrics[0].Name, ev.Metrics[0].Value.Text, ev.Time.Format(time.TimeOnly))
		}
	}
	// Output:
	// 0s app1 seq=1 cpu=0.5 at 00:00:00
	// 0s app2 seq=1 gpu=1 at 00:00:00
	// 1m0s app1 seq=2 cpu=0.5 at 00:01:00
	// 1m30s app2 seq=2 gpu=1 at 00:01:30
}
