package latest_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/latest"
)

func TestHandler(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	good := func(app, cpu string) *message.Message {
		return codec.Encode(generator.Event{App: app, Time: at, Metrics: []generator.Metric{
			{Name: "cpu", Value: generator.Value{Text: cpu, Num: 0.75, HasNum: true}},
			{Name: "tier", Value: generator.Value{Text: "gold"}},
		}}, 1)
	}
	noApp := message.NewMessage("x", []byte("not a metrics message"))
	noApp.Metadata.Set(codec.KeyTopic, "Other.web") // no Metrics.{app} topic, no reply_to
	badType := good("db", "750m")
	badType.Metadata.Set(codec.KeyContentType, "text/plain") // what is-wire refuses

	tests := []struct {
		name       string
		msgs       []*message.Message
		want       latest.Counts
		wantServed []string // apps with a cpu value
		wantLog    []string
	}{
		{"a message's numbers are served, the rest skipped and logged", []*message.Message{good("web", "750m")},
			latest.Counts{Received: 1, NotNumbers: 1}, []string{"web"}, []string{"a metric that is not a number is not served"}},
		{"an undecodable message is counted and logged, and the next one is served", []*message.Message{noApp, badType, good("web", "750m")},
			latest.Counts{Received: 1, DecodeErrors: 2, NotNumbers: 1}, []string{"web"}, []string{"undecodable message", "decode_errors=1"}},
		{"a nil message is a decode error, not a panic", []*message.Message{nil},
			latest.Counts{DecodeErrors: 1}, nil, []string{"undecodable message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := latest.New(latest.Config{Now: func() time.Time { return at }})
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			h := latest.NewHandler(s, slog.New(slog.NewTextHandler(&logs, nil)))
			for _, m := range tt.msgs {
				if err := h.Handle(m); err != nil {
					t.Fatalf("Handle: %v", err)
				}
			}
			h.Flush()
			if got := h.Counts(); got != tt.want {
				t.Errorf("Counts() = %+v, want %+v", got, tt.want)
			}
			var served []string
			s.Each("cpu", "default", func(v latest.Value) bool {
				served = append(served, v.App)
				if v.Text != "750m" || !v.Time.Equal(at) {
					t.Errorf("served %+v, want 750m at %s", v, at)
				}
				return true
			})
			if strings.Join(served, ",") != strings.Join(tt.wantServed, ",") {
				t.Errorf("served cpu of %v, want %v", served, tt.wantServed)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, logs.String())
				}
			}
		})
	}
}

func TestHandlerConsume(t *testing.T) {
	s, err := latest.New(latest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := latest.NewHandler(s, nil)
	msgs := make(chan *message.Message, 2)
	m := codec.Encode(generator.Event{App: "web", Time: time.Now(), Metrics: []generator.Metric{
		{Name: "cpu", Value: generator.Value{Text: "2", Num: 2, HasNum: true}}}}, 1)
	msgs <- m
	close(msgs)
	h.Consume(msgs)
	select {
	case <-m.Acked():
	default:
		t.Error("the message was not acked")
	}
	if _, ok := s.Get("cpu", "default", "web"); !ok {
		t.Error("the consumed value is not served")
	}
}
