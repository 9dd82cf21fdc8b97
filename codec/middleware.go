package codec

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/ThreeDotsLabs/watermill/message"
)

// errAbandoned is returned for an events message whose Emit gave up (its
// context ended, or the Source closed). It wraps context.Canceled, which the
// router nacks without logging an error: the emitter already reported it.
var errAbandoned = fmt.Errorf("encode events: abandoned by their emitter: %w", context.Canceled)

// Middleware returns a router middleware that turns events messages into
// wire messages. It calls the inner handler and replaces each produced
// message that carries events (see NewEventsMessage) by one Encode'd
// message per event, in the events' order and at the events message's
// place; other produced messages pass through unchanged. Each message gets
// a fresh random correlation id from a math/rand/v2 PCG seeded randomly
// for each call, so concurrent handler calls share no state.
//
// The encoding runs before the handler returns, so before the router acks
// the input: the events are not read after that. An events message whose
// Emit has already returned makes the call fail with an error wrapping
// context.Canceled. Errors of the inner handler are returned as they are.
func Middleware() message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			produced, err := h(msg)
			if err != nil {
				return produced, err
			}
			return encodeProduced(produced)
		}
	}
}

// PublishMiddleware returns a router middleware that publishes what the
// inner handler produced to pub, in one Publish call on TopicPrefix+"*"
// (publishers route each message by its KeyTopic), and produces nothing
// itself. Put it outermost, around Middleware: handed back to the router
// instead, every produced message would get five context.WithValue
// wrappers from it (~10 allocations, ~0.7-1.4 µs a message) that nothing
// reads (BenchmarkRouterHop). A publish error is returned, so the router
// nacks the input.
func PublishMiddleware(pub message.Publisher) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if err != nil || len(out) == 0 {
				return nil, err
			}
			return nil, pub.Publish(TopicPrefix+"*", out...)
		}
	}
}

func encodeProduced(produced []*message.Message) ([]*message.Message, error) {
	var (
		out  []*message.Message
		enc  = encoder{reuse: true}
		buf  []byte
		ids  rand.PCG
		seed bool
	)
	for i, p := range produced {
		b := batchOf(p)
		if b == nil {
			if out != nil {
				out = append(out, p)
			}
			continue
		}
		b.mu.Lock()
		if b.abandoned {
			b.mu.Unlock()
			return nil, errAbandoned
		}
		if out == nil {
			// Typically produced is the one events message of a shard.
			out = make([]*message.Message, i, len(b.events)+len(produced)-1)
			copy(out, produced[:i])
		}
		if !seed {
			ids.Seed(rand.Uint64(), rand.Uint64())
			seed = true
		}
		size := 0
		for _, ev := range b.events {
			size += envelopeSizeHint(ev)
		}
		enc.reserve(size)
		for _, ev := range b.events {
			var msg *message.Message
			id := ev.ID // an event and its injected copies share one
			if id == 0 {
				id = ids.Uint64()
			}
			msg, buf = enc.encode(buf, ev, id)
			out = append(out, msg)
		}
		b.mu.Unlock()
	}
	if out == nil {
		return produced, nil
	}
	return out, nil
}
