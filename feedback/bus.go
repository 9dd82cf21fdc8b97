package feedback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/throttle"
)

// DefaultTopic is the pattern the bus source subscribes by default.
const DefaultTopic = codec.AllocationPrefix + "*"

// SourceBus names the bus as the source of an observation (see
// generator.Source).
const SourceBus = "bus"

// Reason says why a feedback message changed nothing: a short stable word,
// fit for a metric label.
type Reason string

// The reasons, in Reasons.
const (
	// ReasonDecode: the codec refused the message (a content type is-wire
	// does not read, no app, a header of a type it does not print).
	ReasonDecode Reason = "decode"
	// ReasonUnknownApp: no deployment of the current config has the name.
	ReasonUnknownApp Reason = "unknown_app"
	// ReasonBadValue: a header is not a number or quantity, or not a value
	// a state can hold (negative, too large, a bad allocation name).
	ReasonBadValue Reason = "bad_value"
	// ReasonEmpty: the message has no header, so it could change nothing.
	ReasonEmpty Reason = "empty"
)

// Reasons lists every Reason, so a counter can show each from the start.
var Reasons = []Reason{ReasonDecode, ReasonUnknownApp, ReasonBadValue, ReasonEmpty}

var reasonWarnings = map[Reason]string{
	ReasonDecode:     "feedback message unreadable, ignored",
	ReasonUnknownApp: "feedback for a deployment the config does not have, ignored",
	ReasonBadValue:   "feedback with a bad value, ignored",
	ReasonEmpty:      "feedback message with no header, ignored",
}

// Counter is told what becomes of each feedback message, so the app can
// count them without this package knowing about metrics. Implementations
// must be safe for concurrent use and must not block.
type Counter interface {
	// Received: one message was taken from the subscription, whatever
	// became of it.
	Received()
	// Ignored: that message changed nothing, for reason.
	Ignored(reason Reason)
}

// NopCounter counts nothing.
type NopCounter struct{}

func (NopCounter) Received()      {}
func (NopCounter) Ignored(Reason) {}

// BusConfig configures a Bus.
type BusConfig struct {
	// Subscriber is the transport's (transport.Pair.Subscriber), built
	// without Options.Topics so that Subscribe's topic is the binding.
	// Required.
	Subscriber message.Subscriber
	// Topic is the pattern subscribed, `*` one word, `#` any (see
	// TopicPrefix for the shapes allowed). Default DefaultTopic.
	Topic string
	// Recorder gets each observation. Required.
	Recorder generator.Recorder
	// Counter counts messages; nil counts nothing.
	Counter Counter
	// RetryDelay is the first wait after a failed Subscribe; it doubles up
	// to 30s. Default 1s.
	RetryDelay time.Duration
}

func (c *BusConfig) setDefaults() {
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.Counter == nil {
		c.Counter = NopCounter{}
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = time.Second
	}
}

// Validate reports every problem of c at once, each naming its field.
func (c BusConfig) Validate() error {
	var errs []error
	if c.Subscriber == nil {
		errs = append(errs, errors.New("Subscriber: nil"))
	}
	if c.Recorder == nil {
		errs = append(errs, errors.New("Recorder: nil"))
	}
	if _, err := TopicPrefix(c.Topic); err != nil {
		errs = append(errs, fmt.Errorf("Topic: %w", err))
	}
	if c.RetryDelay < 0 {
		errs = append(errs, fmt.Errorf("RetryDelay: %s, must be >= 0", c.RetryDelay))
	}
	return errors.Join(errs...)
}

// TopicPrefix returns the prefix of a feedback pattern, the part the app
// name follows in a routing key: "Allocation." for "Allocation.*". The
// pattern must be one or more words without wildcards followed by a last
// word `*` or `#`; anything else is an error.
func TopicPrefix(pattern string) (string, error) {
	words := strings.Split(pattern, ".")
	if len(words) < 2 {
		return "", fmt.Errorf("%q: want words then a last word * or # (Allocation.*)", pattern)
	}
	for _, w := range words[:len(words)-1] {
		if w == "" || strings.ContainsAny(w, "*#> \t") {
			return "", fmt.Errorf("%q: want words then a last word * or # (Allocation.*): %q", pattern, w)
		}
	}
	if last := words[len(words)-1]; last != "*" && last != "#" {
		return "", fmt.Errorf("%q: the last word must be * or # (Allocation.*)", pattern)
	}
	return strings.TrimSuffix(pattern, words[len(words)-1]), nil
}

// Bus is the bus feedback source: it subscribes the pattern on the
// transport's subscriber and records each message as an observation.
// Build it with NewBus and start it with Run. Ready and Run are safe for
// concurrent use.
type Bus struct {
	cfg    BusConfig
	prefix string
	logger *slog.Logger
	warn   map[Reason]*throttle.Warning

	mu    sync.Mutex
	state error // nil while subscribed
}

// NewBus validates cfg (filling defaults) and returns a Bus not yet
// subscribed. A nil logger discards.
func NewBus(cfg BusConfig, logger *slog.Logger) (*Bus, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bus feedback config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("feedback", SourceBus, "pattern", cfg.Topic)
	prefix, _ := TopicPrefix(cfg.Topic)
	b := &Bus{cfg: cfg, prefix: prefix, logger: logger, warn: make(map[Reason]*throttle.Warning, len(Reasons)),
		state: fmt.Errorf("feedback: not subscribed to %s yet", cfg.Topic)}
	for _, r := range Reasons {
		b.warn[r] = throttle.New(logger, throttle.Config{Message: reasonWarnings[r], KeysKey: "apps"})
	}
	return b, nil
}

// Ready reports nil while the subscription is up, else why not (not yet
// subscribed, the last Subscribe error, the subscription ended). It says
// nothing of the broker connection itself: that is the transport's
// Pair.Ready.
func (b *Bus) Ready() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

func (b *Bus) setState(err error) {
	b.mu.Lock()
	b.state = err
	b.mu.Unlock()
}

// Run subscribes (retrying with backoff, one warning per failure, while
// Subscribe fails) and records every message until ctx is done or the
// subscription is closed under it (the pair closed); it then returns nil,
// or ctx's error when ctx ended before any subscription. Each message is
// handled in order of receipt and acked, whatever became of it. Call it
// once.
func (b *Bus) Run(ctx context.Context) error {
	defer b.flush()
	delay := b.cfg.RetryDelay
	var msgs <-chan *message.Message
	for {
		var err error
		msgs, err = b.cfg.Subscriber.Subscribe(ctx, b.cfg.Topic)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		err = fmt.Errorf("feedback: subscribe %s: %w", b.cfg.Topic, err)
		b.setState(err)
		b.logger.Warn("feedback subscription failed, retrying", "error", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(max(2*delay, time.Millisecond), 30*time.Second)
	}
	b.setState(nil)
	b.logger.Info("feedback subscribed")
	for msg := range msgs {
		b.handle(msg)
	}
	b.setState(fmt.Errorf("feedback: subscription to %s ended", b.cfg.Topic))
	return nil
}

// handle records one message and acks it.
func (b *Bus) handle(msg *message.Message) {
	defer msg.Ack()
	b.cfg.Counter.Received()
	topic := msg.Metadata.Get(codec.KeyTopic)
	a, err := codec.DecodeAllocation(msg, b.prefix)
	switch {
	case errors.Is(err, codec.ErrNoField):
		b.ignore(ReasonEmpty, topic, a.App, err)
		return
	case errors.Is(err, codec.ErrBadValue):
		b.ignore(ReasonBadValue, topic, a.App, err)
		return
	case err != nil:
		b.ignore(ReasonDecode, topic, "", err)
		return
	}
	ob := a.Observation(SourceBus)
	switch err := b.cfg.Recorder.Observe(a.App, ob); {
	case errors.Is(err, generator.ErrUnknownDeployment):
		b.ignore(ReasonUnknownApp, topic, a.App, err)
	case err != nil: // ErrBadObservation, or whatever a Recorder refuses
		b.ignore(ReasonBadValue, topic, a.App, err)
	default:
		if b.logger.Enabled(context.Background(), slog.LevelDebug) {
			b.logger.Debug("feedback recorded", "app", a.App, "correlation_id", a.CorrelationID, "observation", ob)
		}
	}
}

// ignore counts and warns (throttled) a message that changed nothing.
func (b *Bus) ignore(r Reason, topic, app string, err error) {
	b.cfg.Counter.Ignored(r)
	key := app
	if key == "" {
		key = topic
	}
	b.warn[r].Warn(key, "reason", string(r), "topic", topic, "app", app, "error", err)
}

// flush writes the summaries of what the warnings counted.
func (b *Bus) flush() {
	for _, r := range Reasons {
		b.warn[r].Flush()
	}
}

// Start runs b in the background until ctx ends; an error that is not
// ctx's is logged on logger. The returned wait blocks until Run returned.
func (b *Bus) Start(ctx context.Context, logger *slog.Logger) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := b.Run(ctx); err != nil && ctx.Err() == nil {
			logger.Error("feedback stopped", "error", err)
		}
	}()
	return func() { <-done }
}
