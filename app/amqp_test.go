package app_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/wiretest"
)

// plainConsumer binds an exclusive queue to exchange "is" with pattern, using
// a plain amqp091-go client, so the wire is checked without our decoder.
func plainConsumer(t *testing.T, uri, pattern string) <-chan amqp.Delivery {
	t.Helper()
	return plainConsumerOn(t, uri, "is", pattern)
}

// plainConsumerOn is plainConsumer on another exchange: a test's own, so
// that what other tests publish at the same time does not reach it.
func plainConsumerOn(t *testing.T, uri, exchange, pattern string) <-chan amqp.Delivery {
	t.Helper()
	ch := brokertest.Channel(t, uri)
	// Exactly the is-wire declaration: any other flag would fail with 406.
	if err := ch.ExchangeDeclare(exchange, "topic", false, false, false, false, nil); err != nil {
		t.Fatalf("declare exchange %s with is-wire flags: %v", exchange, err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, pattern, exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return deliveries
}

var upperHex = regexp.MustCompile(`^[0-9A-F]{1,16}$`)

func TestSendOnTheWire(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	app := fmt.Sprintf("wire%d", time.Now().UnixNano())
	cfg := writeFile(t, "c.yaml", fmt.Sprintf(`interval: 60s
deployments:
  - name: %s
    metrics:
      cpu: [0.5, 0.8, 1.0]
      memory: [128Mi]
`, app))
	deliveries := plainConsumer(t, uri, "Metrics."+app)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	before := time.Now()
	code, _, stderr := runCLI(t, ctx, "send", "-c", cfg, "--uri", uri, "--interval", "50ms", "--count", "3", "--http-addr", "")
	if code != 0 {
		t.Fatalf("send exit %d: %s", code, stderr)
	}
	for i := 1; i <= 3; i++ {
		var d amqp.Delivery
		select {
		case d = <-deliveries:
		case <-ctx.Done():
			t.Fatalf("message %d never arrived", i)
		}
		t.Run(fmt.Sprintf("message %d", i), func(t *testing.T) {
			if d.Exchange != "is" || d.RoutingKey != "Metrics."+app {
				t.Errorf("exchange/routing key %q/%q", d.Exchange, d.RoutingKey)
			}
			if d.ReplyTo != app {
				t.Errorf("reply_to %q, want %q", d.ReplyTo, app)
			}
			if !upperHex.MatchString(d.CorrelationId) {
				t.Errorf("correlation_id %q is not upper-case hex of a uint64", d.CorrelationId)
			}
			if _, err := strconv.ParseUint(d.CorrelationId, 16, 64); err != nil {
				t.Errorf("correlation_id %q: %v", d.CorrelationId, err)
			}
			ms := d.Timestamp.Unix() // milliseconds on the wire
			if got := time.UnixMilli(ms); got.Before(before.Add(-time.Second)) || got.After(time.Now().Add(time.Second)) {
				t.Errorf("timestamp field %d is not milliseconds of now (%s)", ms, got)
			}
			if d.ContentType != "application/json" {
				t.Errorf("content_type %q", d.ContentType)
			}
			if d.MessageId != "" || d.DeliveryMode != 0 || d.Priority != 0 || d.Type != "" || d.AppId != "" || d.Expiration != "" {
				t.Errorf("fields is-wire never sets: id=%q mode=%d prio=%d type=%q app=%q exp=%q",
					d.MessageId, d.DeliveryMode, d.Priority, d.Type, d.AppId, d.Expiration)
			}
			if len(d.Headers) != 2 {
				t.Errorf("headers %v, want exactly cpu and memory", d.Headers)
			}
			cpu, ok := d.Headers["cpu"].(string)
			if !ok || !slices.Contains([]string{"0.5", "0.8", "1.0"}, cpu) {
				t.Errorf("header cpu = %#v, want one of the listed strings", d.Headers["cpu"])
			}
			if mem, ok := d.Headers["memory"].(string); !ok || mem != "128Mi" {
				t.Errorf("header memory = %#v, want the string 128Mi", d.Headers["memory"])
			}
			env, err := wiretest.DecodeEnvelope(d.Body)
			if err != nil {
				t.Fatalf("envelope %s: %v", d.Body, err)
			}
			if env.App != app || env.Seq != uint64(i) || env.Run == "" || env.Metrics["cpu"] != cpu || env.Metrics["memory"] != "128Mi" {
				t.Errorf("envelope %s", d.Body)
			}
			tm, err := time.Parse(time.RFC3339Nano, env.Time)
			if err != nil || tm.UnixMilli() != ms {
				t.Errorf("envelope time %q vs timestamp %d ms: %v", env.Time, ms, err)
			}
		})
	}
}

// publishLikePython publishes exactly as the Python sender (is-wire) did:
// empty body, no content type, utf-8 encoding, string headers, reply_to the
// app name, a millisecond timestamp.
func publishLikePython(t *testing.T, uri, app string, headers amqp.Table) {
	t.Helper()
	brokertest.Publish(t, uri, "is", "Metrics."+app, amqp.Publishing{
		Headers:         headers,
		ContentEncoding: "utf-8",
		ReplyTo:         app,
		CorrelationId:   "9F3A0C11D2E4B577",
		Timestamp:       time.Unix(time.Now().UnixMilli(), 0),
	})
}

func TestReceivePythonMessage(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	app := fmt.Sprintf("py%d", time.Now().UnixNano())
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := startCLI(t, ctx, "receive", "--uri", uri, "--topic", "Metrics."+app,
				"--count", "1", "--timeout", "20s", "--output", output)
			// Publish until the receiver's queue is bound and it exits.
			r := publishUntilDone(t, done, func() {
				publishLikePython(t, uri, app, amqp.Table{"memory": "512", "cpu": "0.8"})
			})
			if r.code != 0 {
				t.Fatalf("receive exit %d: %s", r.code, r.stderr)
			}
			want := "========================================\n" +
				"Aplicação: " + app + "\n" +
				"Recursos recebidos:\n" +
				"  - cpu: 0.8\n" +
				"  - memory: 512\n" +
				"========================================\n"
			if output == "json" {
				want = `{"app":"` + app + `","topic":"Metrics.` + app + `","metrics":{"cpu":"0.8","memory":"512"},"time":"`
				if !strings.HasPrefix(r.stdout, want) || !strings.HasSuffix(r.stdout, `","correlation_id":"9F3A0C11D2E4B577"}`+"\n") {
					t.Errorf("json line:\n%s\nwant prefix:\n%s", r.stdout, want)
				}
				return
			}
			if r.stdout != want {
				t.Errorf("block:\n%q\nwant:\n%q", r.stdout, want)
			}
		})
	}
}

func TestReceiveTimeout(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, _, stderr := runCLI(t, ctx, "receive", "--uri", uri, "--topic", "Metrics.nobody-sends-this",
		"--count", "1", "--timeout", "500ms")
	if code != 1 || !strings.Contains(stderr, "--count not reached: 0 of 1 messages within 500ms") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestWrongPassword(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	bad := strings.Replace(uri, "guest:guest", "guest:wrong-s3cret", 1)
	if bad == uri {
		t.Skip("AMQP_URI has no guest:guest to spoil")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, stdout, stderr := runCLI(t, ctx, "send", "-c", example, "--uri", bad, "--count", "1", "--http-addr", "")
	if code != 1 {
		t.Errorf("exit %d, want 1: %s", code, stderr)
	}
	if strings.Contains(stdout+stderr, "wrong-s3cret") {
		t.Errorf("password leaked: %s", stderr)
	}
	if lines := strings.Count(stderr, "metricsender: "); lines != 1 {
		t.Errorf("want one clear error line, got:\n%s", stderr)
	}
}

func TestExchangeDeclaredWithOtherFlags(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	exchange := fmt.Sprintf("metricsender-test-durable-%d", time.Now().UnixNano())
	// Closed at cleanup, after the exchange is deleted (cleanups run last first).
	ch := brokertest.Channel(t, uri)
	// Durable: not what is-wire declares, so our declaration must be refused (406).
	if err := ch.ExchangeDeclare(exchange, "topic", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.ExchangeDelete(exchange, false, false) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, _, stderr := runCLI(t, ctx, "send", "-c", example, "--uri", uri, "--exchange", exchange, "--count", "1", "--http-addr", "")
	if code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, stderr)
	}
	if lines := strings.Count(stderr, "metricsender: "); lines != 1 || !strings.Contains(stderr, exchange) {
		t.Errorf("want one clear line naming the exchange, got:\n%s", stderr)
	}
}

// With nothing bound, every message of every deployment comes back from the
// broker. The log must stay readable anyway: the first one, then summaries.
func TestSendUnroutableDoesNotFloodTheLog(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	app := fmt.Sprintf("flood%d", time.Now().UnixNano())
	cfg := writeFile(t, "c.yaml", fmt.Sprintf(`deployments:
  - name: %s
    count: 1000
    metrics:
      cpu: [0.5]
`, app))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, _, stderr := runCLI(t, ctx, "send", "-c", cfg, "--uri", uri, "--interval", "100ms", "--count", "10", "--http-addr", "")
	if code != 0 {
		t.Fatalf("send exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, `msg="message unroutable`) {
		t.Fatalf("no unroutable warning at all: the messages were routed, so this test proves nothing:\n%s", stderr)
	}
	warnings := 0
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			warnings++
		}
	}
	if warnings >= 5 {
		t.Errorf("%d warning lines for 10 ticks of 1,000 unroutable deployments, want < 5:\n%s", warnings, stderr)
	}
	if !regexp.MustCompile(`unroutable=\d+ deployments=\d+ example=Metrics\.` + app).MatchString(stderr) {
		t.Errorf("no summary line with unroutable=N deployments=D example=Metrics.%s…:\n%s", app, stderr)
	}
}
