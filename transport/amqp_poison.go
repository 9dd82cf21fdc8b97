package transport

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
)

// An unreadable frame: amqp091-go cannot parse some header values other
// clients send (py-amqp writes an integer >= 2^31 with a field type it does
// not know), and then closes the whole connection. The message is gone with
// an exclusive queue, and comes back at once from a classic queue that keeps
// it. The subscriber reconnects either way; these helpers make the loss
// visible to the handler, as a decode error like any other bad message.

// unreadableFrame tells whether the consumer stopped on a frame amqp091-go
// could not parse. amqp091-go reports that as a 501 FrameError whose reason
// is the text of the parse error (ErrSyntax for a field type it does not
// know, ErrFrame, ErrFrameTooLarge). A 501 with any other reason is the
// socket failing under it (EOF or a reset when the broker stops, a failed
// ack write): that loses no message and must not count as one.
func unreadableFrame(err error) bool {
	var aerr *amqp091.Error
	if !errors.As(err, &aerr) || aerr.Code != amqp091.FrameError {
		return false
	}
	for _, parse := range []*amqp091.Error{amqp091.ErrSyntax, amqp091.ErrFrame, amqp091.ErrFrameTooLarge} {
		if strings.Contains(aerr.Reason, parse.Reason) {
			return true
		}
	}
	return false
}

// unreadableText is the decode error the handler reports for it.
const unreadableText = "the broker connection closed on a message the Go AMQP client cannot read " +
	"(a header such as an integer >= 2^31 from a Python peer): that message is lost, or redelivered if its queue keeps it"

// poisonLoopLimit is how many unreadable frames in a row, with no good
// delivery between them, mean one message is redelivered forever (a classic
// queue keeps it at its head): the subscriber then says so and slows down.
const poisonLoopLimit = 5

// reportUnreadable hands the handler a message that stands for the lost
// one and waits until it is settled. It returns false when ctx is done or
// the subscriber closes first.
func (s *amqpSubscriber) reportUnreadable(ctx context.Context, out chan<- *message.Message) bool {
	msg := message.NewMessage(watermill.NewShortUUID(), nil)
	msg.Metadata.Set(codec.KeyDecodeError, unreadableText)
	msg.Metadata.Set(codec.KeyTopic, s.queue)
	_, stop := s.handOut(ctx, msg, out)
	return stop == nil
}

// sleep waits d; false when ctx is done or the subscriber closes first.
func (s *amqpSubscriber) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}
