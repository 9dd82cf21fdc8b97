package transport

import (
	"bytes"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
)

// wireMsg builds a message in its codec form by hand (the codec package
// is tested on its own).
func wireMsg(topic string, metrics map[string]string, body string) *message.Message {
	m := message.NewMessage("uuid-1", []byte(body))
	m.Metadata = message.Metadata{
		codec.KeyTopic:         topic,
		codec.KeyReplyTo:       strings.TrimPrefix(topic, codec.TopicPrefix),
		codec.KeyCorrelationID: "9F3A0C11D2E4B577",
		codec.KeyTimestamp:     "1764091800123",
		codec.KeyContentType:   codec.ContentTypeJSON,
	}
	for k, v := range metrics {
		m.Metadata[codec.MetricPrefix+k] = v
	}
	return m
}

func TestWireMarshalerMarshal(t *testing.T) {
	tests := []struct {
		name    string
		md      message.Metadata
		want    amqp091.Publishing
		wantErr error
	}{
		{
			name: "full message",
			md:   wireMsg("Metrics.app1", map[string]string{"cpu": "0.5", "memory": "512"}, "").Metadata,
			want: amqp091.Publishing{
				ReplyTo:       "app1",
				CorrelationId: "9F3A0C11D2E4B577",
				Timestamp:     time.Unix(1764091800123, 0),
				ContentType:   codec.ContentTypeJSON,
				Headers:       amqp091.Table{"cpu": "0.5", "memory": "512"},
			},
		},
		{
			name: "a metric named like a property stays a header",
			md: message.Metadata{
				codec.MetricPrefix + "reply_to": "x",
				codec.KeyReplyTo:                "app",
			},
			want: amqp091.Publishing{ReplyTo: "app", Headers: amqp091.Table{"reply_to": "x"}},
		},
		{
			name: "no metadata: empty non-nil headers, nothing else",
			md:   message.Metadata{},
			want: amqp091.Publishing{Headers: amqp091.Table{}},
		},
		{
			name: "unknown and codec-internal keys are not headers",
			md: message.Metadata{
				codec.KeyTopic:       "Metrics.a",
				codec.KeyDecodeError: "x",
				"other":              "y",
				"metric.":            "z",
			},
			want: amqp091.Publishing{Headers: amqp091.Table{"": "z"}},
		},
		{
			name: "content encoding and protobuf",
			md:   message.Metadata{codec.KeyContentEncoding: "utf-8", codec.KeyContentType: codec.ContentTypeProtobuf},
			want: amqp091.Publishing{ContentEncoding: "utf-8", ContentType: codec.ContentTypeProtobuf, Headers: amqp091.Table{}},
		},
		{
			name:    "other content type",
			md:      message.Metadata{codec.KeyContentType: "text/plain"},
			wantErr: errContentType,
		},
		{
			name:    "timestamp not an integer",
			md:      message.Metadata{codec.KeyTimestamp: "1.5"},
			wantErr: errTimestampForTest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := message.NewMessage("u", []byte("body"))
			msg.Metadata = tt.md
			got, err := wireMarshaler{}.Marshal(msg)
			checkErr := checkWire(tt.md)
			if tt.wantErr != nil {
				if err == nil || checkErr == nil {
					t.Fatalf("Marshal err = %v, checkWire err = %v; want both to fail", err, checkErr)
				}
				if tt.wantErr != errTimestampForTest && !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || checkErr != nil {
				t.Fatalf("Marshal err = %v, checkWire err = %v", err, checkErr)
			}
			tt.want.Body = []byte("body")
			assertPublishing(t, got, tt.want)
		})
	}
}

// errTimestampForTest stands for "any error" in the table above.
var errTimestampForTest = errors.New("any")

func assertPublishing(t *testing.T, got, want amqp091.Publishing) {
	t.Helper()
	if got.Headers == nil {
		t.Error("Headers is nil, want a table")
	}
	if !maps.Equal(got.Headers, want.Headers) {
		t.Errorf("Headers = %v, want %v", got.Headers, want.Headers)
	}
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("Body = %q, want %q", got.Body, want.Body)
	}
	if !got.Timestamp.Equal(want.Timestamp) {
		t.Errorf("Timestamp = %v, want %v", got.Timestamp, want.Timestamp)
	}
	type props struct {
		ContentType, ContentEncoding, CorrelationId, ReplyTo, Expiration string
		MessageId, Type, UserId, AppId                                   string
		DeliveryMode, Priority                                           uint8
	}
	g := props{got.ContentType, got.ContentEncoding, got.CorrelationId, got.ReplyTo, got.Expiration,
		got.MessageId, got.Type, got.UserId, got.AppId, got.DeliveryMode, got.Priority}
	w := props{want.ContentType, want.ContentEncoding, want.CorrelationId, want.ReplyTo, want.Expiration,
		want.MessageId, want.Type, want.UserId, want.AppId, want.DeliveryMode, want.Priority}
	if g != w {
		t.Errorf("properties = %+v, want %+v", g, w)
	}
}

func TestWireMarshalerUnmarshal(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1<<20)
	tests := []struct {
		name string
		d    amqp091.Delivery
		want message.Metadata
		uuid string
		body []byte
	}{
		{
			name: "our message",
			d: amqp091.Delivery{
				RoutingKey: "Metrics.app1", ReplyTo: "app1", CorrelationId: "9F3A0C11D2E4B577",
				Timestamp: time.Unix(1764091800123, 0), ContentType: codec.ContentTypeJSON,
				Headers: amqp091.Table{"cpu": "0.5"}, Body: []byte(`{}`),
			},
			want: message.Metadata{
				codec.KeyTopic: "Metrics.app1", codec.KeyReplyTo: "app1",
				codec.KeyCorrelationID: "9F3A0C11D2E4B577", codec.KeyTimestamp: "1764091800123",
				codec.KeyContentType: codec.ContentTypeJSON, "metric.cpu": "0.5",
			},
			uuid: "9F3A0C11D2E4B577",
			body: []byte(`{}`),
		},
		{
			name: "python sender: empty body, utf-8, no content type",
			d: amqp091.Delivery{
				RoutingKey: "Metrics.app2", ReplyTo: "app2", ContentEncoding: "utf-8",
				Headers: amqp091.Table{"gpu": "1"}, ConsumerTag: "ctag", DeliveryTag: 7,
			},
			want: message.Metadata{
				codec.KeyTopic: "Metrics.app2", codec.KeyReplyTo: "app2",
				codec.KeyContentEncoding: "utf-8", "metric.gpu": "1",
			},
			uuid: "ctag:7",
		},
		{
			name: "numbers print as the Python receiver prints them",
			d: amqp091.Delivery{RoutingKey: "Metrics.x", Headers: amqp091.Table{
				"replicas": int32(5), "big": int64(1 << 40), "neg": int64(-5), "cpu": 0.25, "half": float32(0.5),
				"mem": amqp091.Decimal{Scale: 2, Value: 25}, "rpc-status": amqp091.Table{"code": int32(0)},
			}},
			want: message.Metadata{
				codec.KeyTopic: "Metrics.x", "metric.replicas": "5", "metric.big": "1099511627776", "metric.neg": "-5",
				"metric.cpu": "0.25", "metric.half": "0.5", "metric.mem": "0.25",
			},
		},
		{
			name: "types is-wire's receiver does not print are reported",
			d: amqp091.Delivery{
				RoutingKey: "Metrics.x",
				Headers: amqp091.Table{
					"cpu": "1", "b": true, "a": amqp091.Table{"n": "1"}, "c": []byte("raw"),
				},
			},
			want: message.Metadata{
				codec.KeyTopic: "Metrics.x", "metric.cpu": "1",
				codec.KeyDecodeError: `header "a": table, want a string or a number`,
			},
		},
		{
			name: "void",
			d:    amqp091.Delivery{RoutingKey: "Metrics.x", Headers: amqp091.Table{"none": nil}},
			want: message.Metadata{codec.KeyTopic: "Metrics.x", codec.KeyDecodeError: `header "none": void, want a string or a number`},
		},
		{
			name: "broker annotations of a redelivery are neither metrics nor errors",
			d: amqp091.Delivery{RoutingKey: "Metrics.q", Headers: amqp091.Table{
				"cpu": "1", "x-delivery-count": int64(2), "x-death": []any{amqp091.Table{"count": int64(1)}},
				"x-first-death-reason": "rejected", "x-last-death-queue": "q",
			}},
			want: message.Metadata{codec.KeyTopic: "Metrics.q", "metric.cpu": "1"},
		},
		{
			name: "nothing at all",
			d:    amqp091.Delivery{},
			want: message.Metadata{codec.KeyTopic: ""},
		},
		{
			name: "1 MiB body",
			d:    amqp091.Delivery{RoutingKey: "Metrics.big", CorrelationId: "A", Body: big},
			want: message.Metadata{codec.KeyTopic: "Metrics.big", codec.KeyCorrelationID: "A"},
			uuid: "A",
			body: big,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := wireMarshaler{}.Unmarshal(tt.d)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !maps.Equal(msg.Metadata, tt.want) {
				t.Errorf("Metadata = %v, want %v", msg.Metadata, tt.want)
			}
			if tt.uuid != "" && msg.UUID != tt.uuid {
				t.Errorf("UUID = %q, want %q", msg.UUID, tt.uuid)
			}
			if msg.UUID == "" {
				t.Error("UUID is empty")
			}
			if !bytes.Equal(msg.Payload, tt.body) {
				t.Errorf("Payload = %d bytes, want %d", len(msg.Payload), len(tt.body))
			}
		})
	}
}

func TestWireMarshalerRoundTrip(t *testing.T) {
	in := wireMsg("Metrics.app1", map[string]string{"cpu": "0.5", "memory": "512Mi"}, `{"app":"app1"}`)
	pub, err := wireMarshaler{}.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := wireMarshaler{}.Unmarshal(amqp091.Delivery{
		RoutingKey: "Metrics.app1", Headers: pub.Headers, ContentType: pub.ContentType,
		ReplyTo: pub.ReplyTo, CorrelationId: pub.CorrelationId,
		Timestamp: time.Unix(pub.Timestamp.Unix(), 0), Body: pub.Body,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(out.Metadata, in.Metadata) {
		t.Errorf("round trip: %v, want %v", out.Metadata, in.Metadata)
	}
}

// FuzzUnmarshal: any delivery maps to a message, never a panic or an error.
func FuzzUnmarshal(f *testing.F) {
	f.Add("Metrics.app1", "app1", "9F3A0C11D2E4B577", "application/json", int64(1764091800123), []byte(`{"app":"app1"}`), "cpu", uint8(0), "0.5")
	f.Add("", "", "", "", int64(0), []byte{}, "", uint8(1), "")
	f.Add("Metrics.*", "x", "not-hex", "text/plain", int64(-1), []byte{0xff}, "n", uint8(2), "9")
	f.Fuzz(func(t *testing.T, rk, replyTo, corr, ct string, ts int64, body []byte, hk string, kind uint8, hv string) {
		var v any
		switch kind % 8 {
		case 0:
			v = hv
		case 1:
			v = int32(len(hv))
		case 2:
			v = int64(ts)
		case 3:
			v = []byte(hv)
		case 4:
			v = amqp091.Table{hk: hv}
		case 5:
			v = float64(ts) / 7
		case 6:
			v = amqp091.Decimal{Scale: kind, Value: int32(ts)}
		default:
			v = nil
		}
		d := amqp091.Delivery{
			RoutingKey: rk, ReplyTo: replyTo, CorrelationId: corr, ContentType: ct,
			Timestamp: time.Unix(ts, 0), Body: body, Headers: amqp091.Table{hk: v, "s": hv},
		}
		msg, err := wireMarshaler{}.Unmarshal(d)
		if err != nil || msg == nil {
			t.Fatalf("Unmarshal = %v, %v", msg, err)
		}
		if msg.Metadata[codec.KeyTopic] != rk || msg.UUID == "" {
			t.Fatalf("topic %q uuid %q", msg.Metadata[codec.KeyTopic], msg.UUID)
		}
		_, printable := pythonText(v)
		if _, bad := msg.Metadata[codec.KeyDecodeError]; bad == printable && hk != "s" && hk != codec.RPCStatus && !brokerHeader(hk) {
			t.Fatalf("decode error %q for header %T", msg.Metadata[codec.KeyDecodeError], v)
		}
	})
}
