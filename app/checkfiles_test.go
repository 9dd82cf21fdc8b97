package app_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labsea/metricsender/app"
	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/syncbuf"
)

func TestCheckCommand(t *testing.T) {
	lines := `{"app":"web","topic":"Metrics.web","metrics":{"cpu":"1"},"seq":1,"run":"r","correlation_id":"A"}
{"app":"web","topic":"Metrics.web","metrics":{"cpu":"1"},"seq":2,"run":"r","correlation_id":"B"}
`
	gap := `{"app":"web","topic":"Metrics.web","metrics":{"cpu":"1"},"seq":4,"run":"r","correlation_id":"C"}
`
	a, b := writeFile(t, "a.jsonl", lines), writeFile(t, "b.jsonl", gap)
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderrWant string
	}{
		{"one file", []string{"check", a}, 0, "received=2 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0", ""},
		{"two files, a gap", []string{"check", a, b}, 1, "received=3 missing=1 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0", "seq jumped to 4"},
		{"no file", []string{"check"}, 2, "", "check takes the receivers' JSON line files"},
		{"duplicates pass", []string{"check", a, a}, 0, "received=4 missing=0 duplicates=2 out_of_order=0 out_of_bounds=0 decode_errors=0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, context.Background(), tt.args...)
			// One line; fields a newer checker adds come after decode_errors.
			okOut := strings.HasPrefix(stdout, tt.stdout) && strings.Count(stdout, "\n") == min(len(tt.stdout), 1)
			if code != tt.code || !okOut || !strings.Contains(stderr, tt.stderrWant) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, stderr with %q", code, stdout, stderr, tt.code, tt.stdout, tt.stderrWant)
			}
		})
	}
	t.Run("METRICSENDER_STRICT", func(t *testing.T) {
		t.Setenv("METRICSENDER_STRICT", "true")
		if code, _, _ := runCLI(t, context.Background(), "check", a, a); code != 1 {
			t.Errorf("exit %d with duplicates and METRICSENDER_STRICT=true, want 1", code)
		}
	})
}

// TestCheckCompetingReceivers: two receivers split one queue on the real
// broker; check over their two outputs finds every message of the run.
func TestCheckCompetingReceivers(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	n := time.Now().UnixNano()
	apps := []string{fmt.Sprintf("compete%da", n), fmt.Sprintf("compete%db", n)}
	cfg := writeFile(t, "c.yaml", fmt.Sprintf("deployments:\n  - name: %s\n    metrics: {cpu: [1, 2]}\n  - name: %s\n    metrics: {cpu: [1, 2]}\n", apps[0], apps[1]))
	queue := fmt.Sprintf("metricsender-test-compete-%d", n)
	brokertest.DeleteQueueAtCleanup(t, uri, queue)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var outs [2]syncbuf.Buffer
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var errOut syncbuf.Buffer
			app.RunContext(rctx, []string{"metricsender", "receive", "--uri", uri, "--queue", queue,
				"--topic", "Metrics." + apps[0], "--topic", "Metrics." + apps[1], "--output", "json"}, &outs[i], &errOut)
		}()
		brokertest.WaitConsumer(t, ctx, uri, queue)
	}
	const ticks = 100
	code, _, stderr := runCLI(t, ctx, "send", "-c", cfg, "--uri", uri, "--count", strconv.Itoa(ticks), "--interval", "10ms", "--http-addr", "")
	if code != 0 {
		t.Fatalf("send exit %d:\n%s", code, stderr)
	}
	for strings.Count(outs[0].String(), "\n")+strings.Count(outs[1].String(), "\n") < len(apps)*ticks && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	wg.Wait()
	var files []string
	for i := range outs {
		lines := strings.Count(outs[i].String(), "\n")
		if lines == 0 {
			t.Errorf("receiver %d got nothing: the queue did not split", i)
		}
		files = append(files, writeFile(t, fmt.Sprintf("r%d.jsonl", i), outs[i].String()))
	}
	code, stdout, stderr := runCLI(t, context.Background(), append([]string{"check", "--config", cfg}, files...)...)
	if code != 0 || !strings.Contains(stdout, "missing=0") || !strings.Contains(stdout, "out_of_bounds=0") {
		t.Errorf("check exit %d: %s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, fmt.Sprintf("received=%d ", len(apps)*ticks)) && !strings.Contains(stdout, "duplicates=0") {
		t.Logf("check: %s (duplicates come from redeliveries)", stdout)
	}
}

func TestCheckExpectUsage(t *testing.T) {
	f := writeFile(t, "a.jsonl", `{"app":"web","topic":"Metrics.web","metrics":{"cpu":"1"},"seq":1,"run":"r","correlation_id":"A"}`+"\n")
	for _, args := range [][]string{{"check", "--expect", "3", f}, {"check", "--expect", "-1", f}} {
		if code, _, stderr := runCLI(t, context.Background(), args...); code != 2 || !strings.Contains(stderr, "--expect") {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming --expect", args, code, stderr)
		}
	}
}
