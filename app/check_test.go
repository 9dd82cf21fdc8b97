package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/internal/brokertest"
)

type cliResult struct {
	code           int
	stdout, stderr string
}

// startCLI runs the command line in the background.
func startCLI(t *testing.T, ctx context.Context, args ...string) <-chan cliResult {
	t.Helper()
	done := make(chan cliResult, 1)
	go func() {
		code, stdout, stderr := runCLI(t, ctx, args...)
		done <- cliResult{code, stdout, stderr}
	}()
	return done
}

// publishUntilDone calls publish every 200 ms until the command started
// with startCLI exits, and returns its result: for receivers whose queue
// is bound (or whose subscription starts) at a moment the test cannot see.
func publishUntilDone(t *testing.T, done <-chan cliResult, publish func()) cliResult {
	t.Helper()
	for {
		publish()
		select {
		case r := <-done:
			return r
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func TestSendReceiveCheck(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	suffix := time.Now().UnixNano()
	queue := fmt.Sprintf("metricsender-test-check-%d", suffix)
	brokertest.DeleteQueueAtCleanup(t, uri, queue)
	cfg := writeFile(t, "c.yaml", fmt.Sprintf(`deployments:
  - name: chk%[1]d-a
    metrics: {cpu: [100m, 200m], memory: [128Mi, 256Mi]}
  - name: chk%[1]d-b
    metrics: {cpu: [0.5]}
`, suffix))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const ticks = 20
	recv := startCLI(t, ctx, "receive", "--uri", uri, "--queue", queue,
		"--topic", fmt.Sprintf("Metrics.chk%d-a", suffix), "--topic", fmt.Sprintf("Metrics.chk%d-b", suffix),
		"--check", "--config", cfg, "--count", fmt.Sprint(2*ticks), "--timeout", "60s", "--output", "json")
	brokertest.WaitConsumer(t, ctx, uri, queue)
	code, _, stderr := runCLI(t, ctx, "send", "-c", cfg, "--uri", uri, "--interval", "10ms", "--count", fmt.Sprint(ticks), "--http-addr", "")
	if code != 0 {
		t.Fatalf("send exit %d: %s", code, stderr)
	}
	r := <-recv
	if r.code != 0 {
		t.Fatalf("receive exit %d:\n%s", r.code, r.stderr)
	}
	want := fmt.Sprintf("received=%d missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0", 2*ticks)
	if !strings.Contains(r.stderr, want) {
		t.Errorf("no summary %q in:\n%s", want, r.stderr)
	}
	if n := strings.Count(r.stdout, "\n"); n != 2*ticks {
		t.Errorf("%d lines on stdout, want %d", n, 2*ticks)
	}
}

func TestReceiveCheckFailsOnLossAndBounds(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	app := fmt.Sprintf("loss%d", time.Now().UnixNano())
	cfg := writeFile(t, "c.yaml", "deployments:\n  - name: "+app+"\n    metrics: {cpu: [0.5]}\n")
	queue := "metricsender-test-" + app
	brokertest.DeleteQueueAtCleanup(t, uri, queue)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	recv := startCLI(t, ctx, "receive", "--uri", uri, "--queue", queue, "--topic", "Metrics."+app,
		"--check", "--config", cfg, "--count", "3", "--timeout", "30s")
	brokertest.WaitConsumer(t, ctx, uri, queue)
	// seq 1, 3 (2 is lost), then a value outside the config.
	for i, m := range []struct {
		seq uint64
		cpu string
	}{{1, "0.5"}, {3, "0.5"}, {4, "0.9"}} {
		body := fmt.Sprintf(`{"app":%q,"metrics":{"cpu":%q},"seq":%d,"run":"r1","time":"2026-11-25T17:30:0%d.000Z"}`, app, m.cpu, m.seq, i)
		brokertest.Publish(t, uri, "is", "Metrics."+app, amqp.Publishing{
			ReplyTo: app, ContentType: "application/json", Headers: amqp.Table{"cpu": m.cpu},
			Timestamp: time.Unix(time.Date(2026, 11, 25, 17, 30, i, 0, time.UTC).UnixMilli(), 0), Body: []byte(body),
		})
	}
	r := <-recv
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (loss):\n%s", r.code, r.stderr)
	}
	if want := "received=3 missing=1 duplicates=0 out_of_order=0 out_of_bounds=1 decode_errors=0"; !strings.Contains(r.stderr, want) {
		t.Errorf("summary %q not in:\n%s", want, r.stderr)
	}
}

// TestReceiveExpect: with --expect N the receiver stops by itself once
// every deployment's seqs 1..N arrived, and otherwise counts the trailing
// loss and the deployments never seen as missing at --timeout.
func TestReceiveExpect(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	tests := []struct {
		name     string
		send     bool // run send --count 4; else publish seqs 1..2 of one app by hand
		timeout  string
		wantCode int
		want     string
	}{
		{"stops once all arrived", true, "60s", 0, "received=8 missing=0 "},
		{"trailing loss and an app never seen", false, "3s", 1, "received=2 missing=6 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			suffix := time.Now().UnixNano()
			apps := []string{fmt.Sprintf("exp%d-a", suffix), fmt.Sprintf("exp%d-b", suffix)}
			queue := fmt.Sprintf("metricsender-test-expect-%d", suffix)
			brokertest.DeleteQueueAtCleanup(t, uri, queue)
			cfg := writeFile(t, "c.yaml", fmt.Sprintf("deployments:\n  - name: %s\n    metrics: {cpu: [0.5]}\n  - name: %s\n    metrics: {cpu: [0.5]}\n", apps[0], apps[1]))
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			recv := startCLI(t, ctx, "receive", "--uri", uri, "--queue", queue,
				"--topic", "Metrics."+apps[0], "--topic", "Metrics."+apps[1],
				"--check", "--config", cfg, "--expect", "4", "--timeout", tt.timeout, "--output", "json")
			brokertest.WaitConsumer(t, ctx, uri, queue)
			if tt.send {
				if code, _, stderr := runCLI(t, ctx, "send", "-c", cfg, "--uri", uri, "--interval", "10ms", "--count", "4", "--http-addr", ""); code != 0 {
					t.Fatalf("send exit %d: %s", code, stderr)
				}
			} else {
				for seq := 1; seq <= 2; seq++ {
					body := fmt.Sprintf(`{"app":%q,"metrics":{"cpu":"0.5"},"seq":%d,"run":"r1","time":"2026-11-25T17:30:0%d.000Z"}`, apps[0], seq, seq)
					brokertest.Publish(t, uri, "is", "Metrics."+apps[0], amqp.Publishing{
						ReplyTo: apps[0], ContentType: "application/json", Headers: amqp.Table{"cpu": "0.5"},
						Timestamp: time.Unix(time.Date(2026, 11, 25, 17, 30, seq, 0, time.UTC).UnixMilli(), 0), Body: []byte(body),
					})
				}
			}
			r := <-recv
			if r.code != tt.wantCode {
				t.Errorf("receive exit %d, want %d:\n%s", r.code, tt.wantCode, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("summary %q not in:\n%s", tt.want, r.stderr)
			}
		})
	}
}
