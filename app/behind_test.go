package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
)

// When the schedule runs ahead of what the broker takes (here 200 messages
// due every millisecond, with confirms), send falls behind: every tick is
// still sent, one after another in grid order, late, and the tick log says
// how late. The queue then holds exactly deployments x count messages (issue 5,
// item 2, at a size a test can afford).
func TestSendBehindScheduleSendsEveryTickLate(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	const deployments, ticks = 200, 30
	prefix := fmt.Sprintf("behind%d", time.Now().UnixNano())
	var cfg strings.Builder
	cfg.WriteString("deployments:\n")
	keys := make([]string, deployments)
	for i := range deployments {
		fmt.Fprintf(&cfg, "  - name: %s-%d\n    metrics: {cpu: [100m, 200m]}\n", prefix, i)
		keys[i] = fmt.Sprintf("Metrics.%s-%d", prefix, i)
	}
	queue := prefix
	ch := brokertest.Channel(t, uri)
	if _, err := ch.QueueDeclare(queue, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	brokertest.DeleteQueueAtCleanup(t, uri, queue)
	if err := ch.ExchangeDeclare("is", "topic", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := ch.QueueBind(queue, k, "is", false, nil); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	code, _, stderr := runCLI(t, ctx, "send", "-c", writeFile(t, "c.yaml", cfg.String()), "--uri", uri,
		"--interval", "1ms", "--count", fmt.Sprint(ticks), "--confirm", "--log-format", "json", "--http-addr", "")
	if code != 0 {
		t.Fatalf("send exit %d: %s", code, stderr)
	}
	if n := brokertest.QueueMessages(t, uri, queue); n != deployments*ticks {
		t.Errorf("queue holds %d messages, want exactly %d", n, deployments*ticks)
	}

	type tickLine struct {
		Msg      string        `json:"msg"`
		At       time.Duration `json:"at"`
		Messages int           `json:"messages"`
		Lag      time.Duration `json:"lag"`
	}
	var got []tickLine
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var l tickLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if l.Msg == "tick" {
			got = append(got, l)
		}
	}
	if len(got) != ticks {
		t.Fatalf("%d tick lines, want %d (none skipped):\n%s", len(got), ticks, stderr)
	}
	var maxLag time.Duration
	for k, l := range got {
		if l.At != time.Duration(k)*time.Millisecond || l.Messages != deployments {
			t.Errorf("tick line %d: at=%s messages=%d, want at=%s messages=%d", k, l.At, l.Messages, time.Duration(k)*time.Millisecond, deployments)
		}
		maxLag = max(maxLag, l.Lag)
	}
	t.Logf("largest tick lag %s over %d ticks", maxLag, ticks)
	// 200 confirmed messages take well over a millisecond on any broker.
	if maxLag < 5*time.Millisecond {
		t.Errorf("largest tick lag %s: the ticks ran on time, so this did not test falling behind", maxLag)
	}
}
