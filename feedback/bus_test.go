package feedback_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/feedback"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/syncbuf"
	"github.com/labsea/metricsender/internal/wiretest"
	"github.com/labsea/metricsender/transport"
)

const loopConfig = "deployments:\n  - name: web\n    state: {replicas: 2}\n    metrics:\n      cpu: {expr: \"2.0 / replicas\"}\n"

// newSchedule is the schedule of a config given as YAML.
func newSchedule(t *testing.T, yaml string) *generator.Schedule {
	t.Helper()
	cfg, err := generator.Parse("loop.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	s, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// nextCPU is web's cpu in the schedule's next batch (virtual clock).
func nextCPU(t *testing.T, s *generator.Schedule) string {
	t.Helper()
	b, ok := s.Next()
	if !ok || len(b.Events) != 1 {
		t.Fatalf("next batch %+v, %v: want one event", b, ok)
	}
	for _, m := range b.Events[0].Metrics {
		if m.Name == "cpu" {
			return m.Value.Text
		}
	}
	t.Fatalf("no cpu in %+v", b.Events[0])
	return ""
}

// counter records what a Bus counts.
type counter struct {
	mu       sync.Mutex
	received int
	ignored  map[feedback.Reason]int
}

func (c *counter) Received() { c.mu.Lock(); c.received++; c.mu.Unlock() }
func (c *counter) Ignored(r feedback.Reason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ignored == nil {
		c.ignored = map[feedback.Reason]int{}
	}
	c.ignored[r]++
}

func (c *counter) get() (int, map[feedback.Reason]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ig := map[feedback.Reason]int{}
	for k, v := range c.ignored {
		ig[k] = v
	}
	return c.received, ig
}

// startBus runs a Bus on a fresh gochannel pair until the test ends and
// returns the pair once the Bus is subscribed.
func startBus(t *testing.T, rec generator.Recorder, c feedback.Counter, logs *syncbuf.Buffer) transport.Pair {
	t.Helper()
	pair, err := transport.New(t.Context(), "gochannel", transport.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pair.Close() })
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	bus, err := feedback.NewBus(feedback.BusConfig{Subscriber: pair.Subscriber, Recorder: rec, Counter: c}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if bus.Ready() == nil {
		t.Error("Ready before Run: want an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for bus.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("bus never ready: %v", bus.Ready())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return pair
}

// publish publishes msg on its topic; gochannel returns once the Bus has
// handled and acked it.
func publish(t *testing.T, pair transport.Pair, msg *message.Message) {
	t.Helper()
	if err := pair.Publisher.Publish(msg.Metadata.Get(codec.KeyTopic), msg); err != nil {
		t.Fatal(err)
	}
}

// TestBusClosedLoop is the closed loop in process over gochannel: web's
// cpu = 2.0 / replicas sends 1 from its state, and after an
// Allocation.web with replicas "4" its next tick sends 0.5.
func TestBusClosedLoop(t *testing.T) {
	sched := newSchedule(t, loopConfig)
	var c counter
	pair := startBus(t, sched, &c, nil)
	if v := nextCPU(t, sched); v != "1" {
		t.Fatalf("cpu %q before feedback, want 1", v)
	}
	publish(t, pair, codec.Encode(generator.Event{App: "web", Metrics: []generator.Metric{{Name: "cpu", Value: generator.Value{Text: "1"}}}}, 1)) // a Metrics message: not feedback
	publish(t, pair, wiretest.Allocation("web", "replicas", "4"))
	if v := nextCPU(t, sched); v != "0.5" {
		t.Errorf("cpu %q after replicas 4, want 0.5", v)
	}
	st, err := sched.Observed("web")
	if err != nil {
		t.Fatal(err)
	}
	if st.Replicas != 4 || st.Ready != 4 || st.Sources.Replicas.Name != "bus" || st.Sources.Replicas.At.IsZero() {
		t.Errorf("state %+v, want replicas and ready 4 set by bus", st)
	}
	if n, ig := c.get(); n != 1 || len(ig) != 0 {
		t.Errorf("received %d, ignored %v; want 1 received (the Metrics message is not feedback), none ignored", n, ig)
	}
}

// TestBusIgnores: messages that change nothing are counted by reason and
// warned once, and the Bus goes on with the next message.
func TestBusIgnores(t *testing.T) {
	withReplyTo := func(m *message.Message, app string) *message.Message {
		m.Metadata.Set(codec.KeyReplyTo, app)
		return m
	}
	cases := []struct {
		name string
		msg  *message.Message
		want feedback.Reason
		log  string // a substring of the warning
	}{
		{name: "unknown app", msg: wiretest.Allocation("nope", "replicas", "3"), want: feedback.ReasonUnknownApp,
			log: `msg="feedback for a deployment the config does not have, ignored" feedback=bus pattern=Allocation.* reason=unknown_app topic=Allocation.nope app=nope`},
		{name: "reply_to names an unknown app", msg: withReplyTo(wiretest.Allocation("web", "replicas", "3"), "other"), want: feedback.ReasonUnknownApp,
			log: `app=other`},
		{name: "not a number", msg: wiretest.Allocation("web", "replicas", "many"), want: feedback.ReasonBadValue,
			log: `reason=bad_value topic=Allocation.web app=web error="bad value: header \"replicas\": not a number`},
		{name: "negative", msg: wiretest.Allocation("web", "replicas", "-1"), want: feedback.ReasonBadValue,
			log: `replicas: must be >= 0, got -1`},
		{name: "bad allocation name", msg: wiretest.Allocation("web", "iswire.cpu", "1"), want: feedback.ReasonBadValue,
			log: `reserved for the codec`},
		{name: "no header", msg: wiretest.Allocation("web"), want: feedback.ReasonEmpty, log: `reason=empty`},
		{name: "content type is-wire refuses", msg: func() *message.Message {
			m := wiretest.Allocation("web", "replicas", "3")
			m.Metadata.Set(codec.KeyContentType, "text/plain")
			return m
		}(), want: feedback.ReasonDecode, log: `reason=decode topic=Allocation.web app="" error="decode: content type`},
		{name: "no app", msg: wiretest.Allocation("", "replicas", "3"), want: feedback.ReasonDecode, log: `is not Allocation.{app}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sched := newSchedule(t, loopConfig)
			var c counter
			var logs syncbuf.Buffer
			pair := startBus(t, sched, &c, &logs)
			publish(t, pair, tc.msg)
			publish(t, pair, wiretest.Allocation("web", "replicas", "5")) // the Bus goes on
			if n, ig := c.get(); n != 2 || ig[tc.want] != 1 || len(ig) != 1 {
				t.Errorf("received %d, ignored %v; want 2 received and one %s", n, ig, tc.want)
			}
			if st, _ := sched.Observed("web"); st.Replicas != 5 || len(st.Allocation) != 0 {
				t.Errorf("state %+v: want only the good message's replicas 5", st)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log:\n%s\nwant it to contain %s", logs.String(), tc.log)
			}
		})
	}
}

// TestBusWarningsThrottled: a flood of bad messages logs one line and a
// summary at the end of Run, whatever their number.
func TestBusWarningsThrottled(t *testing.T) {
	sched := newSchedule(t, loopConfig)
	var c counter
	var logs syncbuf.Buffer
	pair, err := transport.New(t.Context(), "gochannel", transport.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	bus, err := feedback.NewBus(feedback.BusConfig{Subscriber: pair.Subscriber, Recorder: sched, Counter: &c},
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx) }()
	for bus.Ready() != nil {
		time.Sleep(5 * time.Millisecond)
	}
	for i := range 50 {
		publish(t, pair, wiretest.Allocation("ghost"+string(rune('a'+i%26)), "replicas", "1"))
	}
	cancel()
	<-done
	out := logs.String()
	if n := strings.Count(out, `msg="feedback for a deployment the config does not have, ignored"`); n != 1 {
		t.Errorf("%d first lines, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, `msg="feedback for a deployment the config does not have, ignored (summary)" feedback=bus pattern=Allocation.* count=49 apps=26`) {
		t.Errorf("no summary of the other 49 over 26 apps:\n%s", out)
	}
	if n, ig := c.get(); n != 50 || ig[feedback.ReasonUnknownApp] != 50 {
		t.Errorf("received %d, ignored %v; want 50 and 50 unknown_app", n, ig)
	}
}

func TestNewBusConfig(t *testing.T) {
	_, err := feedback.NewBus(feedback.BusConfig{Topic: "Allocation.web", RetryDelay: -1}, nil)
	for _, want := range []string{"Subscriber: nil", "Recorder: nil", `Topic: "Allocation.web": the last word must be * or #`, "RetryDelay: -1ns"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to name %q", err, want)
		}
	}
}

// flakySubscriber fails its first fails Subscribes, then hands over to sub.
type flakySubscriber struct {
	message.Subscriber
	mu    sync.Mutex
	fails int
}

func (f *flakySubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return nil, errors.New("broker connection down")
	}
	return f.Subscriber.Subscribe(ctx, topic)
}

// TestBusReady: Ready says why the source is not up (not yet subscribed,
// the last Subscribe error, the subscription ended), and Run retries a
// failing Subscribe until it works.
func TestBusReady(t *testing.T) {
	pair, err := transport.New(t.Context(), "gochannel", transport.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sub := &flakySubscriber{Subscriber: pair.Subscriber, fails: 2}
	bus, err := feedback.NewBus(feedback.BusConfig{Subscriber: sub, Recorder: newSchedule(t, loopConfig), RetryDelay: 50 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Ready(); err == nil || err.Error() != "feedback: not subscribed to Allocation.* yet" {
		t.Errorf("Ready before Run: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- bus.Run(context.Background()) }()
	sawFailure := false
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := bus.Ready()
		if err == nil {
			break
		}
		if strings.Contains(err.Error(), "feedback: subscribe Allocation.*: broker connection down") {
			sawFailure = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready: %v", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if !sawFailure {
		t.Error("Ready never reported the failed Subscribe")
	}
	_ = pair.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after the pair closed: %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the pair closed")
	}
	if err := bus.Ready(); err == nil || !strings.Contains(err.Error(), "subscription to Allocation.* ended") {
		t.Errorf("Ready after the end: %v", err)
	}
}

func TestTopicPrefix(t *testing.T) {
	cases := []struct {
		pattern, want string
		bad           bool
	}{
		{pattern: "Allocation.*", want: "Allocation."},
		{pattern: "Allocation.#", want: "Allocation."},
		{pattern: "lab.Allocation.*", want: "lab.Allocation."},
		{pattern: "Allocation", bad: true},
		{pattern: "Allocation.web", bad: true},
		{pattern: "*.web", bad: true},
		{pattern: "*", bad: true},
		{pattern: "Allocation..*", bad: true},
		{pattern: "", bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.pattern, func(t *testing.T) {
			got, err := feedback.TopicPrefix(tc.pattern)
			if (err != nil) != tc.bad || got != tc.want {
				t.Errorf("TopicPrefix(%q) = %q, %v; want %q (error: %v)", tc.pattern, got, err, tc.want, tc.bad)
			}
		})
	}
}
