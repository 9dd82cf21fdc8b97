package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/labsea/metricsender/internal/brokertest"
)

// parityCase is one message as an is-wire-py program publishes it, and what
// the Python receiver prints of it: the metrics in name order, or nothing
// (printed false) when is-wire-py refuses it.
type parityCase struct {
	name    string
	pub     amqp.Publishing
	printed bool
	metrics string // "name: value" lines, in name order, joined by "\n"
	json    string // the JSON line's "metrics" object, and ,"seq":…,"run":… for our envelope
}

// TestReceiveReadsWhatPythonReads publishes, with a plain amqp091-go
// client, every kind of message the Python receiver (is-wire-py 1.2.1 +
// metricreceiver.py) prints, and the two kinds it refuses, and checks the
// printed block and the JSON line of each.
func TestReceiveReadsWhatPythonReads(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	app := fmt.Sprintf("parity%d", time.Now().UnixNano())
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	envelope := func(app, time string, seq int) []byte {
		return []byte(fmt.Sprintf(`{"app":%q,"metrics":{"cpu":"0.5"},"seq":%d,"run":"r1","time":%q}`, app, seq, time))
	}
	ours := at.Format("2006-01-02T15:04:05.000Z")
	// A real protobuf body: is-wire-py packs any message this way.
	packed, err := structpb.NewStruct(map[string]any{"cpu": 0.5, "note": "from a model"})
	if err != nil {
		t.Fatal(err)
	}
	protoBody, err := proto.Marshal(packed)
	if err != nil {
		t.Fatal(err)
	}
	// The refused ones first: the receiver stops at --count printed ones.
	cases := []parityCase{
		{name: "a content type is-wire refuses",
			pub: amqp.Publishing{ContentType: "text/plain", Headers: amqp.Table{"cpu": "0.5"}, Body: []byte("cpu=0.5")}},
		{name: "a boolean header",
			pub: amqp.Publishing{Headers: amqp.Table{"cpu": "0.5", "ready": true}}},
		{name: "the Python sender: empty body, no content type", printed: true,
			pub:     amqp.Publishing{ContentEncoding: "utf-8", Headers: amqp.Table{"memory": "512", "cpu": "0.8"}},
			metrics: "cpu: 0.8\nmemory: 512", json: `{"cpu":"0.8","memory":"512"}`},
		{name: "protobuf body", printed: true,
			pub:     amqp.Publishing{ContentType: "application/x-protobuf", Headers: amqp.Table{"cpu": "0.5"}, Body: protoBody},
			metrics: "cpu: 0.5", json: `{"cpu":"0.5"}`},
		{name: "another program's JSON body", printed: true,
			pub:     amqp.Publishing{ContentType: "application/json", Headers: amqp.Table{"replicas": "3"}, Body: []byte(`{"note": "scaled by hand"}`)},
			metrics: "replicas: 3", json: `{"replicas":"3"}`},
		{name: "our envelope whose time disagrees", printed: true,
			pub: amqp.Publishing{ContentType: "application/json", Headers: amqp.Table{"cpu": "0.5"},
				Body: envelope(app, at.Add(time.Second).Format("2006-01-02T15:04:05.000Z"), 7)},
			metrics: "cpu: 0.5", json: `{"cpu":"0.5"}`},
		{name: "our envelope naming another app", printed: true,
			pub:     amqp.Publishing{ContentType: "application/json", Headers: amqp.Table{"cpu": "0.5"}, Body: envelope("other", ours, 8)},
			metrics: "cpu: 0.5", json: `{"cpu":"0.5"}`},
		{name: "integer metadata", printed: true,
			pub:     amqp.Publishing{Headers: amqp.Table{"replicas": int32(5), "delta": int64(-5)}},
			metrics: "delta: -5\nreplicas: 5", json: `{"delta":"-5","replicas":"5"}`},
		{name: "double and float metadata", printed: true,
			pub:     amqp.Publishing{Headers: amqp.Table{"cpu": 0.25, "gpu": 5.0, "f32": float32(0.1), "huge": 1e16}},
			metrics: "cpu: 0.25\nf32: 0.10000000149011612\ngpu: 5.0\nhuge: 1e+16", json: `{"cpu":"0.25","f32":"0.10000000149011612","gpu":"5.0","huge":"1e+16"}`},
		{name: "decimal metadata", printed: true,
			pub:     amqp.Publishing{Headers: amqp.Table{"memory": amqp.Decimal{Scale: 2, Value: 25}}},
			metrics: "memory: 0.25", json: `{"memory":"0.25"}`},
		{name: "an is-wire reply's rpc-status is not a resource", printed: true,
			pub:     amqp.Publishing{Headers: amqp.Table{"cpu": "1", "rpc-status": `{"code":"OK"}`}},
			metrics: "cpu: 1", json: `{"cpu":"1"}`},
		{name: "our envelope", printed: true,
			pub:     amqp.Publishing{ContentType: "application/json", Headers: amqp.Table{"cpu": "0.5"}, Body: envelope(app, ours, 1)},
			metrics: "cpu: 0.5", json: `{"cpu":"0.5"},"seq":1,"run":"r1"`},
	}
	var printed, refused int
	var wantText, wantJSON strings.Builder
	for _, c := range cases {
		if !c.printed {
			refused++
			continue
		}
		printed++
		wantText.WriteString("========================================\nAplicação: " + app + "\nRecursos recebidos:\n")
		for _, l := range strings.Split(c.metrics, "\n") {
			wantText.WriteString("  - " + l + "\n")
		}
		wantText.WriteString("========================================\n")
		fmt.Fprintf(&wantJSON, `{"app":%q,"topic":"Metrics.%s","metrics":%s,"time":"2026-12-05T10:00:00.000Z","correlation_id":"9F3A0C11D2E4B577"}`+"\n",
			app, app, c.json)
	}
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			queue := "metricsender-test-" + app + "-" + output
			brokertest.DeleteQueueAtCleanup(t, uri, queue)
			recv := startCLI(t, ctx, "receive", "--uri", uri, "--queue", queue, "--topic", "Metrics."+app,
				"--count", fmt.Sprint(printed), "--timeout", "60s", "--output", output, "--log-level", "debug")
			brokertest.WaitConsumer(t, ctx, uri, queue)
			pub := newConfirmPublisher(t, uri)
			for _, c := range cases {
				p := c.pub
				p.ReplyTo, p.CorrelationId, p.Timestamp = app, "9F3A0C11D2E4B577", time.Unix(at.UnixMilli(), 0)
				pub.publish(t, "Metrics."+app, p)
			}
			r := <-recv
			if r.code != 0 {
				t.Fatalf("receive exit %d:\n%s", r.code, r.stderr)
			}
			want := wantText.String()
			if output == "json" {
				want = wantJSON.String()
			}
			if r.stdout != want {
				t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
			}
			if s := fmt.Sprintf("received=%d decode_errors=%d", printed, refused); !strings.Contains(r.stderr, s) {
				t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
			}
			if n := strings.Count(r.stderr, "the body disagrees with the headers"); n != 2 {
				t.Errorf("%d debug lines about a disagreeing envelope, want 2:\n%s", n, r.stderr)
			}
		})
	}
}
