package codec

import (
	"context"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/generator"
)

// An events message carries a batch of events from the scheduler into the
// router in its context, unserialized: the events are encoded into wire
// messages (one per event) by Middleware. It never leaves the process: a
// Publisher that copies messages (gochannel does) drops the context, and
// with it the events.

type eventsKey struct{}

// batch is the events of one events message. The mutex lets the emitter
// take the events back (abandon) while the middleware may be encoding them:
// abandon waits for the encoding to end, which takes microseconds and no
// I/O, and afterwards nothing reads the events any more.
type batch struct {
	mu        sync.Mutex
	events    []generator.Event
	abandoned bool
}

// NewEventsMessage returns an events message carrying events (not copied:
// the caller keeps them unchanged until the message is acked or nacked, or
// until the Source's Emit that sent it returns). Its UUID is empty and its
// payload nil.
func NewEventsMessage(events []generator.Event) *message.Message {
	msg := message.NewMessage("", nil)
	msg.SetContext(context.WithValue(context.Background(), eventsKey{}, &batch{events: events}))
	return msg
}

// EventsOf returns the events of an events message, or nil for any other
// message (and for one whose Emit has returned). The slice is the
// emitter's: read it before acking msg, and do not keep or change it.
func EventsOf(msg *message.Message) []generator.Event {
	b := batchOf(msg)
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.events
}

func batchOf(msg *message.Message) *batch {
	if msg == nil {
		return nil
	}
	b, _ := msg.Context().Value(eventsKey{}).(*batch)
	return b
}

// abandon makes the events unreachable through their message, waiting for
// an encoding in progress to finish.
func (b *batch) abandon() {
	b.mu.Lock()
	b.events, b.abandoned = nil, true
	b.mu.Unlock()
}
