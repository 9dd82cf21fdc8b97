package app

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/syncbuf"
)

func TestThrottledWarn(t *testing.T) {
	tests := []struct {
		name  string
		steps []time.Duration // elapsed at each warn; -1 flushes
		want  []string        // the lines written, reduced to msg and more=
	}{
		{"once", []time.Duration{0}, []string{"boom"}},
		{"a burst within the period: one line, the rest at flush", []time.Duration{0, time.Second, 2 * time.Second, -1},
			[]string{"boom", "boom (repeated) more=2"}},
		{"a summary when the period is over", []time.Duration{0, time.Second, 30 * time.Second, 61 * time.Second, 62 * time.Second, -1},
			[]string{"boom", "boom (repeated) more=3", "boom (repeated) more=1"}},
		{"flush with nothing pending writes nothing", []time.Duration{0, -1, -1}, []string{"boom"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncbuf.Buffer
			w := newThrottledWarn(slog.New(slog.NewJSONHandler(&buf, nil)), "boom", time.Minute)
			t0 := time.Unix(0, 0)
			now := t0
			w.now = func() time.Time { return now }
			for i, at := range tc.steps {
				if at < 0 {
					w.flush()
					continue
				}
				now = t0.Add(at)
				w.warn("i", i)
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				var rec struct {
					Msg  string
					More int
				}
				if err := json.Unmarshal([]byte(l), &rec); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
				if rec.More > 0 {
					rec.Msg += " more=" + strconv.Itoa(rec.More)
				}
				got = append(got, rec.Msg)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("lines %q, want %q\n%s", got, tc.want, buf.String())
			}
		})
	}
}
