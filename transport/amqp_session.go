package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// errPublishTimeout is a publish step that ran past its time (see bounded).
var errPublishTimeout = errors.New("timed out")

// session is one broker connection of the ConnectionWrapper as the
// publisher uses it: the exchange is declared on it once. It knows nothing
// of the publisher: what the publisher does when it ends goes through
// sessionEvents.
type session struct {
	conn *amqp091.Connection
	dead chan struct{} // closed when conn closes
}

func (s *session) alive() bool {
	select {
	case <-s.dead:
		return false
	default:
		return true
	}
}

// sessionEvents is what a session tells its owner when its connection
// closes: closing runs before s.dead is closed (so whoever sees the
// session dead also sees what closing recorded), closed after, with the
// broker's reason (nil for a clean close).
type sessionEvents struct {
	closing func()
	closed  func(err *amqp091.Error)
}

// openSession declares exchange on c and watches c for close and
// connection.blocked. The declaration is bounded by timeout.
func openSession(c *amqp091.Connection, exchange string, timeout time.Duration, log *slog.Logger, ev sessionEvents) (*session, error) {
	err := bounded(timeout, func() error {
		ch, err := c.Channel()
		if err != nil {
			return fmt.Errorf("open channel: %w", err)
		}
		defer func() { _ = ch.Close() }()
		return ch.ExchangeDeclare(exchange, "topic", false, false, false, false, nil)
	})
	if err != nil {
		return nil, declareError(exchange, err)
	}
	s := &session{conn: c, dead: make(chan struct{})}
	closes := c.NotifyClose(make(chan *amqp091.Error, 1))
	blocks := c.NotifyBlocked(make(chan amqp091.Blocking, 4))
	go watchSession(s, closes, blocks, log, ev)
	return s, nil
}

// declareError explains a refused exchange declaration; 403 and 406 are
// permanent.
func declareError(exchange string, err error) error {
	var aerr *amqp091.Error
	if errors.As(err, &aerr) {
		switch aerr.Code {
		case amqp091.PreconditionFailed:
			return fmt.Errorf("declare exchange %q: inequivalent arguments (it exists with other flags; is-wire needs type topic, durable=false, auto_delete=false): %w (%w)", exchange, err, ErrPermanent)
		case amqp091.AccessRefused:
			return fmt.Errorf("declare exchange %q: access refused: %w (%w)", exchange, err, ErrPermanent)
		}
	}
	return fmt.Errorf("declare exchange %q: %w", exchange, err)
}

// watchSession logs connection.blocked and its end, and ends s when its
// connection closes.
func watchSession(s *session, closes <-chan *amqp091.Error, blocks <-chan amqp091.Blocking, log *slog.Logger, ev sessionEvents) {
	for {
		select {
		case b, ok := <-blocks:
			if !ok {
				blocks = nil
			} else if b.Active {
				log.Warn("broker blocked the connection (resource alarm): publishing waits", "reason", b.Reason)
			} else {
				log.Info("broker unblocked the connection")
			}
		case err := <-closes:
			ev.closing()
			close(s.dead)
			ev.closed(err)
			return
		}
	}
}

// bounded runs f and returns its error, or errPublishTimeout after d (f
// keeps running in the background: amqp091-go calls cannot be cancelled).
func bounded(d time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return errPublishTimeout
	}
}
