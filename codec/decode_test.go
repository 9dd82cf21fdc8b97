package codec_test

import (
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
		{name: "other content type", msg: wireMsg("x", codec.KeyReplyTo, "a", codec.KeyContentType, "text/plain"), wantErr: `content type "text/plain": is-wire reads only`},
		{name: "content type with parameters", msg: wireMsg("", codec.KeyReplyTo, "a", codec.KeyContentType, "application/json; charset=utf-8"), wantErr: "is-wire reads only"},
		{
			name: "protobuf body: read from the headers",
			msg:  wireMsg("\x0a\x03abc", codec.KeyReplyTo, "a", codec.KeyContentType, codec.ContentTypeProtobuf, "metric.cpu", "0.5"),
			want: codec.Received{App: "a", Metrics: decoded("cpu", "0.5")},
		},
		{
			name: "protobuf content type with our envelope as the body: not read",
			msg:  wireMsg(envelope, codec.KeyReplyTo, "app1", codec.KeyContentType, codec.ContentTypeProtobuf, "metric.cpu", "0.5", "metric.memory", "512"),
			want: codec.Received{App: "app1", Metrics: cpuMem},
		},
		{
			name: "another program's JSON body: read from the headers",
			msg:  wireMsg(`{"note": "scaled by hand"}`, codec.KeyReplyTo, "a", codec.KeyContentType, codec.ContentTypeJSON, "metric.replicas", "5"),
			want: codec.Received{App: "a", Metrics: decoded("replicas", "5")},
		},
		{
			name: "rpc-status is not a metric",
			msg:  wireMsg("", codec.KeyReplyTo, "a", "metric.rpc-status", "{\"code\":0}", "metric.cpu", "1"),
			want: codec.Received{App: "a", Metrics: decoded("cpu", "1")},
		},
		{name: "decode error from the transport", msg: wireMsg("", codec.KeyReplyTo, "a", codec.KeyDecodeError, "header \"x\": int64 not a string"), wantErr: `decode: header "x": int64 not a string`},
		{name: "decode error with a newline stays one line", msg: wireMsg("", codec.KeyDecodeError, "bad\nthing"), wantErr: `"bad\nthing"`},
		{name: "empty decode error", msg: wireMsg("", codec.KeyDecodeError, ""), wantErr: "could not map"},
		{name: "bad timestamp", msg: wireMsg("", codec.KeyReplyTo, "a", codec.KeyTimestamp, "12.5"), wantErr: `timestamp "12.5"`},
		{name: "empty metric name", msg: wireMsg("", codec.KeyReplyTo, "a", "metric.", "1"), wantErr: "empty name"},
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

// Bodies that are not metricsender's envelope: the message is read from
// its headers, as is-wire-py reads it, and the parser's reason is exact.
func TestDecodeForeignBodies(t *testing.T) {
	cases := []struct {
		name, body string
		wantParse  string // the parser's reason, substring
	}{
		{name: "bad JSON", body: `{"app":"app1",`, wantParse: "envelope: byte 14: want a string"},
		{name: "not JSON at all", body: "cpu=0.5", wantParse: "envelope: byte 0"},
		{name: "plain text", body: "hello", wantParse: "envelope"},
		{name: "another program's object", body: `{"note": "..."}`, wantParse: `unknown field "note"`},
		{name: "unknown field", body: strings.Replace(envelope, `"seq"`, `"sequence"`, 1), wantParse: `unknown field "sequence"`},
		{name: "duplicate field", body: strings.Replace(envelope, `"run":"6f1c2a9e"`, `"run":"6f1c2a9e","seq":17`, 1), wantParse: `duplicate field "seq"`},
		{name: "missing field", body: strings.Replace(envelope, `,"run":"6f1c2a9e"`, ``, 1), wantParse: `missing field "run"`},
		{name: "null field", body: strings.Replace(envelope, `"6f1c2a9e"`, `null`, 1), wantParse: "want a string"},
		{name: "seq as a string", body: strings.Replace(envelope, `17`, `"17"`, 1), wantParse: "seq: want an unsigned integer"},
		{name: "negative seq", body: strings.Replace(envelope, `17`, `-17`, 1), wantParse: "seq: want an unsigned integer"},
		{name: "fractional seq", body: strings.Replace(envelope, `17`, `17.0`, 1), wantParse: "seq: want an integer"},
		{name: "seq with a leading zero", body: strings.Replace(envelope, `17`, `017`, 1), wantParse: "leading zero"},
		{name: "seq too large", body: strings.Replace(envelope, `17`, `18446744073709551616`, 1), wantParse: "overflows"},
		{name: "metric value a number", body: strings.Replace(envelope, `"512"`, `512`, 1), wantParse: "want a string"},
		{name: "duplicate metric", body: strings.Replace(envelope, `"cpu":"0.5"`, `"cpu":"0.5","cpu":"0.5"`, 1), wantParse: `duplicate metric "cpu"`},
		{name: "bad time", body: strings.Replace(envelope, `2026-11-25T17:30:00.000Z`, `yesterday`, 1), wantParse: `time "yesterday"`},
		{name: "data after the object", body: envelope + "{}", wantParse: "data after the object"},
		{name: "two objects in a row", body: envelope + envelope, wantParse: "data after the object"},
		{name: "control character in a string", body: strings.Replace(envelope, `6f1c`, "6f\n1c", 1), wantParse: "control character"},
		{name: "bad escape", body: strings.Replace(envelope, `6f1c`, `6f\x1c`, 1), wantParse: "bad escape"},
		{name: "unterminated", body: `{"app":"app1`, wantParse: "unterminated"},
		{name: "dropped not a number", body: envelope[:len(envelope)-1] + `,"dropped":"3"}`, wantParse: "dropped: want an unsigned integer"},
		{name: "fault not a string", body: envelope[:len(envelope)-1] + `,"fault":1}`, wantParse: "want a string"},
		{name: "1 MiB that is not JSON", body: strings.Repeat("x", 1<<20+17), wantParse: "envelope: byte 0"},
		{name: "1 MiB inside a string, unterminated", body: `{"app":"` + strings.Repeat("x", 1<<20), wantParse: "unterminated"},
		{name: "deep nesting", body: strings.Repeat("[", 1<<20), wantParse: "envelope: byte 0"},
	}
	headersOnly := codec.Received{App: "app1", Topic: "Metrics.app1", CorrelationID: "9F3A0C11D2E4B577",
		Metrics: decoded("cpu", "0.5", "memory", "512"), Time: tick}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := codec.ParseEnvelopeError([]byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.wantParse) {
				t.Errorf("parse error %v, want one containing %q", err, tc.wantParse)
			}
			got, err := codec.Decode(ours(tc.body))
			if err != nil {
				t.Fatalf("Decode: %v, want the message read from its headers", err)
			}
			assertReceived(t, got, headersOnly)
		})
	}
}

// An envelope that disagrees with the headers: the headers win, the body
// gives no seq, and Mismatch says why.
func TestDecodeEnvelopeMismatch(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"app differs", strings.Replace(envelope, `"app1"`, `"app9"`, 1), `envelope app "app9" differs from app "app1"`},
		{"metric text differs", strings.Replace(envelope, `"0.5"`, `"0.8"`, 1), `envelope metric "cpu" is "0.8", header "0.5"`},
		{"a metric more", strings.Replace(envelope, `"cpu"`, `"gpu":"1","cpu"`, 1), "envelope has 3 metrics, headers 2"},
		{"another metric", strings.Replace(envelope, `"cpu"`, `"aaa"`, 1), "envelope metrics differ from headers"},
		{"time differs", strings.Replace(envelope, `00.000Z`, `01.000Z`, 1), "envelope time differs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := codec.Decode(ours(tc.body))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.HasEnvelope || got.Seq != 0 || got.Run != "" {
				t.Errorf("a disagreeing envelope gave seq %d run %q", got.Seq, got.Run)
			}
			if !strings.Contains(got.Mismatch, tc.want) {
				t.Errorf("Mismatch = %q, want %q", got.Mismatch, tc.want)
			}
			if got.App != "app1" || len(got.Metrics) != 2 || got.Metrics[0].Value.Text != "0.5" {
				t.Errorf("not read from the headers: %+v", got)
			}
		})
	}
}

func TestDecodeHugeEnvelope(t *testing.T) {
	run := strings.Repeat("r", 1<<20)
	got, err := codec.Decode(ours(strings.Replace(envelope, "6f1c2a9e", run, 1)))
	if err != nil || got.Run != run {
		t.Fatalf("Decode: %v (run of %d bytes)", err, len(got.Run))
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
		{name: "faults", ev: generator.Event{App: "f", Metrics: metrics("cpu", "NaN"), Seq: 9, Run: "r", Time: tick, Fault: "stale,corrupt", Dropped: 3}},
		{name: "a copy", ev: generator.Event{App: "f", Metrics: metrics("cpu", "1"), Seq: 9, Run: "r", Time: tick, Fault: "duplicate"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := codec.Decode(codec.Encode(tc.ev, 0xC0FFEE))
			if err != nil {
				t.Fatalf("Decode(Encode): %v", err)
			}
			if got.App != tc.ev.App || got.Topic != "Metrics."+tc.ev.App || got.CorrelationID != "C0FFEE" ||
				!got.HasEnvelope || got.Seq != tc.ev.Seq || got.Run != tc.ev.Run || !got.Time.Equal(tc.ev.Time) ||
				got.Fault != tc.ev.Fault || got.Dropped != tc.ev.Dropped ||
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

// DecodeTopic reads the app from the topic after its prefix, and
// otherwise decodes as Decode does.
func TestDecodeTopic(t *testing.T) {
	cases := []struct {
		name    string
		msg     *message.Message
		prefix  string
		wantApp string
		wantErr string // substring; empty: no error
	}{
		{name: "reply_to names the app", prefix: "Allocation.",
			msg: wireMsg("", codec.KeyTopic, "Allocation.web", codec.KeyReplyTo, "api", "metric.replicas", "4"), wantApp: "api"},
		{name: "else the topic after the prefix", prefix: "Allocation.",
			msg: wireMsg("", codec.KeyTopic, "Allocation.web", "metric.replicas", "4"), wantApp: "web"},
		{name: "a Metrics topic is not an Allocation one", prefix: "Allocation.",
			msg: wireMsg("", codec.KeyTopic, "Metrics.web", "metric.cpu", "1"), wantErr: `no reply_to, and topic "Metrics.web" is not Allocation.{app}`},
		{name: "the prefix alone names no app", prefix: "Allocation.",
			msg: wireMsg("", codec.KeyTopic, "Allocation.", "metric.cpu", "1"), wantErr: "is not Allocation.{app}"},
		{name: "Decode's rules hold: content type", prefix: "Allocation.",
			msg: wireMsg("", codec.KeyTopic, "Allocation.web", codec.KeyContentType, "text/plain"), wantErr: `content type "text/plain"`},
		{name: "Decode is the Metrics prefix", prefix: codec.TopicPrefix,
			msg: wireMsg("", codec.KeyTopic, "Metrics.web", "metric.cpu", "1"), wantApp: "web"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := codec.DecodeTopic(tc.msg, tc.prefix)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, codec.ErrDecode) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want ErrDecode with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.App != tc.wantApp {
				t.Errorf("app %q, want %q", got.App, tc.wantApp)
			}
			if tc.prefix == codec.TopicPrefix {
				plain, err := codec.Decode(tc.msg)
				if err != nil || !reflect.DeepEqual(plain, got) {
					t.Errorf("Decode = %+v, %v; DecodeTopic(TopicPrefix) = %+v", plain, err, got)
				}
			}
		})
	}
}
