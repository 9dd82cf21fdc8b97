package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"

	"github.com/labsea/metricsender/codec"
)

// DefaultNATSURI is the NATS server the nats transport uses by default.
const DefaultNATSURI = "nats://127.0.0.1:4222"

// NATSConfig configures the nats transport (core NATS, at-most-once).
type NATSConfig struct {
	// URI is nats:// or tls://.
	URI string
	// Confirm makes Publish flush: it returns after a server round trip,
	// so the messages reached the server (not a subscriber).
	Confirm bool
	// PublishTimeout bounds that flush.
	PublishTimeout time.Duration
	// Topics are the subscriber's patterns, in AMQP syntax (see NewNATS).
	Topics []string
	// TLS for tls:// (nil: system defaults).
	TLS *tls.Config
	// ConnectTimeout bounds start-up connection retries; 0 = until ctx is done.
	ConnectTimeout time.Duration
	// Hooks are told about publishes; nil means NopPublishHooks.
	Hooks PublishHooks
	// ReceiveOnly leaves Pair.Publisher nil.
	ReceiveOnly bool
}

// DefaultNATSConfig returns a complete, working config for uri.
func DefaultNATSConfig(uri string) NATSConfig {
	return NATSConfig{URI: uri, Confirm: true, PublishTimeout: 30 * time.Second, Topics: []string{"Metrics.*"}}
}

// NewNATS is the "nats" Factory: core NATS through watermill-nats. Subjects
// are the topics' words (Metrics.app1); AMQP patterns map onto NATS ones:
// `*` is the same, a final `#` becomes `>` plus the prefix itself (AMQP's
// `#` also matches zero words). The message travels as the JSON envelope
// body with one NATS header per codec metadata key (iswire.reply_to,
// iswire.correlation_id, iswire.timestamp_ms, iswire.content_type,
// metric.<name>).
//
// Core NATS keeps nothing: what is published while no subscriber listens,
// or while the connection is down for longer than the client's reconnect
// buffer, is lost. opts.Queue (a durable queue) is refused: it needs
// JetStream. Errors as for NewAMQP (ErrPermanent on refused credentials).
func NewNATS(ctx context.Context, opts Options, logger *slog.Logger) (Pair, error) {
	cfg := DefaultNATSConfig(opts.URI)
	if cfg.URI == "" {
		cfg.URI = DefaultNATSURI
	}
	cfg.Confirm = opts.Confirm
	if opts.PublishTimeout > 0 {
		cfg.PublishTimeout = opts.PublishTimeout
	}
	cfg.Topics = opts.Topics
	cfg.TLS = opts.TLS
	cfg.ConnectTimeout = opts.ConnectTimeout
	cfg.Hooks = opts.Hooks
	cfg.ReceiveOnly = opts.ReceiveOnly
	if opts.Queue != "" {
		return Pair{}, fmt.Errorf("nats transport: --queue %q needs JetStream; core NATS keeps no queue (use --transport amqp)", opts.Queue)
	}
	p, _, err := newNATSPair(ctx, cfg, logger)
	return p, err
}

// setDefaults fills what the zero value leaves unset.
func (c *NATSConfig) setDefaults() {
	if c.Hooks == nil {
		c.Hooks = NopPublishHooks{}
	}
}

// Validate reports every problem of c at once, each naming its field.
func (c NATSConfig) Validate() error {
	var errs []error
	// A comma-separated list names the servers of a NATS cluster; the
	// client tries them itself.
	uris := SplitURIs(c.URI)
	if len(uris) == 0 {
		uris = []string{c.URI}
	}
	for _, one := range uris {
		if u, err := url.Parse(one); err != nil || (u.Scheme != "nats" && u.Scheme != "tls") {
			errs = append(errs, fmt.Errorf("URI: %s: want nats://host:port or tls://host:port", RedactURI(one)))
		}
	}
	if c.PublishTimeout <= 0 {
		errs = append(errs, fmt.Errorf("PublishTimeout: %s, must be > 0", c.PublishTimeout))
	}
	for i, p := range c.Topics {
		if _, err := natsSubjects(p); err != nil {
			errs = append(errs, fmt.Errorf("Topics[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// natsSubjects maps an AMQP topic pattern onto the NATS subjects that
// together match the same topics.
func natsSubjects(pattern string) ([]string, error) {
	words := strings.Split(pattern, ".")
	for i, w := range words {
		switch {
		case w == "" || strings.ContainsAny(w, " \t>"):
			return nil, fmt.Errorf("%q: empty word, blank or '>'", pattern)
		case w == "#" && i != len(words)-1:
			return nil, fmt.Errorf("%q: '#' only as the last word on NATS", pattern)
		}
	}
	if pattern == "#" {
		return []string{">"}, nil
	}
	if prefix, ok := strings.CutSuffix(pattern, ".#"); ok {
		return []string{prefix, prefix + ".>"}, nil
	}
	return []string{pattern}, nil
}

// newNATSPair is NewNATS for a config; it also returns the connection.
func newNATSPair(ctx context.Context, cfg NATSConfig, logger *slog.Logger) (Pair, *nats.Conn, error) {
	logger = orDiscard(logger)
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Pair{}, nil, fmt.Errorf("nats transport config: %w", err)
	}
	uri := RedactURI(cfg.URI)
	hooks := cfg.Hooks
	natsOpts := []nats.Option{
		nats.Name("metricsender"),
		nats.MaxReconnects(-1), // reconnect forever, as the amqp transport does
		nats.ReconnectWait(time.Second),
		nats.Timeout(dialTimeout),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			hooks.Connection(false)
			if nc.IsClosed() {
				return // our own Close, not a loss
			}
			logger.Warn("broker connection lost, reconnecting", "uri", uri, "err", scrubError(err, cfg.URI))
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			hooks.Connection(true)
			logger.Info("broker connection back", "uri", uri)
		}),
	}
	if cfg.TLS != nil {
		natsOpts = append(natsOpts, nats.Secure(cfg.TLS.Clone()))
	}
	conn, err := retryConnect(ctx, cfg.URI, cfg.ConnectTimeout, logger, isPermanentNATS,
		func() (*nats.Conn, error) { return nats.Connect(cfg.URI, natsOpts...) })
	if err != nil {
		return Pair{}, nil, err
	}
	wlog := watermill.NewSlogLogger(logger)
	pub, err := wnats.NewPublisherWithNatsConn(conn, wnats.PublisherPublishConfig{
		Marshaler:         natsMarshaler{},
		SubjectCalculator: wnats.DefaultSubjectCalculator,
		JetStream:         wnats.JetStreamConfig{Disabled: true},
	}, wlog)
	if err != nil {
		conn.Close()
		return Pair{}, nil, fmt.Errorf("nats publisher: %w", err)
	}
	sub, err := wnats.NewSubscriberWithNatsConn(conn, wnats.SubscriberSubscriptionConfig{
		Unmarshaler:  natsMarshaler{},
		CloseTimeout: 5 * time.Second,
		JetStream:    wnats.JetStreamConfig{Disabled: true},
	}, wlog)
	if err != nil {
		conn.Close()
		return Pair{}, nil, fmt.Errorf("nats subscriber: %w", err)
	}
	np := &natsPublisher{pub: pub, conn: conn, cfg: cfg}
	ns := &natsSubscriber{sub: sub, conn: conn, patterns: cfg.Topics, closing: make(chan struct{})}
	var once sync.Once
	var closeErr error
	return Pair{
		Publisher:  pairPublisher(np, cfg.ReceiveOnly), // np still closes the connection
		Subscriber: ns,
		Ready: func() error {
			if !conn.IsConnected() {
				return fmt.Errorf("broker connection %s (%s)", strings.ToLower(conn.Status().String()), uri)
			}
			return nil
		},
		// Publish returns once the messages are written (or flushed, with
		// confirms): nothing is held back.
		Drain:    noDrain,
		Shutdown: noShutdown,
		Close: func() error {
			once.Do(func() { closeErr = errors.Join(ns.Close(), np.Close()) })
			return closeErr
		},
	}, conn, nil
}

// isPermanentNATS: the server refused the credentials, or TLS failed on
// the certificates.
func isPermanentNATS(err error) bool {
	return errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) ||
		errors.Is(err, nats.ErrAuthRevoked) || isPermanent(err)
}

// natsPublisher adds the PublishHooks and --confirm (a flush) to watermill-nats.
type natsPublisher struct {
	pub  *wnats.Publisher
	conn *nats.Conn
	cfg  NATSConfig
}

// Publish sends each message to the subject of its codec.KeyTopic (topic
// when unset), in order. With Confirm it then flushes: a nil error means
// the server has them. While disconnected the client buffers them and, with
// Confirm, Publish fails (they may still be sent after the reconnect).
func (p *natsPublisher) Publish(topic string, msgs ...*message.Message) error {
	start := time.Now()
	defer func() { p.cfg.Hooks.PublishDuration(time.Since(start)) }()
	if err := p.pub.Publish(topic, msgs...); err != nil {
		p.cfg.Hooks.PublishFailed("closed")
		return fmt.Errorf("nats publish: %w", err)
	}
	if p.cfg.Confirm {
		if err := p.conn.FlushTimeout(p.cfg.PublishTimeout); err != nil {
			p.cfg.Hooks.PublishFailed("timeout")
			return fmt.Errorf("nats flush: %w", err)
		}
	}
	for _, m := range msgs {
		p.cfg.Hooks.Published(cmpTopic(m, topic), 1)
	}
	return nil
}

// Close closes the connection shared with the subscriber. It may be called
// any number of times.
func (p *natsPublisher) Close() error { return p.pub.Close() }

func cmpTopic(m *message.Message, topic string) string {
	if t := m.Metadata.Get(codec.KeyTopic); t != "" {
		return t
	}
	return topic
}

// natsSubscriber subscribes every subject of every pattern and merges them.
type natsSubscriber struct {
	sub      *wnats.Subscriber
	conn     *nats.Conn
	patterns []string
	closing  chan struct{}
	once     sync.Once
}

// Subscribe delivers the messages matching Options.Topics or, when there
// are none, topic. Order is kept per subject, not across patterns. The
// channel closes when ctx is done or the pair is closed.
func (s *natsSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	patterns := s.patterns
	if len(patterns) == 0 {
		if topic == "" {
			return nil, errors.New("subscribe: empty topic and no Topics")
		}
		patterns = []string{topic}
	}
	out := make(chan *message.Message)
	var wg sync.WaitGroup
	for _, p := range patterns {
		subjects, err := natsSubjects(p)
		if err != nil {
			return nil, fmt.Errorf("subscribe: %w", err)
		}
		for _, subj := range subjects {
			in, err := s.sub.Subscribe(ctx, subj)
			if err != nil {
				return nil, fmt.Errorf("subscribe %q: %w", subj, err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for m := range in {
					select {
					case out <- m:
					case <-ctx.Done(): // in closes soon
					case <-s.closing:
					}
				}
			}()
		}
	}
	go func() { wg.Wait(); close(out) }()
	// The server has the interest once the flush returns: later publishes
	// from any connection reach us.
	if err := s.conn.FlushTimeout(10 * time.Second); err != nil {
		return nil, fmt.Errorf("subscribe: flush: %w", err)
	}
	return out, nil
}

// Close ends every Subscribe and drains the shared connection. It may be
// called any number of times.
func (s *natsSubscriber) Close() error {
	s.once.Do(func() { close(s.closing) })
	return s.sub.Close()
}

// natsMarshaler maps codec metadata onto NATS headers, one per key, and
// back. Unmarshal never fails: unknown headers are ignored.
type natsMarshaler struct{}

// natsHeaderKeys are the codec keys that travel as headers (the topic is
// the subject).
var natsHeaderKeys = []string{codec.KeyReplyTo, codec.KeyCorrelationID, codec.KeyTimestamp, codec.KeyContentType, codec.KeyContentEncoding}

func (natsMarshaler) Marshal(topic string, msg *message.Message) (*nats.Msg, error) {
	h := nats.Header{}
	for k, v := range msg.Metadata {
		if strings.HasPrefix(k, codec.MetricPrefix) || isNATSHeaderKey(k) {
			h.Set(k, v)
		}
	}
	return &nats.Msg{Subject: cmpTopic(msg, topic), Data: msg.Payload, Header: h}, nil
}

func (natsMarshaler) Unmarshal(m *nats.Msg) (*message.Message, error) {
	id := m.Header.Get(codec.KeyCorrelationID)
	if id == "" {
		id = watermill.NewUUID()
	}
	msg := message.NewMessage(id, m.Data)
	msg.Metadata.Set(codec.KeyTopic, m.Subject)
	for k, vs := range m.Header {
		if len(vs) > 0 && (strings.HasPrefix(k, codec.MetricPrefix) || isNATSHeaderKey(k)) {
			msg.Metadata.Set(k, vs[0])
		}
	}
	return msg, nil
}

func isNATSHeaderKey(k string) bool {
	for _, h := range natsHeaderKeys {
		if k == h {
			return true
		}
	}
	return false
}
