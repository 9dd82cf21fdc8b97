package throttle_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/throttle"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)} }
func lines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func setup(t *testing.T) (*throttle.Warning, *clock, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	clk := newClock()
	w := throttle.New(slog.New(slog.NewJSONHandler(&buf, nil)), throttle.Config{
		Message: "message unroutable", CountKey: "unroutable", KeysKey: "deployments", Now: clk.now,
	})
	return w, clk, &buf
}

func TestFloodBecomesOneLineAndSummaries(t *testing.T) {
	w, clk, buf := setup(t)
	// 1,000 keys a tick, a tick every 10 s, for 3 minutes: 18,000 warnings.
	for tick := 0; tick < 18; tick++ {
		for app := 0; app < 1000; app++ {
			w.Warn("Metrics.app"+strconv.Itoa(app), "routing_key", "Metrics.app"+strconv.Itoa(app))
		}
		clk.advance(10 * time.Second)
	}
	w.Flush()
	got := lines(t, buf)
	// The first in full, one summary a minute (at 60 s, 120 s), the tail at Flush.
	if len(got) != 4 {
		t.Fatalf("got %d lines, want 4:\n%s", len(got), buf)
	}
	if got[0]["msg"] != "message unroutable" || got[0]["routing_key"] != "Metrics.app0" || got[0]["level"] != "WARN" {
		t.Errorf("first line = %v, want the full warning for Metrics.app0", got[0])
	}
	total := 1.0
	for _, l := range got[1:] {
		if l["msg"] != "message unroutable (summary)" {
			t.Errorf("summary msg = %v", l["msg"])
		}
		if l["deployments"] != 1000.0 {
			t.Errorf("summary deployments = %v, want 1000", l["deployments"])
		}
		if _, ok := l["example"].(string); !ok {
			t.Errorf("summary has no example: %v", l)
		}
		total += l["unroutable"].(float64)
	}
	if total != 18000 {
		t.Errorf("first line + summaries count %v occurrences, want 18000", total)
	}
}

func TestQuietPeriodLogsInFullAgain(t *testing.T) {
	w, clk, buf := setup(t)
	w.Warn("a", "n", 1)
	clk.advance(2 * time.Minute)
	w.Warn("b", "n", 2) // nothing pending and a minute passed: a fresh start
	w.Flush()           // nothing pending: no line
	got := lines(t, buf)
	if len(got) != 2 || got[1]["msg"] != "message unroutable" || got[1]["n"] != 2.0 {
		t.Fatalf("got %v, want two full lines", got)
	}
}

func TestNilWarningIgnoresCalls(t *testing.T) {
	var w *throttle.Warning
	w.Warn("x")
	w.Flush()
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  throttle.Config
		want string
	}{
		{"ok", throttle.Config{Message: "m"}, ""},
		{"no message", throttle.Config{}, "empty Message"},
		{"negative every", throttle.Config{Message: "m", Every: -time.Second}, "negative Every"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want it to say %q", err, tt.want)
			}
		})
	}
}
