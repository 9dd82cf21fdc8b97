package standin_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/policy"
	"github.com/labsea/metricsender/standin"
)

// bus is a subscriber that delivers what the test sends, and a publisher
// that keeps what it is given.
type bus struct {
	in chan *message.Message

	mu  sync.Mutex
	out []*message.Message
}

func newBus() *bus { return &bus{in: make(chan *message.Message, 16)} }

func (b *bus) Subscribe(ctx context.Context, _ string) (<-chan *message.Message, error) {
	out := make(chan *message.Message)
	go func() {
		defer close(out)
		for {
			select {
			case msg := <-b.in:
				select {
				case out <- msg:
				case <-ctx.Done():
					return
				}
				select { // wait for the ack, as a transport does
				case <-msg.Acked():
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func (b *bus) Publish(_ string, msgs ...*message.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.out = append(b.out, msgs...)
	return nil
}

func (b *bus) Close() error { return nil }

func (b *bus) published() []*message.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*message.Message(nil), b.out...)
}

// request is app's Metrics message with metrics as name, text pairs.
func request(app string, id uint64, kv ...string) *message.Message {
	ev := generator.Event{App: app, Time: time.UnixMilli(1795627800000)}
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Metrics = append(ev.Metrics, generator.Metric{Name: kv[i], Value: generator.Value{Text: kv[i+1]}})
	}
	return codec.Encode(ev, id)
}

// run starts an Operator on b and returns a stop that ends it and
// returns its account.
func run(t *testing.T, b *bus, cfg standin.Config) func() standin.Counts {
	t.Helper()
	cfg.Subscriber, cfg.Publisher = b, b
	subscribed := make(chan struct{})
	cfg.Subscribed = func() { close(subscribed) }
	op, err := standin.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		n   standin.Counts
		err error
	}
	done := make(chan result, 1)
	go func() { n, err := op.Run(ctx); done <- result{n, err} }()
	<-subscribed
	return func() standin.Counts {
		cancel()
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.n
	}
}

// waitFor waits until b published n answers.
func waitFor(t *testing.T, b *bus, n int) []*message.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(b.published()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d answers, want %d", len(b.published()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return b.published()
}

func TestOperatorAnswers(t *testing.T) {
	tests := []struct {
		name   string
		policy policy.Policy
		before []*message.Message // read first
		req    *message.Message
		want   codec.Allocation // without Time
	}{
		{name: "follow applies what is requested, numbers only", policy: policy.Follow{},
			req:  request("web", 0xC0FFEE, "replicas", "3", "cpu", "750m", "tier", "gold"),
			want: codec.Allocation{App: "web", CorrelationID: "C0FFEE", Replicas: 3, HasReplicas: true, Resources: map[string]float64{"cpu": 0.75}}},
		{name: "hpa starts from its min", policy: policy.NewHPA("cpu", 0.5),
			req:  request("web", 1, "cpu", "2"),
			want: codec.Allocation{App: "web", CorrelationID: "1", Replicas: 4, HasReplicas: true}},
		{name: "hpa starts from the replicas an Allocation message says", policy: policy.NewHPA("cpu", 0.5),
			before: []*message.Message{codec.EncodeAllocation(codec.Allocation{App: "web", Replicas: 2, HasReplicas: true})},
			req:    request("web", 1, "cpu", "1"),
			want:   codec.Allocation{App: "web", CorrelationID: "1", Replicas: 4, HasReplicas: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBus()
			stop := run(t, b, standin.Config{Policy: tt.policy})
			for _, m := range tt.before {
				b.in <- m
			}
			b.in <- tt.req
			got := waitFor(t, b, 1)[0]
			if topic := got.Metadata.Get(codec.KeyTopic); topic != "Allocation.web" {
				t.Errorf("answer on %q, want Allocation.web", topic)
			}
			a, err := codec.DecodeAllocation(got, codec.AllocationPrefix)
			if err != nil {
				t.Fatal(err)
			}
			if time.Since(a.Time) > time.Minute {
				t.Errorf("answer dated %s, want now", a.Time)
			}
			a.Time = time.Time{}
			if a.App != tt.want.App || a.CorrelationID != tt.want.CorrelationID || a.Replicas != tt.want.Replicas ||
				a.HasReplicas != tt.want.HasReplicas || len(a.Resources) != len(tt.want.Resources) || a.Resources["cpu"] != tt.want.Resources["cpu"] {
				t.Errorf("answer %+v, want %+v", a, tt.want)
			}
			if n := stop(); n != (standin.Counts{Requests: 1, Answered: 1}) {
				t.Errorf("counts %+v, want one request answered", n)
			}
		})
	}
}

// counter counts what the Operator reads.
type counter struct {
	standin.NopCounter
	requests, unreadable atomic.Int64
}

func (c *counter) Request()    { c.requests.Add(1) }
func (c *counter) Unreadable() { c.unreadable.Add(1) }

// wait waits until c counted n messages read.
func (c *counter) wait(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.requests.Load()+c.unreadable.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages read, want %d", c.requests.Load()+c.unreadable.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// With a delay, what is still held when Run stops goes out at once; an
// unreadable message is counted and skipped.
func TestOperatorStopSendsHeld(t *testing.T) {
	b, c := newBus(), &counter{}
	stop := run(t, b, standin.Config{Policy: policy.Follow{}, Delay: time.Hour, Counter: c})
	bad := message.NewMessage("x", nil)
	bad.Metadata.Set(codec.KeyTopic, "Metrics.")
	b.in <- bad
	b.in <- request("web", 7, "cpu", "1")
	c.wait(t, 2)
	if len(b.published()) != 0 {
		t.Errorf("an answer went out before its delay")
	}
	n := stop()
	if len(b.published()) != 1 || n != (standin.Counts{Requests: 1, Answered: 1}) || c.unreadable.Load() != 1 {
		t.Errorf("%d answers, counts %+v, %d unreadable; want the held one sent, one request, one unreadable",
			len(b.published()), n, c.unreadable.Load())
	}
}

// The same seed gives the same misses.
func TestOperatorMissIsSeeded(t *testing.T) {
	missed := func(seed int64) standin.Counts {
		b, c := newBus(), &counter{}
		stop := run(t, b, standin.Config{Policy: policy.Follow{}, Miss: 0.5, Seed: seed, Counter: c})
		for i := range 20 {
			b.in <- request("web", uint64(i+1), "cpu", "1")
		}
		c.wait(t, 20)
		return stop()
	}
	a, b := missed(7), missed(7)
	if a != b || a.Missed == 0 || a.Answered == 0 || a.Requests != 20 {
		t.Errorf("seed 7 twice: %+v, %+v; want equal, some missed, some answered, 20 requests", a, b)
	}
}

func TestConfigValidate(t *testing.T) {
	_, err := standin.New(standin.Config{Miss: 2, Delay: -1}, nil)
	for _, want := range []string{"Subscriber: nil", "Publisher: nil", "Policy: nil", "must be >= 0", "Miss 2"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New: %v, want an error naming %q", err, want)
		}
	}
}
