package generator_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

// counter is a stateful model: 1, 2, 3, ... Clone starts it over.
type counter struct{ n int }

func (c *counter) Next(*rand.Rand, time.Duration) generator.Value {
	c.n++
	return generator.Value{Text: strconv.Itoa(c.n)}
}

func (c *counter) Clone() generator.Model { return &counter{} }

// spec is a metric with its definition, as the loader fills MetricSpec.
func spec(name string, m generator.Model, def any) generator.MetricSpec {
	return generator.MetricSpec{Name: name, Model: m, Spec: def}
}

// batch is a batch reduced to "at: app#seq{metric=value ...} ...".
func batch(b generator.Batch) string {
	out := b.At.String() + ":"
	for _, ev := range b.Events {
		out += " " + ev.App + "#" + strconv.FormatUint(ev.Seq, 10) + "{"
		for i, m := range ev.Metrics {
			if i > 0 {
				out += " "
			}
			out += m.Name + "=" + m.Value.Text
		}
		out += "}"
	}
	return out
}

func nextBatches(t *testing.T, s *generator.Schedule, n int) []string {
	t.Helper()
	var out []string
	for range n {
		b, ok := s.Next()
		if !ok {
			out = append(out, "end")
			break
		}
		out = append(out, batch(b))
	}
	return out
}

func TestScheduleApply(t *testing.T) {
	cnt := func() generator.MetricSpec { return spec("n", &counter{}, "counter") }
	cfg := func(ds ...generator.Deployment) *generator.Config {
		return &generator.Config{Interval: 10 * time.Second, Deployments: ds}
	}
	d := func(name string, iv time.Duration, ms ...generator.MetricSpec) generator.Deployment {
		return generator.Deployment{Name: name, Interval: iv, Metrics: ms}
	}
	tests := []struct {
		name   string
		before *generator.Config
		n      int // batches taken before Apply
		after  *generator.Config
		want   generator.ApplyResult
		then   []string
	}{
		{
			name:   "added on the same grid joins the next tick",
			before: cfg(d("a", 0, cnt())), n: 2,
			after: cfg(d("a", 0, cnt()), d("b", 0, cnt())),
			want:  generator.ApplyResult{Added: []string{"b"}},
			then:  []string{"20s: a#3{n=3} b#1{n=1}", "30s: a#4{n=4} b#2{n=2}"},
		},
		{
			name:   "added on a new grid starts at its first point after the last tick",
			before: cfg(d("a", 0, cnt())), n: 2,
			after: cfg(d("a", 0, cnt()), d("c", 15*time.Second, cnt())),
			want:  generator.ApplyResult{Added: []string{"c"}},
			then:  []string{"15s: c#1{n=1}", "20s: a#3{n=3}", "30s: a#4{n=4} c#2{n=2}"},
		},
		{
			name:   "removed stops, others keep seq and model state",
			before: cfg(d("a", 0, cnt()), d("b", 0, cnt())), n: 1,
			after: cfg(d("b", 0, cnt())),
			want:  generator.ApplyResult{Removed: []string{"a"}},
			then:  []string{"10s: b#2{n=2}", "20s: b#3{n=3}"},
		},
		{
			name:   "changed metric restarts its model, others keep theirs",
			before: cfg(d("a", 0, cnt(), spec("x", &counter{}, "counter"))), n: 2,
			after: cfg(d("a", 0, cnt(), spec("x", constModel("7"), "7"))),
			want:  generator.ApplyResult{Changed: []string{"a"}},
			then:  []string{"20s: a#3{n=3 x=7}"},
		},
		{
			name:   "added and removed metrics",
			before: cfg(d("a", 0, cnt(), spec("x", constModel("1"), "1"))), n: 1,
			after: cfg(d("a", 0, spec("b", constModel("2"), "2"), cnt())),
			want:  generator.ApplyResult{Changed: []string{"a"}},
			then:  []string{"10s: a#2{b=2 n=2}"},
		},
		{
			name:   "interval change re-grids, seq continues",
			before: cfg(d("a", 0, cnt()), d("b", 0, cnt())), n: 2,
			after: cfg(d("a", 25*time.Second, cnt()), d("b", 0, cnt())),
			want:  generator.ApplyResult{Changed: []string{"a"}},
			then:  []string{"20s: b#3{n=3}", "25s: a#3{n=3}", "30s: b#4{n=4}", "40s: b#5{n=5}", "50s: a#4{n=4} b#6{n=6}"},
		},
		{
			name:   "new order is the batch order",
			before: cfg(d("a", 0, cnt()), d("b", 0, cnt())), n: 1,
			after: cfg(d("b", 0, cnt()), d("a", 0, cnt())),
			then:  []string{"10s: b#2{n=2} a#2{n=2}"},
		},
		{
			name:   "removed before the first tick",
			before: cfg(d("a", 0, cnt()), d("b", 0, cnt())), n: 0,
			after: cfg(d("a", 0, cnt())),
			want:  generator.ApplyResult{Removed: []string{"b"}},
			then:  []string{"0s: a#1{n=1}", "10s: a#2{n=2}"},
		},
		{
			name:   "applied before the first tick",
			before: cfg(d("a", 0, cnt())), n: 0,
			after: cfg(d("a", 0, cnt()), d("b", 20*time.Second, cnt())),
			want:  generator.ApplyResult{Added: []string{"b"}},
			then:  []string{"0s: a#1{n=1} b#1{n=1}", "10s: a#2{n=2}"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSchedule(t, tt.before, generator.ScheduleOptions{})
			nextBatches(t, s, tt.n)
			res, err := s.Apply(tt.after)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !slices.Equal(res.Added, tt.want.Added) || !slices.Equal(res.Removed, tt.want.Removed) || !slices.Equal(res.Changed, tt.want.Changed) {
				t.Errorf("ApplyResult = %+v, want %+v", res, tt.want)
			}
			if got := nextBatches(t, s, len(tt.then)); !slices.Equal(got, tt.then) {
				t.Errorf("after Apply:\n got %q\nwant %q", got, tt.then)
			}
		})
	}
	t.Run("removed then re-added continues its seq", func(t *testing.T) {
		s := newSchedule(t, cfg(d("a", 0, cnt()), d("b", 0, cnt())), generator.ScheduleOptions{})
		nextBatches(t, s, 2)
		for _, c := range []*generator.Config{cfg(d("a", 0, cnt())), cfg(d("a", 0, cnt()), d("b", 0, cnt()))} {
			if _, err := s.Apply(c); err != nil {
				t.Fatalf("Apply: %v", err)
			}
		}
		if got, want := nextBatches(t, s, 1), []string{"20s: a#3{n=3} b#3{n=1}"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("invalid config changes nothing", func(t *testing.T) {
		s := newSchedule(t, cfg(d("a", 0, cnt())), generator.ScheduleOptions{})
		nextBatches(t, s, 1)
		if _, err := s.Apply(cfg(d("a", 0, cnt()), d("a", 0, cnt()))); err == nil {
			t.Fatal("Apply of a duplicate name succeeded")
		}
		if got, want := nextBatches(t, s, 1), []string{"10s: a#2{n=2}"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("count holds across reloads", func(t *testing.T) {
		s := newSchedule(t, cfg(d("a", 0, cnt())), generator.ScheduleOptions{Count: 2})
		nextBatches(t, s, 1)
		if _, err := s.Apply(cfg(d("a", 0, cnt()), d("b", 0, cnt()))); err != nil {
			t.Fatalf("Apply: %v", err)
		}
		want := []string{"10s: a#2{n=2} b#1{n=1}", "20s: b#2{n=2}", "end"}
		if got := nextBatches(t, s, 4); !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestScheduleControl(t *testing.T) {
	two := func() *generator.Config {
		return &generator.Config{Interval: time.Second, Deployments: []generator.Deployment{
			{Name: "a", Metrics: []generator.MetricSpec{spec("cpu", constModel("1"), "1"), spec("mem", constModel("m"), "m")}},
			{Name: "b", Metrics: []generator.MetricSpec{spec("cpu", constModel("1"), "1")}},
		}}
	}
	type step func(s *generator.Schedule) error
	tests := []struct {
		name  string
		count int
		steps []any // step (applied) or int (take n batches)
		want  []string
	}{
		{"override from the next tick until cleared", 0, []any{1,
			step(func(s *generator.Schedule) error { return s.Override("a", "cpu", constModel("9"), "9") }), 2,
			step(func(s *generator.Schedule) error { return s.ClearOverride("a", "cpu") }), 1,
		}, []string{"0s: a#1{cpu=1 mem=m} b#1{cpu=1}", "1s: a#2{cpu=9 mem=m} b#2{cpu=1}", "2s: a#3{cpu=9 mem=m} b#3{cpu=1}", "3s: a#4{cpu=1 mem=m} b#4{cpu=1}"}},
		{"override survives a reload", 0, []any{
			step(func(s *generator.Schedule) error { return s.Override("a", "cpu", constModel("9"), nil) }),
			step(func(s *generator.Schedule) error { _, err := s.Apply(two()); return err }), 1,
		}, []string{"0s: a#1{cpu=9 mem=m} b#1{cpu=1}"}},
		{"override dies with its metric", 0, []any{
			step(func(s *generator.Schedule) error { return s.Override("a", "mem", constModel("9"), nil) }),
			step(func(s *generator.Schedule) error {
				c := two()
				c.Deployments[0].Metrics = c.Deployments[0].Metrics[:1]
				_, err := s.Apply(c)
				return err
			}),
			step(func(s *generator.Schedule) error { _, err := s.Apply(two()); return err }), 1,
		}, []string{"0s: a#1{cpu=1 mem=m} b#1{cpu=1}"}},
		{"paused ticks send nothing, count no seq, count not toward Count", 3, []any{1,
			step(func(s *generator.Schedule) error { return s.Pause("a") }),
			step(func(s *generator.Schedule) error { return s.Pause("a") }), 2,
			step(func(s *generator.Schedule) error { return s.Resume("a") }), 3,
		}, []string{"0s: a#1{cpu=1 mem=m} b#1{cpu=1}", "1s: b#2{cpu=1}", "2s: b#3{cpu=1}", "3s: a#2{cpu=1 mem=m}", "4s: a#3{cpu=1 mem=m}", "end"}},
		{"all paused gives empty batches, the grid runs on", 0, []any{
			step(func(s *generator.Schedule) error { return s.Pause("a") }),
			step(func(s *generator.Schedule) error { return s.Pause("b") }), 2,
			step(func(s *generator.Schedule) error { return s.Resume("b") }), 1,
		}, []string{"0s:", "1s:", "2s: b#1{cpu=1}"}},
		{"pause survives a reload", 0, []any{
			step(func(s *generator.Schedule) error { return s.Pause("b") }),
			step(func(s *generator.Schedule) error { _, err := s.Apply(two()); return err }), 1,
		}, []string{"0s: a#1{cpu=1 mem=m}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSchedule(t, two(), generator.ScheduleOptions{Count: tt.count})
			var got []string
			for _, st := range tt.steps {
				switch st := st.(type) {
				case int:
					got = append(got, nextBatches(t, s, st)...)
				case step:
					if err := st(s); err != nil {
						t.Fatalf("step: %v", err)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("batches:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestScheduleUnknownNames(t *testing.T) {
	cfg := &generator.Config{Deployments: []generator.Deployment{{Name: "a", Metrics: []generator.MetricSpec{spec("cpu", constModel("1"), "1")}}}}
	s := newSchedule(t, cfg, generator.ScheduleOptions{})
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"override deployment", func() error { return s.Override("x", "cpu", constModel("1"), nil) }, generator.ErrUnknownDeployment},
		{"override metric", func() error { return s.Override("a", "gpu", constModel("1"), nil) }, generator.ErrUnknownMetric},
		{"clear deployment", func() error { return s.ClearOverride("x", "cpu") }, generator.ErrUnknownDeployment},
		{"clear metric", func() error { return s.ClearOverride("a", "gpu") }, generator.ErrUnknownMetric},
		{"pause", func() error { return s.Pause("x") }, generator.ErrUnknownDeployment},
		{"resume", func() error { return s.Resume("x") }, generator.ErrUnknownDeployment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("nil override model", func(t *testing.T) {
		if err := s.Override("a", "cpu", nil, nil); err == nil {
			t.Error("Override with a nil model succeeded")
		}
	})
}

func TestScheduleSnapshot(t *testing.T) {
	cfg := &generator.Config{Interval: 10 * time.Second, Deployments: []generator.Deployment{
		{Name: "z", Interval: time.Second, Metrics: []generator.MetricSpec{spec("mem", constModel("5"), "five"), spec("cpu", constModel("1"), "one")}},
		{Name: "a", Metrics: []generator.MetricSpec{spec("cpu", constModel("2"), "two")}},
	}}
	s := newSchedule(t, cfg, generator.ScheduleOptions{})
	tests := []struct {
		name string
		do   func(t *testing.T)
		want []generator.DeploymentState
	}{
		{"before any tick", func(*testing.T) {}, []generator.DeploymentState{
			{Name: "a", Interval: 10 * time.Second, Metrics: []generator.MetricState{{Name: "cpu", Spec: "two"}}},
			{Name: "z", Interval: time.Second, Metrics: []generator.MetricState{{Name: "cpu", Spec: "one"}, {Name: "mem", Spec: "five"}}},
		}},
		{"after ticks, paused, overridden", func(t *testing.T) {
			nextBatches(t, s, 2)
			if err := s.Pause("z"); err != nil {
				t.Fatal(err)
			}
			if err := s.Override("a", "cpu", constModel("9"), map[string]string{"value": "9"}); err != nil {
				t.Fatal(err)
			}
		}, []generator.DeploymentState{
			{Name: "a", Interval: 10 * time.Second, Seq: 1, Metrics: []generator.MetricState{{Name: "cpu", Spec: "two", Override: map[string]string{"value": "9"}, Last: generator.Value{Text: "2"}, HasLast: true}}},
			{Name: "z", Interval: time.Second, Paused: true, Seq: 2, Metrics: []generator.MetricState{
				{Name: "cpu", Spec: "one", Last: generator.Value{Text: "1"}, HasLast: true},
				{Name: "mem", Spec: "five", Last: generator.Value{Text: "5"}, HasLast: true},
			}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.do(t)
			got := s.Snapshot()
			if len(got) != len(tt.want) {
				t.Fatalf("Snapshot = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				same := g.Name == w.Name && g.Interval == w.Interval && g.Paused == w.Paused && g.Seq == w.Seq && len(g.Metrics) == len(w.Metrics)
				for j := 0; same && j < len(g.Metrics); j++ {
					gm, wm := g.Metrics[j], w.Metrics[j]
					same = gm.Name == wm.Name && gm.Spec == wm.Spec && gm.Last == wm.Last && gm.HasLast == wm.HasLast &&
						(gm.Override == nil) == (wm.Override == nil)
				}
				if !same {
					t.Errorf("Snapshot[%d] = %+v, want %+v", i, g, w)
				}
				// One deployment's entry (the live page's read) is the same.
				if one, ok := s.SnapshotOf(w.Name); !ok || !reflect.DeepEqual(one, g) {
					t.Errorf("SnapshotOf(%q) = %+v, %v; want %+v", w.Name, one, ok, g)
				}
			}
			if names := s.Names(); !slices.Equal(names, []string{"a", "z"}) {
				t.Errorf("Names = %q, want a, z", names)
			}
			if _, ok := s.SnapshotOf("nope"); ok {
				t.Error("SnapshotOf an unknown deployment: found")
			}
		})
	}
}

// TestScheduleRunConcurrent drives Run while the control methods hammer the
// schedule: under -race this checks the locking, and seq must still run
// 1..Count per deployment with no gap or reset.
func TestScheduleRunConcurrent(t *testing.T) {
	const count = 40
	mk := func(extra bool) *generator.Config {
		c := &generator.Config{Interval: time.Millisecond, Deployments: []generator.Deployment{
			{Name: "a", Metrics: []generator.MetricSpec{spec("cpu", &counter{}, "c")}},
			{Name: "b", Interval: 2 * time.Millisecond, Metrics: []generator.MetricSpec{spec("cpu", &counter{}, "c")}},
		}}
		if extra {
			c.Deployments = append(c.Deployments, generator.Deployment{Name: "x", Metrics: []generator.MetricSpec{spec("cpu", &counter{}, "c")}})
		}
		return c
	}
	s := newSchedule(t, mk(false), generator.ScheduleOptions{Start: time.Now(), Count: count})
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			_, _ = s.Apply(mk(i%2 == 0))
			_ = s.Override("a", "cpu", constModel("o"), nil)
			_ = s.ClearOverride("a", "cpu")
			_ = s.Pause("b")
			_ = s.Resume("b")
			_ = s.Snapshot()
			time.Sleep(100 * time.Microsecond)
		}
	})
	seqs := map[string][]uint64{}
	err := s.Run(ctx, func(_ context.Context, b generator.Batch) error {
		for _, ev := range b.Events {
			seqs[ev.App] = append(seqs[ev.App], ev.Seq)
		}
		return nil
	})
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	for _, app := range []string{"a", "b"} {
		t.Run(app, func(t *testing.T) {
			got := seqs[app]
			for i, q := range got {
				if q != uint64(i+1) {
					t.Fatalf("seqs %v: position %d is %d", got, i, q)
				}
			}
			if len(got) != count {
				t.Errorf("%d messages, want %d", len(got), count)
			}
		})
	}
}

// TestScheduleRunApplyWakes checks that Run, waiting for a far tick, picks up
// a deployment that Apply adds on a nearer grid.
func TestScheduleRunApplyWakes(t *testing.T) {
	far := generator.Deployment{Name: "far", Interval: time.Hour, Metrics: []generator.MetricSpec{spec("cpu", constModel("1"), "1")}}
	near := generator.Deployment{Name: "near", Interval: 5 * time.Millisecond, Metrics: []generator.MetricSpec{spec("cpu", constModel("1"), "1")}}
	s := newSchedule(t, &generator.Config{Deployments: []generator.Deployment{far}}, generator.ScheduleOptions{Start: time.Now()})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	var got []string
	err := s.Run(ctx, func(_ context.Context, b generator.Batch) error {
		got = append(got, tick(b)[len(b.At.String())+2:])
		switch len(got) {
		case 1:
			go func() { _, _ = s.Apply(&generator.Config{Deployments: []generator.Deployment{far, near}}) }()
		case 3:
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if want := []string{"far", "near", "near"}; !slices.Equal(got, want) {
		t.Errorf("batches %q, want %q", got, want)
	}
}

// TestScheduleOwnsModelState checks that two schedules of one Config do not
// share a stateful model's state.
func TestScheduleOwnsModelState(t *testing.T) {
	cfg := &generator.Config{Interval: time.Second, Deployments: []generator.Deployment{
		{Name: "a", Metrics: []generator.MetricSpec{spec("n", &counter{}, "counter")}},
	}}
	want := []string{"0s: a#1{n=1}", "1s: a#2{n=2}", "end"}
	for _, name := range []string{"first run", "second run"} {
		t.Run(name, func(t *testing.T) {
			s := newSchedule(t, cfg, generator.ScheduleOptions{Count: 2})
			if got := nextBatches(t, s, 3); !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
