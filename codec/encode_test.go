package codec_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

var tick = time.Date(2026, 11, 25, 17, 30, 0, 0, time.UTC)

func metrics(kv ...string) []generator.Metric {
	ms := make([]generator.Metric, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		ms = append(ms, generator.Metric{Name: kv[i], Value: generator.Value{Text: kv[i+1]}})
	}
	return ms
}

func sampleEvent() generator.Event {
	return generator.Event{
		App:     "app1",
		Metrics: metrics("cpu", "0.5", "memory", "512"),
		Seq:     17,
		Run:     "6f1c2a9e",
		Time:    tick,
	}
}

func TestEncode(t *testing.T) {
	manyNames := make([]string, 0, 20)
	for i := range 10 {
		manyNames = append(manyNames, fmt.Sprintf("m%02d", i), strconv.Itoa(i))
	}
	cases := []struct {
		name     string
		ev       generator.Event
		corrID   uint64
		wantID   string
		wantMeta map[string]string // besides the five codec keys
		wantTS   string
		wantBody string
	}{
		{
			name:     "the example of WIRE.md",
			ev:       sampleEvent(),
			corrID:   0x9F3A0C11D2E4B577,
			wantID:   "9F3A0C11D2E4B577",
			wantMeta: map[string]string{"metric.cpu": "0.5", "metric.memory": "512"},
			wantTS:   "1795627800000",
			wantBody: `{"app":"app1","metrics":{"cpu":"0.5","memory":"512"},"seq":17,"run":"6f1c2a9e","time":"2026-11-25T17:30:00.000Z"}`,
		},
		{
			name:     "zero correlation id and no metrics",
			ev:       generator.Event{App: "a", Seq: 1, Run: "r", Time: tick},
			corrID:   0,
			wantID:   "0",
			wantMeta: map[string]string{},
			wantTS:   "1795627800000",
			wantBody: `{"app":"a","metrics":{},"seq":1,"run":"r","time":"2026-11-25T17:30:00.000Z"}`,
		},
		{
			name:     "small id is not padded, largest is full",
			ev:       generator.Event{App: "a", Metrics: metrics("gpu", "1"), Seq: 18446744073709551615, Run: "r", Time: tick},
			corrID:   0xA,
			wantID:   "A",
			wantMeta: map[string]string{"metric.gpu": "1"},
			wantTS:   "1795627800000",
			wantBody: `{"app":"a","metrics":{"gpu":"1"},"seq":18446744073709551615,"run":"r","time":"2026-11-25T17:30:00.000Z"}`,
		},
		{
			name: "time in another zone with sub-millisecond part",
			ev: generator.Event{App: "a", Metrics: metrics("cpu", "200m"), Seq: 2, Run: "r",
				Time: time.Date(2026, 11, 25, 18, 30, 0, 123_987_654, time.FixedZone("CET", 3600))},
			corrID:   1<<64 - 1,
			wantID:   "FFFFFFFFFFFFFFFF",
			wantMeta: map[string]string{"metric.cpu": "200m"},
			wantTS:   "1795627800123",
			wantBody: `{"app":"a","metrics":{"cpu":"200m"},"seq":2,"run":"r","time":"2026-11-25T17:30:00.123Z"}`,
		},
		{
			name: "odd names and texts are escaped",
			ev: generator.Event{App: "a<b>&c", Metrics: metrics(
				"q\"uote", "back\\slash", "tab\tnl\n", "cr\r\x01\x1f", "uni", "é€😀", "seps", "\u2028\u2029", "bad", "\xff\xfe"),
				Seq: 3, Run: "r\"1", Time: tick},
			corrID: 0xBEEF,
			wantID: "BEEF",
			wantMeta: map[string]string{
				"metric.q\"uote": "back\\slash", "metric.tab\tnl\n": "cr\r\x01\x1f", "metric.uni": "é€😀",
				"metric.seps": "\u2028\u2029", "metric.bad": "\xff\xfe",
			},
			wantTS: "1795627800000",
			wantBody: `{"app":"a<b>&c","metrics":{"q\"uote":"back\\slash","tab\tnl\n":"cr\r\u0001\u001f",` +
				`"uni":"é€😀","seps":"\u2028\u2029","bad":"\ufffd\ufffd"},"seq":3,"run":"r\"1","time":"2026-11-25T17:30:00.000Z"}`,
		},
		{
			name:     "more metrics than a small map holds",
			ev:       generator.Event{App: "big", Metrics: metrics(manyNames...), Seq: 4, Run: "r", Time: tick},
			corrID:   0x1F,
			wantID:   "1F",
			wantMeta: metaOf(metrics(manyNames...)),
			wantTS:   "1795627800000",
			wantBody: `{"app":"big","metrics":{"m00":"0","m01":"1","m02":"2","m03":"3","m04":"4","m05":"5","m06":"6","m07":"7","m08":"8","m09":"9"},"seq":4,"run":"r","time":"2026-11-25T17:30:00.000Z"}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := codec.Encode(tc.ev, tc.corrID)
			if msg.UUID != tc.wantID {
				t.Errorf("UUID = %q, want %q", msg.UUID, tc.wantID)
			}
			want := map[string]string{
				codec.KeyTopic:         "Metrics." + tc.ev.App,
				codec.KeyReplyTo:       tc.ev.App,
				codec.KeyCorrelationID: tc.wantID,
				codec.KeyTimestamp:     tc.wantTS,
				codec.KeyContentType:   "application/json",
			}
			maps.Copy(want, tc.wantMeta)
			if !maps.Equal(map[string]string(msg.Metadata), want) {
				t.Errorf("metadata = %q\nwant       %q", msg.Metadata, want)
			}
			if got := string(msg.Payload); got != tc.wantBody {
				t.Errorf("payload = %s\nwant      %s", got, tc.wantBody)
			}
			assertValidEnvelope(t, msg.Payload, tc.ev)
		})
	}
}

// metaOf is the metric metadata of ms.
func metaOf(ms []generator.Metric) map[string]string {
	md := make(map[string]string, len(ms))
	for _, m := range ms {
		md["metric."+m.Name] = m.Value.Text
	}
	return md
}

// assertValidEnvelope checks that encoding/json reads body as ev says.
func assertValidEnvelope(t *testing.T, body []byte, ev generator.Event) {
	t.Helper()
	var env struct {
		App     string            `json:"app"`
		Metrics map[string]string `json:"metrics"`
		Seq     uint64            `json:"seq"`
		Run     string            `json:"run"`
		Time    time.Time         `json:"time"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("envelope is not valid JSON: %v\n%s", err, body)
	}
	want := make(map[string]string, len(ev.Metrics))
	for _, m := range ev.Metrics {
		want[toValidUTF8(m.Name)] = toValidUTF8(m.Value.Text)
	}
	if env.App != toValidUTF8(ev.App) || env.Seq != ev.Seq || env.Run != toValidUTF8(ev.Run) ||
		!maps.Equal(env.Metrics, want) || !env.Time.Equal(ev.Time.Truncate(time.Millisecond)) {
		t.Errorf("envelope reads as %+v, want the event %+v", env, ev)
	}
}

// toValidUTF8 is what encoding/json makes of s.
func toValidUTF8(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

func TestAppendEnvelopeAppends(t *testing.T) {
	t.Run("keeps dst and does not allocate with room", func(t *testing.T) {
		ev := sampleEvent()
		buf := make([]byte, 0, 256)
		buf = append(buf, "prefix:"...)
		out := codec.AppendEnvelope(buf, ev)
		want := `prefix:{"app":"app1","metrics":{"cpu":"0.5","memory":"512"},"seq":17,"run":"6f1c2a9e","time":"2026-11-25T17:30:00.000Z"}`
		if string(out) != want {
			t.Fatalf("got %s, want %s", out, want)
		}
		allocs := testing.AllocsPerRun(100, func() { _ = codec.AppendEnvelope(buf[:0], ev) })
		if allocs != 0 {
			t.Errorf("AppendEnvelope allocates %v times with a large enough dst", allocs)
		}
	})
}

func TestEncodeSharesNoMemoryWithEvent(t *testing.T) {
	t.Run("changing the event afterwards changes nothing", func(t *testing.T) {
		ev := sampleEvent()
		msg := codec.Encode(ev, 1)
		before := msg.Copy()
		ev.Metrics[0] = generator.Metric{Name: "zzz", Value: generator.Value{Text: "9"}}
		if !msg.Equals(before) {
			t.Errorf("message changed with the event's metrics array")
		}
	})
}

func ExampleEncode() {
	ev := generator.Event{
		App: "app1",
		Metrics: []generator.Metric{
			{Name: "cpu", Value: generator.Value{Text: "0.5"}},
			{Name: "memory", Value: generator.Value{Text: "512"}},
		},
		Seq:  17,
		Run:  "6f1c2a9e",
		Time: time.Date(2026, 11, 25, 17, 30, 0, 0, time.UTC),
	}
	msg := codec.Encode(ev, 0x9F3A0C11D2E4B577)
	fmt.Println(msg.UUID)
	for _, key := range []string{
		codec.KeyTopic, codec.KeyReplyTo, codec.KeyCorrelationID, codec.KeyTimestamp,
		codec.KeyContentType, "metric.cpu", "metric.memory",
	} {
		fmt.Printf("%s = %s\n", key, msg.Metadata.Get(key))
	}
	fmt.Println(string(msg.Payload))
	var _ *message.Message = msg
	// Output:
	// 9F3A0C11D2E4B577
	// iswire.topic = Metrics.app1
	// iswire.reply_to = app1
	// iswire.correlation_id = 9F3A0C11D2E4B577
	// iswire.timestamp_ms = 1795627800000
	// iswire.content_type = application/json
	// metric.cpu = 0.5
	// metric.memory = 512
	// {"app":"app1","metrics":{"cpu":"0.5","memory":"512"},"seq":17,"run":"6f1c2a9e","time":"2026-11-25T17:30:00.000Z"}
}
