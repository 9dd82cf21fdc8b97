package codec_test

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// wireMsg builds a message with body and metadata given as key, value pairs.
func wireMsg(body string, kv ...string) *message.Message {
	msg := message.NewMessage("id", []byte(body))
	for i := 0; i+1 < len(kv); i += 2 {
		msg.Metadata.Set(kv[i], kv[i+1])
	}
	return msg
}

// ours is what Encode makes of sampleEvent, with body replaced when given.
func ours(body string) *message.Message {
	msg := codec.Encode(sampleEvent(), 0x9F3A0C11D2E4B577)
	msg.Payload = []byte(body)
	return msg
}

const envelope = `{"app":"app1","metrics":{"cpu":"0.5","memory":"512"},"seq":17,"run":"6f1c2a9e","time":"2026-11-25T17:30:00.000Z"}`

func TestDecode(t *testing.T) {
	python := []string{ // metadata as the Python sender's message maps to
		codec.KeyTopic, "Metrics.app1", codec.KeyReplyTo, "app1",
		codec.KeyCorrelationID, "1A2B", codec.KeyTimestamp, "1795627800000",
		codec.KeyContentEncoding, "utf-8", "metric.cpu", "0.5", "metric.memory", "512",
	}
	cpuMem := decoded("cpu", "0.5", "memory", "512")
	cases := []struct {
		name    string
		msg     *message.Message
		want    codec.Received
		wantErr string // substring; empty: no error
	}{
		{
			name: "ours",
			msg:  ours(envelope),
			want: codec.Received{App: "app1", Topic: "Metrics.app1", CorrelationID: "9F3A0C11D2E4B577",
				Metrics: cpuMem, Time: tick, HasEnvelope: true, Seq: 17, Run: "6f1c2a9e"},
		},
		{
			name: "ours with spaces and escapes in the envelope",
			msg: ours(" {\n\"run\" : \"6f1c\\u0032a9e\", \"seq\":17,\"time\":\"2026-11-25T18:30:00+01:00\"," +
				"\"metrics\":{ \"memory\":\"512\",\"c\\u0070u\":\"0.5\"}, \"app\":\"app1\"}\t\r\n"),
			want: codec.Received{App: "app1", Topic: "Metrics.app1", CorrelationID: "9F3A0C11D2E4B577",
				Metrics: cpuMem, Time: tick, HasEnvelope: true, Seq: 17, Run: "6f1c2a9e"},
		},
		{
			name: "the Python sender: empty body, no content type",
			msg:  wireMsg("", python...),
			want: codec.Received{App: "app1", Topic: "Metrics.app1", CorrelationID: "1A2B", Metrics: cpuMem, Time: tick},
		},
		{
			name: "json content type with an empty body",
			msg:  ours(""),
			want: codec.Received{App: "app1", Topic: "Metrics.app1", CorrelationID: "9F3A0C11D2E4B577", Metrics: cpuMem, Time: tick},
		},
		{
			name: "no reply_to: app from the topic",
			msg:  wireMsg("", codec.KeyTopic, "Metrics.app2", "metric.gpu", "1"),
			want: codec.Received{App: "app2", Topic: "Metrics.app2", Metrics: decoded("gpu", "1")},
		},
		{
			name: "no timestamp: time from the envelope",
			msg: wireMsg(envelope, codec.KeyReplyTo, "app1", codec.KeyContentType, "application/json",
				"metric.cpu", "0.5", "metric.memory", "512"),
			want: codec.Received{App: "app1", Metrics: cpuMem, Time: tick, HasEnvelope: true, Seq: 17, Run: "6f1c2a9e"},
		},
		{
			name: "numbers and quantities",
			msg: wireMsg("", codec.KeyReplyTo, "a", "metric.a", "200m", "metric.b", "128Mi", "metric.c", "gold",
				"metric.d", "-1.5e3", "metric.e", "NaN", "metric.f", "", "metric.g", "1e400", "other", "ignored"),
			want: codec.Received{App: "a", Metrics: []generator.Metric{
				{Name: "a", Value: generator.Value{Text: "200m", Num: 0.2, HasNum: true}},
				{Name: "b", Value: generator.Value{Text: "128Mi", Num: 134217728, HasNum: true}},
				{Name: "c", Value: generator.Value{Text: "gold"}},
				{Name: "d", Value: generator.Value{Text: "-1.5e3", Num: -1500, HasNum: true}},
				{Name: "e", Value: generator.Value{Text: "NaN"}},
				{Name: "f", Value: generator.Value{Text: ""}},
				{Name: "g", Value: generator.Value{Text: "1e400"}},
			}},
		},
		{name: "neither reply_to nor topic", msg: wireMsg("", "metric.cpu", "1"), wantErr: "no reply_to"},
		{name: "topic without the prefix", msg: wireMsg("", codec.KeyTopic, "Other.app"), wantErr: "no reply_to"},
		{name: "topic is only the prefix", msg: wireMsg("", codec.KeyTopic, "Metrics."), wantErr: "no reply_to"},
		{name: "reply_to not UTF-8", msg: wireMsg("", codec.KeyReplyTo, "app\xff", "metric.cpu", "1"), wantErr: `app name "app\xff" is not UTF-8`},
		{name: "topic not UTF-8", msg: wireMsg("", codec.KeyTopic, "Metrics.a\xfe"), wantErr: "is not UTF-8"},
		{name: "other content type", msg: wireMsg("x", codec.KeyReplyTo, "a", codec.KeyContentType, "text/plain"), wantErr: `content type "text/plain" not supported`},
		{name: "protobuf", msg: wireMsg("\x0a\x03abc", codec.KeyReplyTo, "a", codec.KeyContentType, codec.ContentTypeProtobuf), wantErr: "application/x-protobuf"},
		{name: "protobuf with an empty body", msg: wireMsg("", codec.KeyReplyTo, "a", codec.KeyContentType, codec.ContentTypeProtobuf), wantErr: "not supported"},
		{name: "decode error from the transport", msg: wireMsg("", codec.KeyReplyTo, "a", codec.KeyDecodeError, "header \"x\": int64 not a string"), wantErr: `decode: header "x": int64 not a string`},
		{name: "decode error with a newline stays one line", msg: wireMsg("", codec.KeyDecodeError, "bad\nthing"), wantErr: `"bad\nthing"`},
		{name: "empty decode error", msg: wireMsg("", codec.KeyDecodeError, ""), wantErr: "could not map"},
		{name: "bad timestamp", msg: wireMsg("", codec.KeyReplyTo, "a", codec.KeyTimestamp, "12.5"), wantErr: `timestamp "12.5"`},
		{name: "empty metric name", msg: wireMsg("", codec.KeyReplyTo, "a", "metric.", "1"), wantErr: "empty name"},
		{name: "bad JSON", msg: ours(`{"app":"app1",`), wantErr: "envelope: byte 14: want a string"},
		{name: "not JSON at all", msg: ours("cpu=0.5"), wantErr: "envelope: byte 0"},
		{name: "no content type, a body that is not an envelope", msg: wireMsg("hello", codec.KeyReplyTo, "a"), wantErr: "envelope"},
		{name: "unknown field", msg: ours(strings.Replace(envelope, `"seq"`, `"sequence"`, 1)), wantErr: `unknown field "sequence"`},
		{name: "duplicate field", msg: ours(strings.Replace(envelope, `"run":"6f1c2a9e"`, `"run":"6f1c2a9e","seq":17`, 1)), wantErr: `duplicate field "seq"`},
		{name: "missing field", msg: ours(strings.Replace(envelope, `,"run":"6f1c2a9e"`, ``, 1)), wantErr: `missing field "run"`},
		{name: "null field", msg: ours(strings.Replace(envelope, `"6f1c2a9e"`, `null`, 1)), wantErr: "want a string"},
		{name: "seq as a string", msg: ours(strings.Replace(envelope, `17`, `"17"`, 1)), wantErr: "seq: want an unsigned integer"},
		{name: "negative seq", msg: ours(strings.Replace(envelope, `17`, `-17`, 1)), wantErr: "seq: want an unsigned integer"},
		{name: "fractional seq", msg: ours(strings.Replace(envelope, `17`, `17.0`, 1)), wantErr: "seq: want an integer"},
		{name: "seq with a leading zero", msg: ours(strings.Replace(envelope, `17`, `017`, 1)), wantErr: "leading zero"},
		{name: "seq too large", msg: ours(strings.Replace(envelope, `17`, `18446744073709551616`, 1)), wantErr: "overflows"},
		{name: "metric value a number", msg: ours(strings.Replace(envelope, `"512"`, `512`, 1)), wantErr: "want a string"},
		{name: "duplicate metric", msg: ours(strings.Replace(envelope, `"cpu":"0.5"`, `"cpu":"0.5","cpu":"0.5"`, 1)), wantErr: `duplicate metric "cpu"`},
		{name: "bad time", msg: ours(strings.Replace(envelope, `2026-11-25T17:30:00.000Z`, `yesterday`, 1)), wantErr: `time "yesterday"`},
		{name: "data after the object", msg: ours(envelope + "{}"), wantErr: "data after the object"},
		{name: "two objects in a row", msg: ours(envelope + envelope), wantErr: "data after the object"},
		{name: "control character in a string", msg: ours(strings.Replace(envelope, `6f1c`, "6f\n1c", 1)), wantErr: "control character"},
		{name: "bad escape", msg: ours(strings.Replace(envelope, `6f1c`, `6f\x1c`, 1)), wantErr: "bad escape"},
		{name: "unterminated", msg: ours(`{"app":"app1`), wantErr: "unterminated"},
		{name: "envelope app differs", msg: ours(strings.Replace(envelope, `"app1"`, `"app9"`, 1)), wantErr: `envelope app "app9" differs from app "app1"`},
		{name: "envelope metric text differs", msg: ours(strings.Replace(envelope, `"0.5"`, `"0.8"`, 1)), wantErr: `envelope metric "cpu" is "0.8", header "0.5"`},
		{name: "envelope has a metric more", msg: ours(strings.Replace(envelope, `"cpu"`, `"gpu":"1","cpu"`, 1)), wantErr: "envelope has 3 metrics, headers 2"},
		{name: "envelope names another metric", msg: ours(strings.Replace(envelope, `"cpu"`, `"aaa"`, 1)), wantErr: "envelope metrics differ from headers"},
		{name: "envelope time differs", msg: ours(strings.Replace(envelope, `00.000Z`, `01.000Z`, 1)), wantErr: "envelope time differs"},
		{name: "nil message", msg: nil, wantErr: "nil message"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := codec.Decode(tc.msg)
			if tc.wantErr != "" {
				assertDecodeError(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			assertReceived(t, got, tc.want)
		})
	}
}

func TestDecodeHugeBodies(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1<<20+17)
	run := strings.Repeat("r", 1<<20)
	cases := []struct {
		name    string
		body    []byte
		wantErr string
	}{
		{name: "1 MiB that is not JSON", body: big, wantErr: "envelope: byte 0"},
		{name: "1 MiB inside a string, unterminated", body: append([]byte(`{"app":"`), big...), wantErr: "unterminated"},
		{name: "deep nesting", body: []byte(strings.Repeat("[", 1<<20)), wantErr: "envelope: byte 0"},
		{name: "1 MiB run in a valid envelope", body: []byte(strings.Replace(envelope, "6f1c2a9e", run, 1))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := codec.Decode(ours(string(tc.body)))
			if tc.wantErr != "" {
				assertDecodeError(t, err, tc.wantErr)
				return
			}
			if err != nil || got.Run != run {
				t.Fatalf("Decode: %v (run of %d bytes)", err, len(got.Run))
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		ev   generator.Event
	}{
		{name: "sample", ev: sampleEvent()},
		{name: "no metrics", ev: generator.Event{App: "a", Seq: 1, Run: "r", Time: tick}},
		{name: "odd texts", ev: generator.Event{App: "a-b_c", Metrics: metrics("q\"", "\\\n\t", "é", "😀\u2028"), Seq: 99, Run: "x\"y", Time: tick.Add(1234 * time.Millisecond)}},
		{name: "quantities", ev: generator.Event{App: "k", Metrics: metrics("cpu", "750m", "mem", "1Gi"), Seq: 3, Run: "r", Time: tick}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := codec.Decode(codec.Encode(tc.ev, 0xC0FFEE))
			if err != nil {
				t.Fatalf("Decode(Encode): %v", err)
			}
			if got.App != tc.ev.App || got.Topic != "Metrics."+tc.ev.App || got.CorrelationID != "C0FFEE" ||
				!got.HasEnvelope || got.Seq != tc.ev.Seq || got.Run != tc.ev.Run || !got.Time.Equal(tc.ev.Time) ||
				got.Time.Location() != time.UTC {
				t.Errorf("got %+v, want the fields of %+v", got, tc.ev)
			}
			texts := func(ms []generator.Metric) []string {
				var s []string
				for _, m := range ms {
					s = append(s, m.Name+"="+m.Value.Text)
				}
				return s
			}
			if !slices.Equal(texts(got.Metrics), texts(tc.ev.Metrics)) {
				t.Errorf("metrics %q, want %q", texts(got.Metrics), texts(tc.ev.Metrics))
			}
		})
	}
}

// decoded is metrics of plain numbers as Decode returns them.
func decoded(kv ...string) []generator.Metric {
	ms := metrics(kv...)
	for i := range ms {
		f, err := strconv.ParseFloat(ms[i].Value.Text, 64)
		ms[i].Value.Num, ms[i].Value.HasNum = f, err == nil
	}
	return ms
}

func assertDecodeError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if !errors.Is(err, codec.ErrDecode) {
		t.Errorf("error %v does not wrap ErrDecode", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, want) {
		t.Errorf("error %q does not contain %q", msg, want)
	}
	if strings.ContainsAny(msg, "\n\r") || len(msg) > 300 {
		t.Errorf("error is not one short line: %q", msg)
	}
}

func assertReceived(t *testing.T, got, want codec.Received) {
	t.Helper()
	if !got.Time.Equal(want.Time) {
		t.Errorf("Time = %v, want %v", got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if !slices.Equal(got.Metrics, want.Metrics) {
		t.Errorf("Metrics = %+v\nwant      %+v", got.Metrics, want.Metrics)
	}
	got.Metrics, want.Metrics = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
