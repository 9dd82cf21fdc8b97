package codec_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// recorder is a message.Publisher that keeps what it is given, in order,
// and refuses a call that holds a message for the app refuse.
type recorder struct {
	refuse string
	mu     sync.Mutex
	msgs   []*message.Message
}

func (r *recorder) Publish(_ string, msgs ...*message.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range msgs {
		if r.refuse != "" && m.Metadata.Get(codec.KeyReplyTo) == r.refuse {
			return errors.New("refused")
		}
	}
	r.msgs = append(r.msgs, msgs...)
	return nil
}

func (r *recorder) Close() error { return nil }

func (r *recorder) received(t *testing.T) []codec.Received {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]codec.Received, 0, len(r.msgs))
	for _, m := range r.msgs {
		rcv, err := codec.Decode(m)
		if err != nil {
			t.Fatalf("published message does not decode: %v", err)
		}
		out = append(out, rcv)
	}
	return out
}

func passThrough(msg *message.Message) ([]*message.Message, error) {
	return []*message.Message{msg}, nil
}

// runRouter runs a router: src -> Middleware -> passThrough, and pub gets
// what it produces from the router or, with inMiddleware, from
// PublishMiddleware (what send does).
func runRouter(t *testing.T, src *codec.Source, pub message.Publisher, inMiddleware bool) {
	t.Helper()
	router, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	if inMiddleware {
		router.AddMiddleware(codec.PublishMiddleware(pub))
	}
	router.AddMiddleware(codec.Middleware())
	router.AddHandler("encode", "events", src, "wire", pub, passThrough)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- router.Run(ctx) }()
	<-router.Running()
	t.Cleanup(func() {
		cancel()
		_ = router.Close()
		if err := <-done; err != nil {
			t.Errorf("router: %v", err)
		}
	})
}

// tickEvents returns one event per app app0..app{n-1}.
func tickEvents(n int, seq uint64) []generator.Event {
	evs := make([]generator.Event, n)
	for i := range evs {
		evs[i] = generator.Event{
			App:     "app" + strconv.Itoa(i),
			Metrics: metrics("cpu", strconv.Itoa(i%7), "memory", "512"),
			Seq:     seq, Run: "run1", Time: tick,
		}
	}
	return evs
}

func TestSourceThroughRouter(t *testing.T) {
	t.Run("the router publishes", func(t *testing.T) { testSourceThroughRouter(t, false) })
	t.Run("PublishMiddleware publishes", func(t *testing.T) { testSourceThroughRouter(t, true) })
}

func testSourceThroughRouter(t *testing.T, inMiddleware bool) {
	t.Run("every event is published once, with fresh ids", func(t *testing.T) {
		src := codec.NewSource(100)
		pub := &recorder{}
		runRouter(t, src, pub, inMiddleware)
		events := tickEvents(2050, 1) // 21 shards, the last one short
		if err := src.Emit(context.Background(), events); err != nil {
			t.Fatalf("Emit: %v", err)
		}
		got := pub.received(t)
		if len(got) != len(events) {
			t.Fatalf("published %d messages, want %d", len(got), len(events))
		}
		apps, ids := map[string]bool{}, map[string]bool{}
		for _, r := range got {
			if apps[r.App] || ids[r.CorrelationID] {
				t.Fatalf("app %s or id %s published twice", r.App, r.CorrelationID)
			}
			apps[r.App], ids[r.CorrelationID] = true, true
			if _, err := strconv.ParseUint(r.CorrelationID, 16, 64); err != nil || r.CorrelationID != fmt.Sprintf("%X", mustHex(t, r.CorrelationID)) {
				t.Fatalf("correlation id %q is not upper-case hex", r.CorrelationID)
			}
			if r.Seq != 1 || r.Run != "run1" || len(r.Metrics) != 2 || !r.Time.Equal(tick) {
				t.Fatalf("message %+v differs from its event", r)
			}
		}
	})
	t.Run("events of one app keep their order across Emits", func(t *testing.T) {
		src := codec.NewSource(7)
		pub := &recorder{}
		runRouter(t, src, pub, inMiddleware)
		const ticks, apps = 5, 50
		for seq := uint64(1); seq <= ticks; seq++ {
			if err := src.Emit(context.Background(), tickEvents(apps, seq)); err != nil {
				t.Fatalf("Emit seq %d: %v", seq, err)
			}
		}
		last := map[string]uint64{}
		for _, r := range pub.received(t) {
			if r.Seq != last[r.App]+1 {
				t.Fatalf("%s: seq %d after %d", r.App, r.Seq, last[r.App])
			}
			last[r.App] = r.Seq
		}
		if len(last) != apps {
			t.Fatalf("%d apps published, want %d", len(last), apps)
		}
	})
	t.Run("a nacked shard makes Emit fail, the others are published", func(t *testing.T) {
		src := codec.NewSource(10)
		pub := &recorder{refuse: "app15"}
		runRouter(t, src, pub, inMiddleware)
		err := src.Emit(context.Background(), tickEvents(40, 1))
		if !errors.Is(err, codec.ErrNacked) {
			t.Fatalf("Emit = %v, want ErrNacked", err)
		}
		if got := len(pub.received(t)); got != 30 {
			t.Errorf("published %d messages, want the 30 of the three other shards", got)
		}
	})
	t.Run("concurrent Emits", func(t *testing.T) {
		src := codec.NewSource(16)
		pub := &recorder{}
		runRouter(t, src, pub, inMiddleware)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if err := src.Emit(context.Background(), tickEvents(100, 1)); err != nil {
					t.Errorf("Emit: %v", err)
				}
			})
		}
		wg.Wait()
		if got := len(pub.received(t)); got != 800 {
			t.Errorf("published %d messages, want 800", got)
		}
	})
}

func mustHex(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMiddleware(t *testing.T) {
	plain := message.NewMessage("plain", []byte("x"))
	cases := []struct {
		name     string
		handler  message.HandlerFunc
		wantApps []string // reply_to of each output; "plain" for the plain message
		wantErr  error
	}{
		{
			name: "events replaced in place, others kept",
			handler: func(*message.Message) ([]*message.Message, error) {
				return []*message.Message{plain, codec.NewEventsMessage(tickEvents(2, 1)), plain}, nil
			},
			wantApps: []string{"plain", "app0", "app1", "plain"},
		},
		{
			name: "no events: passed through",
			handler: func(*message.Message) ([]*message.Message, error) {
				return []*message.Message{plain}, nil
			},
			wantApps: []string{"plain"},
		},
		{
			name: "empty events message produces nothing",
			handler: func(*message.Message) ([]*message.Message, error) {
				return []*message.Message{codec.NewEventsMessage(nil)}, nil
			},
			wantApps: []string{},
		},
		{
			name: "handler error returned as is",
			handler: func(*message.Message) ([]*message.Message, error) {
				return nil, errTest
			},
			wantErr: errTest,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := codec.Middleware()(tc.handler)(message.NewMessage("in", nil))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			apps := []string{}
			for _, m := range out {
				if m == plain {
					apps = append(apps, "plain")
					continue
				}
				apps = append(apps, m.Metadata.Get(codec.KeyReplyTo))
			}
			if fmt.Sprint(apps) != fmt.Sprint(tc.wantApps) {
				t.Errorf("outputs %q, want %q", apps, tc.wantApps)
			}
		})
	}
}

var errTest = errors.New("test handler failed")

func TestMiddlewareMatchesEncode(t *testing.T) {
	t.Run("a mixed batch encodes as Encode does, payloads independent", func(t *testing.T) {
		events := []generator.Event{
			{App: "a", Metrics: metrics("cpu", "1", "mem", "2"), Seq: 1, Run: "r", Time: tick},
			{App: "b", Metrics: metrics("cpu", "3", "mem", "4"), Seq: 1, Run: "r", Time: tick},
			{App: "c", Metrics: metrics("cpu", "5", "gpu", "6"), Seq: 1, Run: "r", Time: tick},
			{App: "d", Metrics: metrics("cpu", "7"), Seq: 2, Run: "r", Time: tick.Add(1500 * time.Millisecond)},
			{App: "e", Metrics: nil, Seq: 3, Run: "r", Time: tick.Add(1500 * time.Millisecond)},
			{App: "f\"", Metrics: metrics("a", "x\n", "b", "y", "c", "z", "d", "w"), Seq: 4, Run: "r", Time: tick},
			{App: "g", Metrics: metrics("a", "1", "b", "2", "c", "3", "d", "4"), Seq: 5, Run: "r", Time: tick},
		}
		out, err := codec.Middleware()(passThrough)(codec.NewEventsMessage(events))
		if err != nil || len(out) != len(events) {
			t.Fatalf("middleware: %d messages, %v", len(out), err)
		}
		for i, m := range out {
			want := codec.Encode(events[i], mustHex(t, m.UUID))
			if !m.Equals(want) {
				t.Errorf("message %d:\n%q %s\nwant\n%q %s", i, m.Metadata, m.Payload, want.Metadata, want.Payload)
			}
		}
		next := string(out[1].Payload)
		out[0].Payload = append(out[0].Payload, "garbage"...)
		if string(out[1].Payload) != next {
			t.Errorf("appending to one payload changed the next: %s", out[1].Payload)
		}
	})
}
