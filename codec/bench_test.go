package codec_test

import (
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

func BenchmarkEncode(b *testing.B) {
	ev := sampleEvent()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = codec.Encode(ev, uint64(i))
	}
}

func BenchmarkAppendEnvelope(b *testing.B) {
	ev := sampleEvent()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = codec.AppendEnvelope(buf[:0], ev)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecode(b *testing.B) {
	cases := []struct {
		name string
		msg  *message.Message
	}{
		{name: "ours", msg: codec.Encode(sampleEvent(), 0x9F3A0C11D2E4B577)},
		{name: "python", msg: wireMsg("", codec.KeyReplyTo, "app1", codec.KeyTopic, "Metrics.app1",
			codec.KeyCorrelationID, "1A2B", codec.KeyTimestamp, "1795627800000", codec.KeyContentEncoding, "utf-8",
			"metric.cpu", "0.5", "metric.memory", "512")},
		{name: "quantities", msg: codec.Encode(func() (ev generator.Event) {
			ev = sampleEvent()
			ev.Metrics = metrics("cpu", "750m", "memory", "512Mi")
			return ev
		}(), 1)},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := codec.Decode(bc.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMiddlewareShard encodes one shard of 512 events as the router
// does; ns/op and allocs/op are per shard (divide by 512 per message).
func BenchmarkMiddlewareShard(b *testing.B) {
	events := tickEvents(512, 1)
	h := codec.Middleware()(passThrough)
	b.ReportAllocs()
	for b.Loop() {
		out, err := h(codec.NewEventsMessage(events))
		if err != nil || len(out) != 512 {
			b.Fatal(err, len(out))
		}
	}
}

func BenchmarkTopicMatch(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if !codec.TopicMatch("Metrics.*", "Metrics.app12345") {
			b.Fatal("no match")
		}
	}
}
