package receiver_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/receiver"
)

type counter struct{ received, decodeErrors int }

func (c *counter) Received(string)   { c.received++ }
func (c *counter) DecodeError()      { c.decodeErrors++ }
func (c *counter) EnvelopeMismatch() {}

func event(app string) generator.Event {
	return generator.Event{App: app, Metrics: []generator.Metric{{Name: "cpu", Value: generator.Value{Text: "1"}}}}
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name                   string
		count                  int
		msgs                   int
		bad                    bool
		wantPrinted, wantDones int
	}{
		{"prints every message", 0, 3, false, 3, 0},
		{"stops printing at the count, once done", 2, 3, false, 2, 1},
		{"an undecodable message is counted, not printed", 0, 2, true, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c := &counter{}
			dones := 0
			h := receiver.New(receiver.Config{Output: "json", Count: tt.count, Done: func() { dones++ }, Counter: c},
				&out, slog.New(slog.DiscardHandler))
			msgs := make(chan *message.Message, tt.msgs+1)
			for range tt.msgs {
				msgs <- codec.Encode(event("web"), 1)
			}
			if tt.bad {
				m := message.NewMessage("x", []byte("not a metrics message"))
				m.Metadata.Set(codec.KeyTopic, "Other.web") // no Metrics.{app} topic, no reply_to
				msgs <- m
			}
			close(msgs)
			if err := h.Consume(msgs); err != nil {
				t.Fatal(err)
			}
			received, decodeErrors := h.Counts()
			if received != tt.wantPrinted || strings.Count(out.String(), "\n") != tt.wantPrinted {
				t.Errorf("printed %d (%d lines), want %d", received, strings.Count(out.String(), "\n"), tt.wantPrinted)
			}
			if tt.bad != (decodeErrors == 1 && c.decodeErrors == 1) {
				t.Errorf("decode errors %d (counted %d), want bad=%v", decodeErrors, c.decodeErrors, tt.bad)
			}
			if dones != tt.wantDones {
				t.Errorf("Done called %d times, want %d", dones, tt.wantDones)
			}
		})
	}
}
