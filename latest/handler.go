package latest

import (
	"log/slog"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/internal/throttle"
)

// Handler feeds a Store from Metrics.{app} messages.
type Handler struct {
	store  *Store
	logger *slog.Logger
	// Warnings that repeat per message: the first, then a summary a minute.
	decodeWarn, numberWarn *throttle.Warning

	received, decodeErrors, notNumbers atomic.Int64
}

// NewHandler returns a handler that puts every message it decodes into
// store; logger (nil discards) gets the throttled warnings.
func NewHandler(store *Store, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{store: store, logger: logger,
		decodeWarn: throttle.New(logger, throttle.Config{Message: "undecodable message", CountKey: "decode_errors", KeysKey: "topics"}),
		numberWarn: throttle.New(logger, throttle.Config{Message: "a metric that is not a number is not served", CountKey: "values", KeysKey: "apps"}),
	}
}

// Handle decodes msg with codec.Decode and puts it into the store. A
// message that does not decode is counted and logged (throttled), never
// an error: Handle always returns nil, so the caller acks the message.
// Safe for concurrent use.
func (h *Handler) Handle(msg *message.Message) error {
	rcv, err := codec.Decode(msg)
	if err != nil {
		h.decodeErrors.Add(1)
		var topic string
		if msg != nil {
			topic = msg.Metadata.Get(codec.KeyTopic)
		}
		if !h.decodeWarn.Warn(topic, "topic", topic, "error", err.Error()) {
			h.logger.Debug("undecodable message", "topic", topic, "error", err.Error())
		}
		return nil
	}
	h.received.Add(1)
	if skipped := h.store.Put(rcv); skipped > 0 {
		h.notNumbers.Add(int64(skipped))
		h.numberWarn.Warn(rcv.App, "app", rcv.App)
	}
	return nil
}

// Consume handles msgs in order, acking each, until the channel closes;
// then it logs what the throttled warnings counted since their last line.
func (h *Handler) Consume(msgs <-chan *message.Message) {
	for msg := range msgs {
		_ = h.Handle(msg)
		msg.Ack()
	}
	h.Flush()
}

// Flush logs what the throttled warnings counted since their last line.
func (h *Handler) Flush() {
	h.decodeWarn.Flush()
	h.numberWarn.Flush()
}

// Counts are the messages put into the store, those that did not decode,
// and the metric values skipped because they were not numbers.
type Counts struct {
	Received, DecodeErrors, NotNumbers int64
}

// Counts returns the counts so far. Safe for concurrent use.
func (h *Handler) Counts() Counts {
	return Counts{Received: h.received.Load(), DecodeErrors: h.decodeErrors.Load(), NotNumbers: h.notNumbers.Load()}
}
