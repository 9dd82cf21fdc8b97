package generator_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

// partsConfig has n deployments whose values depend on the seed and on
// each walk's past, so a part made out of turn would show.
func partsConfig(t *testing.T, n int) *generator.Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("interval: 1s\ndeployments:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: d%d\n    metrics:\n      cpu: {walk: {start: 5, step: 1, min: 0, max: 10}}\n      mem: {uniform: {min: 0, max: 100}}\n", i)
	}
	cfg, err := generator.Parse("parts.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// eventLine is an event as text: what must match between a split and a
// whole run.
func eventLine(at time.Duration, ev generator.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %s #%d", at, ev.App, ev.Seq)
	for _, m := range ev.Metrics {
		fmt.Fprintf(&b, " %s=%s", m.Name, m.Value.Text)
	}
	return b.String()
}

func TestScheduleRunParts(t *testing.T) {
	const n, ticks = 10, 3
	// Every tick is due at once: the run does not wait.
	start := time.Now().Add(-time.Hour)
	var want []string
	whole := newSchedule(t, partsConfig(t, n), generator.ScheduleOptions{Start: start, Seed: 7, Count: ticks})
	for {
		b, ok := whole.Next()
		if !ok {
			break
		}
		for _, ev := range b.Events {
			want = append(want, eventLine(b.At, ev))
		}
	}
	if len(want) != n*ticks {
		t.Fatalf("the whole run made %d events, want %d", len(want), n*ticks)
	}

	tests := []struct {
		name     string
		maxBatch int
		parts    []int // events in each part of a tick
	}{
		{"parts of 3", 3, []int{3, 3, 3, 1}},
		{"parts of 5", 5, []int{5, 5}},
		{"larger than a tick", 50, []int{10}},
		{"off", 0, []int{10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSchedule(t, partsConfig(t, n), generator.ScheduleOptions{Start: start, Seed: 7, Count: ticks, MaxBatch: tt.maxBatch})
			var got []string
			var sizes []int
			err := s.Run(t.Context(), func(_ context.Context, b generator.Batch) error {
				if b.Part != len(sizes) {
					t.Errorf("tick %v: part %d after %d parts", b.At, b.Part, len(sizes))
				}
				if b.Last != (len(sizes) == len(tt.parts)-1) {
					t.Errorf("tick %v part %d: Last %v", b.At, b.Part, b.Last)
				}
				sizes = append(sizes, len(b.Events))
				for _, ev := range b.Events {
					got = append(got, eventLine(b.At, ev))
				}
				if b.Last {
					if !slices.Equal(sizes, tt.parts) {
						t.Errorf("tick %v: parts of %v events, want %v", b.At, sizes, tt.parts)
					}
					sizes = nil
				}
				return nil
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("split run:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestScheduleRunPartsControl acts between the parts of a tick: a pause
// skips the paused deployment's part to come, and a reload takes effect
// from the next tick while the tick's parts send what was due.
func TestScheduleRunPartsControl(t *testing.T) {
	start := time.Now().Add(-time.Hour)
	cfg := partsConfig(t, 6)
	// Unbounded: a paused deployment would hold a bounded run open.
	s := newSchedule(t, cfg, generator.ScheduleOptions{Start: start, MaxBatch: 2})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	without := cfg.Clone()
	without.Deployments = slices.DeleteFunc(without.Deployments, func(d generator.Deployment) bool { return d.Name == "d5" })
	var got []string
	err := s.Run(ctx, func(_ context.Context, b generator.Batch) error {
		var apps []string
		for _, ev := range b.Events {
			apps = append(apps, ev.App)
		}
		got = append(got, fmt.Sprintf("%v/%d: %s", b.At, b.Part, strings.Join(apps, " ")))
		if b.At == 0 && b.Part == 0 {
			if err := s.Pause("d3"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Apply(without); err != nil {
				t.Fatal(err)
			}
		}
		if b.At == time.Second && b.Last {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want it cancelled", err)
	}
	want := []string{"0s/0: d0 d1", "0s/1: d2", "0s/2: d4 d5", "1s/0: d0 d1", "1s/1: d2", "1s/2: d4"}
	if !slices.Equal(got, want) {
		t.Errorf("parts:\n got %q\nwant %q", got, want)
	}
}
