package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/app"
	"github.com/labsea/metricsender/internal/brokertest"
)

// exampleValues are the lists of examples/metricsender.yaml.
var exampleValues = map[string]map[string][]string{
	"app1": {"cpu": {"0.5", "0.8", "1.0"}, "memory": {"256", "512", "1024"}},
	"app2": {"cpu": {"0.2", "0.4"}, "gpu": {"0", "1"}},
}

func decodeLines(t *testing.T, stdout string) []app.JSONLine {
	t.Helper()
	var lines []app.JSONLine
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var jl app.JSONLine
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&jl); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		lines = append(lines, jl)
	}
	return lines
}

func TestSendGoChannelJSON(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const ticks = 4
	code, stdout, stderr := runCLI(t, ctx, "send", "--transport", "gochannel", "-c", example,
		"--interval", "20ms", "--count", "4", "--output", "json", "--http-addr", "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := decodeLines(t, stdout)
	if len(lines) != ticks*len(exampleValues) {
		t.Fatalf("got %d messages, want %d:\n%s", len(lines), ticks*len(exampleValues), stdout)
	}
	seqs := map[string][]uint64{}
	run := ""
	var lastTime = map[string]time.Time{}
	for _, l := range lines {
		want, ok := exampleValues[l.App]
		if !ok {
			t.Fatalf("unexpected app %q", l.App)
		}
		if l.Topic != "Metrics."+l.App {
			t.Errorf("topic %q for app %q", l.Topic, l.App)
		}
		if len(l.Metrics) != len(want) {
			t.Errorf("%s: metrics %v, want the keys of %v", l.App, l.Metrics, want)
		}
		for name, v := range l.Metrics {
			if !slices.Contains(want[name], v) {
				t.Errorf("%s.%s = %q, not one of %v", l.App, name, v, want[name])
			}
		}
		if l.Seq == nil || l.Run == nil {
			t.Fatalf("no envelope fields in %+v", l)
		}
		if run == "" {
			run = *l.Run
		}
		if *l.Run != run {
			t.Errorf("run changed within one process: %q then %q", run, *l.Run)
		}
		seqs[l.App] = append(seqs[l.App], *l.Seq)
		tm, err := time.Parse(time.RFC3339Nano, l.Time)
		if err != nil {
			t.Fatalf("time %q: %v", l.Time, err)
		}
		// The grid: tick k at start + k*20ms, so consecutive ticks are exactly 20ms apart.
		if prev, ok := lastTime[l.App]; ok && tm.Sub(prev) != 20*time.Millisecond {
			t.Errorf("%s: ticks %s apart, want exactly 20ms (the grid)", l.App, tm.Sub(prev))
		}
		lastTime[l.App] = tm
	}
	for app, s := range seqs {
		if !slices.Equal(s, []uint64{1, 2, 3, 4}) {
			t.Errorf("%s: seq %v, want 1..4 in order", app, s)
		}
	}
	if n := strings.Count(stderr, "msg=tick"); n != ticks {
		t.Errorf("%d tick log lines, want one per tick (%d):\n%s", n, ticks, stderr)
	}
}

func TestSendGoChannelText(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, stdout, stderr := runCLI(t, ctx, "send", "-t", "gochannel", "-c", example, "--interval", "1ms", "--count", "1", "--http-addr", "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	blocks := strings.Count(stdout, "Aplicação: ")
	if blocks != 2 {
		t.Fatalf("%d blocks, want 2:\n%s", blocks, stdout)
	}
	if strings.Contains(stdout, "level=") {
		t.Errorf("log lines on stdout:\n%s", stdout)
	}
}

func TestSendStopsOnSignal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	// Not a stand-in for an event: a cancel at any moment, before the first
	// tick or after it, must end the run with exit 0 and the stopped line.
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	code, _, stderr := runCLI(t, ctx, "send", "-t", "gochannel", "-c", example, "--interval", "50ms", "--http-addr", "")
	if code != 0 {
		t.Fatalf("exit %d after cancel, want 0: %s", code, stderr)
	}
	if !strings.Contains(stderr, "msg=stopped") {
		t.Errorf("no stopped line:\n%s", stderr)
	}
}

// TestSendCountReport: the stopped line of a --count run is the sender's
// own account: published when a queue took the messages, unroutable (not
// fatal, exit 0) when none was bound, each message counted once.
func TestSendCountReport(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	tests := []struct {
		name  string
		bound bool
		want  string
	}{
		{"a queue is bound", true, "published=3 dropped=0 unroutable=0"},
		{"nothing is bound", false, "published=0 dropped=0 unroutable=3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fmt.Sprintf("report%d", time.Now().UnixNano())
			cfg := writeFile(t, "c.yaml", "deployments:\n  - name: "+app+"\n    metrics: {cpu: [0.5]}\n")
			if tt.bound {
				plainConsumer(t, uri, "Metrics."+app)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			code, _, stderr := runCLI(t, ctx, "send", "-c", cfg, "--uri", uri, "--interval", "20ms", "--count", "3", "--http-addr", "")
			if code != 0 {
				t.Fatalf("send exit %d, want 0:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, "msg=stopped") || !strings.Contains(stderr, tt.want) {
				t.Errorf("no stopped line with %q:\n%s", tt.want, stderr)
			}
		})
	}
}
