package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
)

func TestSendReceiveNATS(t *testing.T) {
	uri := brokertest.NATSURI(t)
	suffix := time.Now().UnixNano()
	cfg := writeFile(t, "c.yaml", fmt.Sprintf(`connection:
  uri: %s
deployments:
  - name: n%[2]d-a
    metrics: {cpu: [100m, 200m], memory: [128Mi]}
  - name: n%[2]d-b
    metrics: {gpu: [0, 1]}
`, uri, suffix))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const ticks = 5
	// The transport comes from the URI's scheme: no --transport needed.
	recv := startCLI(t, ctx, "receive", "-c", cfg, "--check", "--count", fmt.Sprint(2*ticks), "--timeout", "30s",
		"--topic", fmt.Sprintf("Metrics.n%d-a", suffix), "--topic", fmt.Sprintf("Metrics.n%d-b", suffix), "--output", "json")
	// Core NATS keeps nothing for a subscriber that is not there yet, so the
	// sender runs until the receiver has its count; gaps count from the
	// first seq the receiver sees, so a late subscription is not a loss.
	sendCtx, stopSend := context.WithCancel(ctx)
	defer stopSend()
	sent := startCLI(t, sendCtx, "send", "-c", cfg, "--interval", "50ms", "--http-addr", "")
	r := <-recv
	stopSend()
	if s := <-sent; s.code != 0 {
		t.Fatalf("send exit %d: %s", s.code, s.stderr)
	}
	if r.code != 0 {
		t.Fatalf("receive exit %d:\n%s", r.code, r.stderr)
	}
	want := fmt.Sprintf("received=%d missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0", 2*ticks)
	if !strings.Contains(r.stderr, want) {
		t.Errorf("summary %q not in:\n%s", want, r.stderr)
	}
	lines := decodeLines(t, r.stdout)
	for _, l := range lines {
		if l.Topic != "Metrics."+l.App || l.Seq == nil || l.Time == "" || l.CorrelationID == "" {
			t.Errorf("line %+v lacks a field that travels over NATS", l)
		}
	}
}

func TestNATSQueueNeedsJetStream(t *testing.T) {
	uri := brokertest.NATSURI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, _, stderr := runCLI(t, ctx, "receive", "--uri", uri, "--queue", "q1", "--count", "1", "--timeout", "1s")
	if code == 0 || !strings.Contains(stderr, "JetStream") {
		t.Errorf("exit %d, want a refusal naming JetStream:\n%s", code, stderr)
	}
}
