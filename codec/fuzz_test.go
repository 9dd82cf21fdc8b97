package codec_test

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/wiretest"
)

// FuzzDecode feeds Decode arbitrary deliveries. Seeds: f.Add below and
// testdata/fuzz/FuzzDecode. Decode must not panic; an accepted message must
// be well formed, and an accepted envelope must read the same with
// encoding/json (the hand parser may only be stricter).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(envelope), codec.ContentTypeJSON, "app1", "Metrics.app1", "metric.cpu", "0.5")
	f.Add([]byte(""), "", "app1", "Metrics.app1", "metric.cpu", "0.8")
	f.Add([]byte(""), "", "", "Metrics.app2", "metric.gpu", "1")
	f.Add([]byte("\x0a\x02hi"), codec.ContentTypeProtobuf, "a", "", "", "")
	f.Add([]byte(`{"app":"a","metrics":{},"seq":1,"run":"r","time":"2026-11-25T17:30:00Z"}`), "", "a", "", codec.KeyTimestamp, "1795627800000")
	f.Add([]byte(`{"app":"\ud800\udc00","metrics":{"\u00e9":"\\"},"seq":0,"run":"","time":"2026-11-25T17:30:00Z"}`), "", "𐀀", "", "metric.é", `\`)
	f.Add([]byte(`{"app":1}`), "", "a", "", codec.KeyDecodeError, "boom")
	f.Fuzz(func(t *testing.T, body []byte, contentType, replyTo, topic, hname, hval string) {
		msg := message.NewMessage("id", body)
		for k, v := range map[string]string{codec.KeyContentType: contentType, codec.KeyReplyTo: replyTo, codec.KeyTopic: topic} {
			if v != "" {
				msg.Metadata.Set(k, v)
			}
		}
		if hname != "" {
			msg.Metadata.Set(hname, hval)
		}
		got, err := codec.Decode(msg)
		if err != nil {
			if !errors.Is(err, codec.ErrDecode) || strings.ContainsAny(err.Error(), "\n\r") || len(err.Error()) > 400 {
				t.Fatalf("bad error: %q", err)
			}
			return
		}
		if got.App == "" {
			t.Fatalf("accepted with an empty app")
		}
		for i := 1; i < len(got.Metrics); i++ {
			if got.Metrics[i-1].Name >= got.Metrics[i].Name {
				t.Fatalf("metrics not sorted: %+v", got.Metrics)
			}
		}
		if got.HasEnvelope {
			checkWithEncodingJSON(t, body, got)
		}
	})
}

func checkWithEncodingJSON(t *testing.T, body []byte, got codec.Received) {
	t.Helper()
	env, err := wiretest.DecodeEnvelope(body)
	if err != nil {
		t.Fatalf("accepted an envelope encoding/json refuses: %v", err)
	}
	want := map[string]string{}
	for _, m := range got.Metrics {
		want[m.Name] = m.Value.Text
	}
	if env.App != got.App || env.Run != got.Run || env.Seq != got.Seq || !maps.Equal(env.Metrics, want) {
		t.Fatalf("encoding/json reads %+v, Decode %+v", env, got)
	}
	if _, err := time.Parse(time.RFC3339Nano, env.Time); err != nil {
		t.Fatalf("accepted time %q: %v", env.Time, err)
	}
}

// FuzzRoundTrip: what Encode makes of valid UTF-8 (all a YAML config can
// hold) decodes back to the same event.
func FuzzRoundTrip(f *testing.F) {
	f.Add("app1", "cpu", "0.5", "6f1c2a9e", uint64(17), int64(1795627800123), uint64(0x9F3A0C11D2E4B577))
	f.Add("a\"b", "q\\", "\n\t\u2028", "", uint64(0), int64(0), uint64(0))
	f.Fuzz(func(t *testing.T, app, name, text, run string, seq uint64, ms int64, id uint64) {
		if app == "" || name == "" || !utf8.ValidString(app) || !utf8.ValidString(name) ||
			!utf8.ValidString(text) || !utf8.ValidString(run) {
			return
		}
		at := time.UnixMilli(ms)
		if y := at.UTC().Year(); y < 0 || y > 9999 {
			return
		}
		ev := generator.Event{App: app, Metrics: metrics(name, text), Seq: seq, Run: run, Time: at}
		got, err := codec.Decode(codec.Encode(ev, id))
		if err != nil {
			t.Fatalf("Decode(Encode(%+v)): %v", ev, err)
		}
		if got.App != app || got.Run != run || got.Seq != seq || !got.Time.Equal(at) || !got.HasEnvelope ||
			len(got.Metrics) != 1 || got.Metrics[0].Name != name || got.Metrics[0].Value.Text != text {
			t.Fatalf("got %+v, want %+v", got, ev)
		}
	})
}

// FuzzTopicMatch compares TopicMatch with a plain recursive matcher.
func FuzzTopicMatch(f *testing.F) {
	f.Add("Metrics.*", "Metrics.app1")
	f.Add("#.a.#", "b.a")
	f.Add("*.#.*", "a..b")
	f.Fuzz(func(t *testing.T, pattern, topic string) {
		if strings.Count(pattern, "#") > 6 {
			return // the reference is exponential in #
		}
		if got, want := codec.TopicMatch(pattern, topic), naiveMatch(words(pattern), words(topic)); got != want {
			t.Fatalf("TopicMatch(%q, %q) = %v, want %v", pattern, topic, got, want)
		}
	})
}

func words(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

func naiveMatch(p, w []string) bool {
	if len(p) == 0 {
		return len(w) == 0
	}
	switch p[0] {
	case "#":
		for i := 0; i <= len(w); i++ {
			if naiveMatch(p[1:], w[i:]) {
				return true
			}
		}
		return false
	case "*":
		return len(w) > 0 && naiveMatch(p[1:], w[1:])
	}
	return len(w) > 0 && p[0] == w[0] && naiveMatch(p[1:], w[1:])
}
