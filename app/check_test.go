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
