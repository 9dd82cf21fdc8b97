package app_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

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

// Over NATS the receiver reads headers by the same rules as over AMQP: a
// foreign body or a protobuf one is read from its headers, rpc-status is
// not a resource, and a content type is-wire refuses is a decode error.
func TestReceiveNATSForeignMessages(t *testing.T) {
	uri := brokertest.NATSURI(t)
	app := fmt.Sprintf("natsforeign%d", time.Now().UnixNano())
	nc, err := nats.Connect(uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	msg := func(ct, body string, kv ...string) *nats.Msg {
		m := &nats.Msg{Subject: "Metrics." + app, Data: []byte(body), Header: nats.Header{}}
		m.Header.Set("iswire.reply_to", app)
		m.Header.Set("iswire.timestamp_ms", "1796464800000")
		if ct != "" {
			m.Header.Set("iswire.content_type", ct)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m.Header.Set("metric."+kv[i], kv[i+1])
		}
		return m
	}
	msgs := []*nats.Msg{
		msg("text/plain", "cpu=0.5", "cpu", "0.5"), // refused
		msg("application/x-protobuf", "\x0a\x03abc", "cpu", "0.5"),
		msg("application/json", `{"note":"..."}`, "replicas", "3", "rpc-status", "OK"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recv := startCLI(t, ctx, "receive", "--uri", uri, "--topic", "Metrics."+app, "--count", "2", "--timeout", "20s", "--output", "json")
	// Core NATS keeps nothing for a subscriber not there yet: publish until the receiver has its two.
	r := publishUntilDone(t, recv, func() {
		for _, m := range msgs {
			if err := nc.PublishMsg(m); err != nil {
				t.Fatal(err)
			}
		}
	})
	if r.code != 0 {
		t.Fatalf("receive exit %d:\n%s", r.code, r.stderr)
	}
	// The subscription may start within a round: the two in either order.
	lines := strings.SplitAfter(r.stdout, "\n")
	slices.Sort(lines[:min(2, len(lines))])
	want := []string{
		fmt.Sprintf(`{"app":%q,"topic":"Metrics.%s","metrics":{"cpu":"0.5"},"time":"2026-12-05T10:00:00.000Z","correlation_id":""}`+"\n", app, app),
		fmt.Sprintf(`{"app":%q,"topic":"Metrics.%s","metrics":{"replicas":"3"},"time":"2026-12-05T10:00:00.000Z","correlation_id":""}`+"\n", app, app),
	}
	if len(lines) < 2 || lines[0] != want[0] || lines[1] != want[1] {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, strings.Join(want, ""))
	}
	if !strings.Contains(r.stderr, `content type \"text/plain\"`) {
		t.Errorf("the refused content type was not reported:\n%s", r.stderr)
	}
}
