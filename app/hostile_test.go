package app_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/app"
	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/syncbuf"
)

// hostileMsg is one message of the hostile stream: published with a plain
// amqp091-go client (pub) or, for what amqp091-go cannot send, raw frames.
type hostileMsg struct {
	name  string
	key   string // routing key
	pub   amqp.Publishing
	raw   *rawMessage // sent instead of pub when set
	valid bool        // the receiver must print it; else count a decode error
}

// TestReceiveHostileMessages: a receiver on a named (quorum) queue gets
// hostile messages interleaved with valid ones. It must print every valid
// one and every one is-wire-py's receiver prints, count each other one as a
// decode error (one warning line, then a summary), exit 0, and leave
// nothing in the queue (no requeue loop).
func TestReceiveHostileMessages(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	n := time.Now().UnixNano()
	appName := fmt.Sprintf("hostile%d", n)
	key := "Metrics." + appName
	queue := "metricsender-test-" + appName
	brokertest.DeleteQueueAtCleanup(t, uri, queue)

	run := fmt.Sprintf("run%d", n)
	seq := uint64(0)
	// valid is the envelope form, seq 1, 2, ... of one stream.
	valid := func(name string, replyTo string) hostileMsg {
		seq++
		at := time.Date(2026, 11, 25, 18, 0, int(seq), 0, time.UTC)
		body := fmt.Sprintf(`{"app":%q,"metrics":{"cpu":"0.5"},"seq":%d,"run":%q,"time":%q}`,
			appName, seq, run, at.Format("2006-01-02T15:04:05.000Z"))
		return hostileMsg{name: name, key: key, valid: true, pub: amqp.Publishing{
			ReplyTo: replyTo, ContentType: "application/json", Headers: amqp.Table{"cpu": "0.5"},
			Timestamp: time.Unix(at.UnixMilli(), 0), Body: []byte(body)}}
	}
	bad := func(name string, p amqp.Publishing) hostileMsg {
		if p.ReplyTo == "" {
			p.ReplyTo = appName
		}
		return hostileMsg{name: name, key: key, pub: p}
	}
	header := func(v any) amqp.Publishing {
		return amqp.Publishing{Headers: amqp.Table{"cpu": "0.5", "weird": v}}
	}
	huge := bytes.Repeat([]byte("x"), 1<<20)
	// foreign is a message is-wire-py's receiver prints: read from its headers.
	foreign := func(name string, p amqp.Publishing) hostileMsg {
		m := bad(name, p)
		m.valid = true
		return m
	}
	msgs := []hostileMsg{
		valid("first", appName),
		foreign("int32 header", header(int32(7))),
		foreign("int64 header", header(int64(-5))),
		valid("after ints", appName),
		bad("nested table header", header(amqp.Table{"a": "b"})),
		bad("bytes header", header([]byte("raw"))),
		bad("bool header", header(true)),
		foreign("float header", header(0.5)),
		bad("nil header", header(nil)),
		valid("after headers", appName),
		foreign("invalid JSON", amqp.Publishing{ContentType: "application/json", Headers: amqp.Table{"cpu": "0.5"}, Body: []byte(`{"app":`)}),
		bad("text/plain", amqp.Publishing{ContentType: "text/plain", Headers: amqp.Table{"cpu": "0.5"}, Body: []byte("cpu=0.5")}),
		foreign("protobuf", amqp.Publishing{ContentType: "application/x-protobuf", Headers: amqp.Table{"cpu": "0.5"}, Body: []byte{0x0a, 0x03}}),
		foreign("1 MiB body", amqp.Publishing{ContentType: "application/json", Headers: amqp.Table{"cpu": "0.5"}, Body: huge}),
		bad("reply_to not UTF-8", amqp.Publishing{ReplyTo: appName + "\xff", Headers: amqp.Table{"cpu": "0.5"}}),
		valid("no reply_to: app from the topic", ""),
		{name: "no reply_to, topic Metrics.", key: "Metrics.", pub: amqp.Publishing{Headers: amqp.Table{"cpu": "0.5"}}},
		// The codec's contract: the app is the topic after "Metrics.", dots included.
		{name: "no reply_to, topic Metrics.app.b (Python form)", key: key + ".b", valid: true,
			pub: amqp.Publishing{ContentEncoding: "utf-8", Headers: amqp.Table{"cpu": "0.5"}}},
		// The headers win; seq 99 of a disagreeing body must not count as a gap.
		foreign("envelope disagrees with headers", amqp.Publishing{ContentType: "application/json", Headers: amqp.Table{"cpu": "0.5"},
			Body: []byte(fmt.Sprintf(`{"app":%q,"metrics":{"cpu":"0.9"},"seq":99,"run":%q,"time":"2026-11-25T18:00:00.000Z"}`, appName, run))}),
		// py-amqp writes an integer >= 2^31 with type 'L', which amqp091-go
		// cannot parse; a quorum queue re-encodes it (as 'l') on the way
		// out, so it arrives as an int64 and prints as Python prints it.
		{name: "py-amqp 'L' header >= 2^31", key: key, valid: true, raw: &rawMessage{key: key, replyTo: appName,
			headers: []rawField{stringField("cpu", "0.5"), int64Field("big", 1<<31)}}},
		{name: "raw publisher, string headers", key: key, valid: true, raw: &rawMessage{key: key, replyTo: appName,
			headers: []rawField{stringField("cpu", "0.5")}}},
		valid("last", appName),
	}
	var wantValid, wantBad int
	for _, m := range msgs {
		if m.valid {
			wantValid++
		} else {
			wantBad++
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	recv := startCLI(t, ctx, "receive", "--uri", uri, "--queue", queue,
		"--topic", key, "--topic", key+".#", "--topic", "Metrics.",
		"--check", "--count", fmt.Sprint(wantValid), "--timeout", "90s", "--output", "json")
	brokertest.WaitConsumer(t, ctx, uri, queue)
	pub := newConfirmPublisher(t, uri)
	for _, m := range msgs {
		if m.raw != nil {
			rawPublish(t, uri, *m.raw)
			continue
		}
		pub.publish(t, m.key, m.pub)
	}

	r := <-recv
	if r.code != 0 {
		t.Fatalf("receive exit %d, want 0:\n%s", r.code, r.stderr)
	}
	lines := decodeLines(t, r.stdout)
	if len(lines) != wantValid {
		t.Errorf("%d messages printed, want the %d valid ones:\n%s", len(lines), wantValid, r.stdout)
	}
	for _, l := range lines {
		if l.Metrics["cpu"] != "0.5" || !strings.HasPrefix(l.App, appName) {
			t.Errorf("printed %+v, want app %s... with cpu 0.5", l, appName)
		}
	}
	want := fmt.Sprintf("received=%d missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=%d", wantValid, wantBad)
	if !strings.Contains(r.stderr, want) {
		t.Errorf("summary %q not in:\n%s", want, r.stderr)
	}
	// The first in full, the rest in one summary line at the end.
	if got := strings.Count(r.stderr, `msg="undecodable message"`); got != 1 {
		t.Errorf("%d full \"undecodable message\" lines, want 1:\n%s", got, r.stderr)
	}
	if want := fmt.Sprintf(`msg="undecodable message (summary)" decode_errors=%d`, wantBad-1); !strings.Contains(r.stderr, want) {
		t.Errorf("no summary %q in:\n%s", want, r.stderr)
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Errorf("panic on stderr:\n%s", r.stderr)
	}
	if got := brokertest.QueueMessages(t, uri, queue); got != 0 {
		t.Errorf("%d messages left in %s, want 0 (acked, not requeued); the first: %s", got, queue, firstLeft(t, uri, queue))
	}
}

// firstLeft takes the first message off a queue and describes it.
func firstLeft(t *testing.T, uri, queue string) string {
	t.Helper()
	conn, err := amqp.Dial(uri)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err.Error()
	}
	d, ok, err := ch.Get(queue, true)
	if err != nil || !ok {
		return fmt.Sprintf("none (%v)", err)
	}
	return fmt.Sprintf("redelivered=%v headers=%v body=%.200s", d.Redelivered, d.Headers, d.Body)
}

// TestReceiveSurvivesUnparsableHeader: on its default exclusive queue a
// receiver gets a header amqp091-go cannot parse (py-amqp's 'L' for an
// integer >= 2^31); amqp091-go closes the whole connection. The receiver
// must count it as a decode error with one warning, reconnect by itself and
// print what comes next.
func TestReceiveSurvivesUnparsableHeader(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	appName := fmt.Sprintf("unparsable%d", time.Now().UnixNano())
	key := "Metrics." + appName
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var stdout, stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- app.RunContext(runCtx, []string{"metricsender", "receive", "--uri", uri, "--topic", key,
			"--output", "json"}, &stdout, &stderr)
	}()
	pub := newConfirmPublisher(t, uri)
	before := amqp.Publishing{ReplyTo: appName, Headers: amqp.Table{"cpu": "0.1"}}
	after := amqp.Publishing{ReplyTo: appName, Headers: amqp.Table{"cpu": "0.2"}}
	// The exclusive queue's name is the receiver's: publish until it is bound.
	waitFor(t, ctx, &stdout, "the first message", func() { pub.publish(t, key, before) },
		func(s string) bool { return strings.Contains(s, `"0.1"`) })

	rawPublish(t, uri, rawMessage{key: key, replyTo: appName, headers: []rawField{stringField("cpu", "0.5"), int64Field("big", 1<<31)}})
	waitFor(t, ctx, &stderr, "the receiver to resume after the connection drop", nil,
		func(s string) bool { return strings.Contains(s, "consuming again") })
	// What was published during the drop is lost with the exclusive queue
	// (by design): publish until the rebound queue delivers.
	waitFor(t, ctx, &stdout, "a message after the reconnect", func() { pub.publish(t, key, after) },
		func(s string) bool { return strings.Contains(s, `"0.2"`) })
	stop()
	if code := <-done; code != 0 {
		t.Errorf("receive exit %d, want 0:\n%s", code, stderr.String())
	}
	if strings.Contains(stdout.String(), `"0.5"`) {
		t.Errorf("the unparsable message was printed:\n%s", stdout.String())
	}
	if strings.Contains(stderr.String(), "panic") {
		t.Errorf("panic on stderr:\n%s", stderr.String())
	}
	if n := strings.Count(stderr.String(), "cannot read"); n != 1 {
		t.Errorf("%d warnings about the unreadable message, want 1:\n%s", n, stderr.String())
	}
	t.Logf("receiver log:\n%s", stderr.String())
}

// TestReceiveRedeliveredFromQuorumQueue: a message a consumer gave back
// (a connection cut mid-delivery does the same) comes again from a quorum
// queue with the broker's integer x-delivery-count header. It is still the
// same valid message: the receiver must print it, not count a decode error.
func TestReceiveRedeliveredFromQuorumQueue(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	appName := fmt.Sprintf("redelivered%d", time.Now().UnixNano())
	key := "Metrics." + appName
	queue := "metricsender-test-" + appName
	brokertest.DeleteQueueAtCleanup(t, uri, queue)
	ch := brokertest.Channel(t, uri)
	// Declared as receive --queue declares a missing queue.
	if _, err := ch.QueueDeclare(queue, true, false, false, false,
		amqp.Table{"x-queue-type": "quorum", "x-delivery-limit": 5}); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(queue, key, "is", false, nil); err != nil {
		t.Fatal(err)
	}
	newConfirmPublisher(t, uri).publish(t, key, amqp.Publishing{ReplyTo: appName, Headers: amqp.Table{"cpu": "0.5"}})
	d, ok, err := ch.Get(queue, false)
	if err != nil || !ok {
		t.Fatalf("get: ok=%v err=%v", ok, err)
	}
	if err := d.Nack(false, true); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, stdout, stderr := runCLI(t, ctx, "receive", "--uri", uri, "--queue", queue, "--topic", key,
		"--check", "--count", "1", "--timeout", "30s", "--output", "json")
	if code != 0 {
		t.Errorf("receive exit %d, want 0:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "received=1 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0") {
		t.Errorf("the redelivered message was not received as valid:\n%s", stderr)
	}
	if strings.TrimSpace(stdout) == "" {
		t.Fatal("nothing printed, want the message")
	}
	if lines := decodeLines(t, stdout); len(lines) != 1 || len(lines[0].Metrics) != 1 {
		t.Errorf("printed %v, want the one message with its one metric (cpu)", lines)
	}
}
