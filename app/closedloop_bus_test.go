package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/internal/brokertest"
)

// wireCPU is one Metrics.{app} message as a plain client read it: its
// timestamp (the tick's time) and its cpu header.
type wireCPU struct {
	at  time.Time
	cpu string
}

// busLoopInterval is the tick of the closed-loop tests: long enough that
// "within two ticks" does not hang on scheduling noise.
const busLoopInterval = 300 * time.Millisecond

// testClosedLoopBus runs send with --feedback bus (args add the broker)
// for app, whose state is replicas 2 and cpu = 2.0 / replicas: it must
// send 1, and within two ticks of publish(app, "4") (replicas: "4" on
// Allocation.{app}), 0.5. A message for an app the config does not have
// is counted, not fatal. values are app's messages, read with a plain
// client of the broker.
func testClosedLoopBus(t *testing.T, app string, args []string, values <-chan wireCPU, publish func(app, replicas string)) {
	t.Helper()
	cfg := writeFile(t, "loop.yaml", fmt.Sprintf("deployments:\n  - name: %s\n    state: {replicas: 2}\n    metrics:\n      cpu: {expr: \"2.0 / replicas\"}\n", app))
	addr := brokertest.FreeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := startCLI(t, ctx, append([]string{"send", "-c", cfg, "--interval", busLoopInterval.String(), "--http-addr", addr,
		"--feedback", "bus"}, args...)...)
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	for {
		code, _ := get("/readyz")
		if code == http.StatusOK {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("send exited %d before it was ready:\n%s", r.code, r.stderr)
		case <-ctx.Done():
			_, body := get("/readyz")
			t.Fatalf("send never ready: %s", body)
		case <-time.After(20 * time.Millisecond):
		}
	}
	next := func() wireCPU {
		t.Helper()
		select {
		case v := <-values:
			return v
		case r := <-done:
			t.Fatalf("send exited %d:\n%s", r.code, r.stderr)
		case <-ctx.Done():
			t.Fatal("no message in time")
		}
		return wireCPU{}
	}
	if v := next(); v.cpu != "1" {
		t.Fatalf("first cpu %q, want 1 (2.0 / the state's 2 replicas)", v.cpu)
	}

	publish("ghost"+app, "3") // not in the config: counted, not fatal
	publishedAt := time.Now()
	publish(app, "4")
	var before []string
	var first wireCPU
	for first.cpu != "0.5" {
		first = next()
		if first.cpu != "0.5" {
			before = append(before, first.cpu)
		}
	}
	for _, v := range before {
		if v != "1" {
			t.Errorf("cpu %q before 0.5, want 1 (values before: %q)", v, before)
		}
	}
	if lag := first.at.Sub(publishedAt); lag > 2*busLoopInterval {
		t.Errorf("first 0.5 at the tick %s after the feedback, want within two ticks (%s)", lag, 2*busLoopInterval)
	}
	for range 2 {
		if v := next(); v.cpu != "0.5" {
			t.Errorf("cpu %q after 0.5, want 0.5 from then on", v.cpu)
		}
	}

	// The ghost's message may travel on another connection than app's,
	// so the broker need not deliver it first: wait for both counts
	// (the events asserted below), not only for app's value.
	var metrics string
	for {
		_, metrics = get("/metrics")
		if strings.Contains(metrics, "metricsender_feedback_received_total 2") &&
			strings.Contains(metrics, `metricsender_feedback_errors_total{reason="unknown_app"} 1`) {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("send exited %d:\n%s", r.code, r.stderr)
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break // ctx ended: the assertions below say what is missing
	}
	for _, want := range []string{"metricsender_feedback_received_total 2", `metricsender_feedback_errors_total{reason="unknown_app"} 1`,
		`metricsender_feedback_errors_total{reason="bad_value"} 0`, fmt.Sprintf(`metricsender_observed_replicas{app=%q} 4`, app)} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if _, body := get("/v1/deployments/" + app); !strings.Contains(body, `"replicas":{"value":4,"source":"bus","at":"`) {
		t.Errorf("GET %s: %s\nwant replicas 4 set by bus", app, body)
	}
	cancel()
	r := <-done
	if r.code != 0 {
		t.Fatalf("send exit %d:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `msg="feedback for a deployment the config does not have, ignored"`) {
		t.Errorf("no warning about the unknown app:\n%s", r.stderr)
	}
}

// TestClosedLoopBusAMQP: the closed loop on the real RabbitMQ, the
// feedback published and the values read by plain amqp091-go clients.
func TestClosedLoopBusAMQP(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	app := fmt.Sprintf("web%d", time.Now().UnixNano())
	// An exchange of its own: the feedback counts are exact only if no
	// other test's Allocation.* reaches this sender.
	exchange := "loop-" + app
	admin := brokertest.Channel(t, uri)
	t.Cleanup(func() { _ = admin.ExchangeDelete(exchange, false, false) })
	deliveries := plainConsumerOn(t, uri, exchange, "Metrics."+app)
	values := make(chan wireCPU, 64)
	go func() {
		for d := range deliveries {
			cpu, _ := d.Headers["cpu"].(string)
			values <- wireCPU{at: time.UnixMilli(d.Timestamp.Unix()), cpu: cpu} // ms on the wire
		}
	}()
	testClosedLoopBus(t, app, []string{"--uri", uri, "--exchange", exchange}, values, func(app, replicas string) {
		brokertest.Publish(t, uri, exchange, "Allocation."+app, amqp.Publishing{
			Headers:       amqp.Table{"replicas": replicas},
			ReplyTo:       app,
			CorrelationId: "9F3A0C11D2E4B577",
			Timestamp:     time.Unix(time.Now().UnixMilli(), 0),
		})
	})
}

// TestClosedLoopBusNATS: the same over core NATS, with a plain nats.go
// client on both sides.
func TestClosedLoopBusNATS(t *testing.T) {
	uri := brokertest.NATSURI(t)
	app := fmt.Sprintf("web%d", time.Now().UnixNano())
	nc, err := nats.Connect(uri)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	values := make(chan wireCPU, 64)
	sub, err := nc.Subscribe("Metrics."+app, func(m *nats.Msg) {
		var ms int64
		_, _ = fmt.Sscan(m.Header.Get("iswire.timestamp_ms"), &ms)
		values <- wireCPU{at: time.UnixMilli(ms), cpu: m.Header.Get("metric.cpu")}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	testClosedLoopBus(t, app, []string{"--uri", uri}, values, func(app, replicas string) {
		// No reply_to: the subject names the app.
		msg := &nats.Msg{Subject: "Allocation." + app, Header: nats.Header{"metric.replicas": []string{replicas}}}
		if err := nc.PublishMsg(msg); err != nil {
			t.Errorf("publish: %v", err)
		}
		if err := nc.Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
	})
}

// TestFeedbackFromEnv: METRICSENDER_FEEDBACK takes a comma-separated
// list and METRICSENDER_FEEDBACK_TOPIC the pattern; over gochannel the bus
// source subscribes in process and the run ends as without feedback.
func TestFeedbackFromEnv(t *testing.T) {
	t.Setenv("METRICSENDER_FEEDBACK", "bus,api")
	t.Setenv("METRICSENDER_FEEDBACK_TOPIC", "lab.Feedback.#")
	cfg := writeFile(t, "loop.yaml", "deployments:\n  - name: web\n    state: {replicas: 2}\n    metrics:\n      cpu: {expr: \"2.0 / replicas\"}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, stdout, stderr := runCLI(t, ctx, "send", "-t", "gochannel", "-c", cfg, "--interval", "20ms", "--count", "3",
		"--output", "json", "--http-addr", "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := len(decodeLines(t, stdout)); n != 3 {
		t.Errorf("%d messages, want 3:\n%s", n, stdout)
	}
	if !strings.Contains(stderr, `msg="feedback subscribed"`) || !strings.Contains(stderr, `feedback=bus pattern=lab.Feedback.#`) {
		t.Errorf("no subscription to lab.Feedback.# logged:\n%s", stderr)
	}
}
