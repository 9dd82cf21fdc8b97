package sendloop_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/sendloop"
)

// TestRun: every tick's events reach Emit and Sent, delayed ones after
// their delay, dropped ones never; Run counts what it emitted.
func TestRun(t *testing.T) {
	tests := []struct {
		name        string
		faults      string
		wantEmitted int
		wantDelayed bool
	}{
		{"no faults", "", 6, false},
		{"every message delayed", "    faults: {delay: {p: 1, by: 20ms}}\n", 6, true},
		{"web's messages dropped", "    faults: {drop: {p: 1}}\n", -1, false}, // -1: fewer than generated
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := generator.Parse("loop.yaml", []byte("interval: 1s\ndeployments:\n  - name: web\n"+tt.faults+
				"    metrics:\n      cpu: [1]\n  - name: db\n    metrics:\n      cpu: [2]\n"))
			if err != nil {
				t.Fatal(err)
			}
			const count = 3
			start := time.Now()
			sched, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Start: start, Seed: 1, Count: count, Interval: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var emitted, sent, minted, suppressed int
			var late bool
			emitted, err = sendloop.Run(context.Background(), sendloop.Config{
				Schedule: sched, Injector: generator.NewInjector(cfg, 1, count), Start: start, ShutdownTimeout: time.Second,
				Emit: func(_ context.Context, events []generator.Event) error {
					mu.Lock()
					defer mu.Unlock()
					for _, ev := range events {
						if time.Since(ev.Time) >= 20*time.Millisecond {
							late = true
						}
					}
					return nil
				},
				Mint: func(events []generator.Event) { minted += len(events) },
				Faulted: func(events []generator.Event) { // where faults hit: the live page
					for _, ev := range events {
						if ev.Suppressed {
							suppressed++
						}
					}
				},
				Sent: func(events []generator.Event, _ time.Time) {
					mu.Lock()
					defer mu.Unlock()
					sent += len(events)
				},
			}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantEmitted < 0 {
				if emitted != sent || emitted >= 2*count || emitted+suppressed != 2*count {
					t.Errorf("emitted %d, sent %d, Faulted saw %d suppressed; want the same, below %d, adding up to it", emitted, sent, suppressed, 2*count)
				}
			} else if emitted != tt.wantEmitted || sent != tt.wantEmitted {
				t.Errorf("emitted %d, sent %d; want %d", emitted, sent, tt.wantEmitted)
			}
			if minted != 2*count {
				t.Errorf("minted %d, want every generated event: %d", minted, 2*count)
			}
			if tt.wantDelayed && !late {
				t.Errorf("no message went out after its delay")
			}
		})
	}
}
