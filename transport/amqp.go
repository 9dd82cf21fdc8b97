package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// NewAMQP is the "amqp" Factory: the is-wire transport over RabbitMQ. It
// maps opts onto DefaultAMQPConfig (empty fields keep the defaults; an empty
// Topics leaves the subscriber bound to the topic given to Subscribe) and
// calls NewAMQPConfig.
func NewAMQP(ctx context.Context, opts Options, logger *slog.Logger) (Pair, error) {
	cfg := DefaultAMQPConfig(opts.URI)
	if cfg.URI == "" {
		cfg.URI = DefaultAMQPURI
	}
	if opts.Exchange != "" {
		cfg.Exchange = opts.Exchange
	}
	cfg.Confirm = opts.Confirm
	if opts.PublishTimeout > 0 {
		cfg.PublishTimeout = opts.PublishTimeout
	}
	if opts.Buffer > 0 {
		cfg.Buffer = opts.Buffer
	}
	switch {
	case opts.RebindWindow > 0:
		cfg.RebindWindow = opts.RebindWindow
	case opts.RebindWindow < 0:
		cfg.RebindWindow = 0
	}
	cfg.Hooks = opts.Hooks
	cfg.TLS = opts.TLS
	cfg.ConnectTimeout = opts.ConnectTimeout
	cfg.Topics = opts.Topics
	cfg.Queue = opts.Queue
	cfg.ReceiveOnly = opts.ReceiveOnly
	return NewAMQPConfig(ctx, cfg, logger)
}

// NewAMQPConfig validates cfg, connects (retrying while the broker is
// unreachable, see ErrPermanent for what stops at once), declares the
// exchange and returns the publisher and subscriber over one connection,
// which reconnects by itself after a drop.
//
// Errors: an invalid cfg (every problem, joined); ctx done or
// cfg.ConnectTimeout elapsed before the broker answered; a permanent
// failure (wrapping ErrPermanent). No error text holds the password.
// A nil logger discards logs.
func NewAMQPConfig(ctx context.Context, cfg AMQPConfig, logger *slog.Logger) (Pair, error) {
	p, _, err := newAMQPPair(ctx, cfg, logger)
	return p, err
}

// newAMQPPair is NewAMQPConfig that also returns the connection (tests cut it).
func newAMQPPair(ctx context.Context, cfg AMQPConfig, logger *slog.Logger) (Pair, *wamqp.ConnectionWrapper, error) {
	logger = orDiscard(logger)
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Pair{}, nil, fmt.Errorf("amqp transport config: %w", err)
	}
	uri := RedactURI(cfg.URI)
	conn, watch, node, err := connectAMQP(ctx, cfg, logger)
	if err != nil {
		return Pair{}, nil, err
	}

	tracker := newConnTracker(conn, watch)
	var pub *amqpPublisher
	if !cfg.ReceiveOnly {
		if pub, err = newAMQPPublisher(conn, cfg, logger, withConnWatch(watch)); err != nil {
			_ = conn.Close()
			return Pair{}, nil, fmt.Errorf("amqp publisher on %s: %w", uri, scrubError(err, cfg.URI))
		}
	}
	sub := newAMQPSubscriber(tracker, cfg, logger)

	var (
		once     sync.Once
		closeErr error
	)
	drain, shutdown := noDrain, noShutdown
	if pub != nil {
		drain, shutdown = pub.Drain, pub.Shutdown
	}
	return Pair{
		Publisher:  pairPublisher(pub, cfg.ReceiveOnly),
		Subscriber: sub,
		Ready: func() error {
			if tracker.closed() {
				return errors.New("broker connection closed")
			}
			if c, _ := tracker.current(); c == nil || c.IsClosed() {
				return fmt.Errorf("broker connection down (%s)", uri)
			}
			return nil
		},
		Node:     node,
		Drain:    drain,
		Shutdown: shutdown,
		Close: func() error {
			once.Do(func() {
				closeErr = sub.Close()
				if pub != nil {
					closeErr = errors.Join(closeErr, pub.Close())
				}
				closeErr = errors.Join(closeErr, conn.Close())
			})
			return closeErr
		},
	}, conn, nil
}

// setDefaults fills what the zero value leaves unset.
func (c *AMQPConfig) setDefaults() {
	if c.Hooks == nil {
		c.Hooks = NopPublishHooks{}
	}
}

// Validate reports every problem of c at once (errors.Join), each naming
// its field. The URI in a message is always masked.
func (c AMQPConfig) Validate() error {
	var errs []error
	if err := validateAMQPURI(c.URI); err != nil {
		errs = append(errs, fmt.Errorf("URI: %w", err))
	}
	if c.Exchange == "" {
		errs = append(errs, errors.New("Exchange: empty (is-wire uses \"is\")"))
	}
	if c.ChannelPoolSize <= 0 {
		errs = append(errs, fmt.Errorf("ChannelPoolSize: %d, must be > 0", c.ChannelPoolSize))
	}
	if c.PublishTimeout <= 0 {
		errs = append(errs, fmt.Errorf("PublishTimeout: %s, must be > 0", c.PublishTimeout))
	}
	if c.Prefetch < 0 {
		errs = append(errs, fmt.Errorf("Prefetch: %d, must be >= 0", c.Prefetch))
	}
	if c.Buffer < 0 {
		errs = append(errs, fmt.Errorf("Buffer: %d, must be >= 0", c.Buffer))
	}
	if c.RebindWindow < 0 {
		errs = append(errs, fmt.Errorf("RebindWindow: %s, must be >= 0", c.RebindWindow))
	}
	if c.ConnectTimeout < 0 {
		errs = append(errs, fmt.Errorf("ConnectTimeout: %s, must be >= 0", c.ConnectTimeout))
	}
	for i, p := range c.Topics {
		if err := validatePattern(p); err != nil {
			errs = append(errs, fmt.Errorf("Topics[%d]: %w", i, err))
		}
	}
	if len(c.Queue) > 255 {
		errs = append(errs, fmt.Errorf("Queue: %d bytes, at most 255", len(c.Queue)))
	}
	if strings.HasPrefix(c.Queue, "amq.") {
		errs = append(errs, fmt.Errorf("Queue: %q: the amq. prefix is reserved by the broker", c.Queue))
	}
	return errors.Join(errs...)
}

// validateAMQPURI checks the scheme and that amqp091 can parse uri, or
// each URI of a list and that they name one cluster (CheckURIList); its
// messages never quote a password.
func validateAMQPURI(uri string) error {
	if list := SplitURIs(uri); len(list) > 1 {
		var errs []error
		for _, u := range list {
			errs = append(errs, validateAMQPURI(u))
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		return CheckURIList(list)
	}
	red := RedactURI(uri)
	if uri == "" {
		return errors.New("empty")
	}
	u, err := url.Parse(uri)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // url.Error quotes the whole URI
		}
		return fmt.Errorf("%s: %w", red, scrubError(err, uri))
	}
	if u.Scheme != "amqp" && u.Scheme != "amqps" {
		return fmt.Errorf("%s: scheme %q, want amqp or amqps", red, u.Scheme)
	}
	if _, err := amqp091.ParseURI(uri); err != nil {
		return fmt.Errorf("%s: %w", red, scrubError(err, uri))
	}
	return nil
}

// validatePattern checks one AMQP topic binding pattern.
func validatePattern(p string) error {
	if p == "" {
		return errors.New("empty pattern")
	}
	if len(p) > 255 {
		return fmt.Errorf("%d bytes, at most 255", len(p))
	}
	return nil
}
