package receiver

import (
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/checker"
	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/internal/throttle"
)

// Counter counts what the handler sees (receive's /metrics). Its methods
// are called under the handler's lock.
type Counter interface {
	Received(app string)
	DecodeError()
	EnvelopeMismatch()
}

// Config is what a Handler does with each message.
type Config struct {
	Output  string           // text or json
	Count   int              // print at most this many; 0: all
	Done    func()           // called once when Count is reached or Check's expectation met; may be nil
	Counter Counter          // may be nil
	Check   *checker.Checker // may be nil
}

// Handler decodes, counts, checks and prints received messages.
type Handler struct {
	render  Renderer
	out     io.Writer
	logger  *slog.Logger
	count   int
	done    func()
	counter Counter
	check   *checker.Checker

	// Warnings that repeat per message: the first, then a summary a minute.
	decodeWarn, checkWarn *throttle.Warning

	mu           sync.Mutex
	received     int
	decodeErrors int
}

// New returns a handler printing to out.
func New(cfg Config, out io.Writer, logger *slog.Logger) *Handler {
	return &Handler{render: NewRenderer(cfg.Output), out: out, logger: logger, count: cfg.Count, done: cfg.Done,
		counter: cfg.Counter, check: cfg.Check,
		decodeWarn: throttle.New(logger, throttle.Config{Message: "undecodable message", CountKey: "decode_errors", KeysKey: "topics"}),
		checkWarn:  throttle.New(logger, throttle.Config{Message: "check", CountKey: "problems", KeysKey: "deployments"}),
	}
}

// Flush logs what the throttled warnings counted since their last line.
func (r *Handler) Flush() {
	r.decodeWarn.Flush()
	r.checkWarn.Flush()
}

// Handle handles one message; an error is only a failure to print.
func (r *Handler) Handle(msg *message.Message) error {
	rec, err := codec.Decode(msg)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.decodeErrors++
		if r.counter != nil {
			r.counter.DecodeError()
		}
		topic := msg.Metadata.Get(codec.KeyTopic)
		if !r.decodeWarn.Warn(topic, "topic", topic, "error", err.Error()) {
			r.logger.Debug("undecodable message", "topic", topic, "error", err.Error())
		}
		return nil
	}
	if r.counter != nil {
		r.counter.Received(rec.App)
	}
	if rec.Mismatch != "" {
		if r.counter != nil {
			r.counter.EnvelopeMismatch()
		}
		r.logger.Debug("the body disagrees with the headers: read from the headers", "app", rec.App, "reason", rec.Mismatch)
	}
	if r.check != nil {
		for _, p := range r.check.Observe(rec) {
			if !r.checkWarn.Warn(rec.App, "problem", p) {
				r.logger.Debug("check", "problem", p)
			}
		}
	}
	if r.count > 0 && r.received >= r.count {
		return nil // past the count: leave the rest unprinted
	}
	if err := r.render.Render(r.out, rec); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	r.received++
	if r.done != nil && (r.count > 0 && r.received == r.count || r.check != nil && r.check.ExpectMet()) {
		msg.Ack() // before the stop, so the subscriber settles it as acked, not requeued
		r.done()
	}
	return nil
}

// Counts are the messages printed and those that did not decode.
func (r *Handler) Counts() (received, decodeErrors int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.received, r.decodeErrors
}

// Consume handles msgs in order until the channel closes, acking each;
// a message it fails to print is nacked and ends it with the error. When
// the channel closes, the throttled warnings are flushed. (One loop in order: a
// watermill router would start a goroutine per message, grow its stack
// for the JSON encoder, and build log fields and context values for it:
// a third of the receive path's CPU.)
func (r *Handler) Consume(msgs <-chan *message.Message) error {
	for msg := range msgs {
		if err := r.Handle(msg); err != nil {
			msg.Nack()
			return err
		}
		msg.Ack()
	}
	r.Flush()
	return nil
}
