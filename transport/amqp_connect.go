package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// connectAMQP opens the watermill-amqp connection, retrying with backoff
// while the broker is unreachable (see retryConnect for when it stops).
// Once connected, the wrapper reconnects by itself after a drop, and the
// returned connWatch tells of each reconnect without reading the wrapper's
// unsynchronised fields. A URI list is dialled node by node (nodeDialer);
// node returns the host:port of the node connected to last.
func connectAMQP(ctx context.Context, cfg AMQPConfig, logger *slog.Logger) (conn *wamqp.ConnectionWrapper, watch *connWatch, node func() string, err error) {
	// Dials during start-up end with --connect-timeout too, so that a node
	// that does not answer cannot hold a round over the list past it.
	dialCtx := ctx
	if cfg.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		dialCtx, cancel = context.WithTimeout(ctx, cfg.ConnectTimeout)
		defer cancel()
	}
	dialer := &startDialer{ctx: dialCtx}
	defer dialer.setContext(context.Background())
	nodes, amqpURI, err := newNodeDialer(cfg, dialer, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	dial, node := dialer.dial, func() string { return uriNode(cfg.URI) }
	if nodes != nil {
		dial, node = nodes.dial, nodes.node
	}

	props := amqp091.NewConnectionProperties()
	props.SetClientConnectionName("metricsender")
	var tlsCfg *tls.Config
	if cfg.TLS != nil && nodes == nil {
		// amqp091 writes ServerName into the config it is given: keep ours intact.
		tlsCfg = cfg.TLS.Clone()
	}
	connCfg := wamqp.ConnectionConfig{
		AmqpURI: amqpURI,
		AmqpConfig: &amqp091.Config{
			Dial:            dial,
			TLSClientConfig: tlsCfg,
			Properties:      props,
			Locale:          "en_US",
		},
		Reconnect: reconnectConfig(),
	}
	// The watch learns of every (re)connect from the wrapper's own log line.
	watch = newConnWatch(watermill.NewSlogLogger(logger))

	conn, err = retryConnect(ctx, cfg.URI, cfg.ConnectTimeout, logger, isPermanent,
		func() (*wamqp.ConnectionWrapper, error) { return wamqp.NewConnection(connCfg, watch) })
	if err != nil {
		return nil, nil, nil, err
	}
	return conn, watch, node, nil
}

// isPermanent reports whether a connection error cannot be fixed by
// retrying: the broker refused the credentials or the vhost, or TLS failed
// on the certificates or the protocol (not on the network).
func isPermanent(err error) bool {
	var amqpErr *amqp091.Error
	if errors.As(err, &amqpErr) {
		switch amqpErr.Code {
		case amqp091.AccessRefused, amqp091.PreconditionFailed:
			return true
		case amqp091.NotAllowed:
			// 530 is a missing or forbidden vhost (permanent), or a reached
			// connection limit (which may clear).
			return !strings.Contains(amqpErr.Reason, "limit")
		}
		return false
	}
	var (
		verifyErr    *tls.CertificateVerificationError
		authorityErr x509.UnknownAuthorityError
		hostErr      x509.HostnameError
		invalidErr   x509.CertificateInvalidError
		recordErr    tls.RecordHeaderError
		alertErr     tls.AlertError
	)
	return errors.As(err, &verifyErr) || errors.As(err, &authorityErr) ||
		errors.As(err, &hostErr) || errors.As(err, &invalidErr) ||
		errors.As(err, &recordErr) || errors.As(err, &alertErr)
}

// connTracker hands out the wrapper's current connection without racing
// the wrapper, which rewrites its fields on reconnect without a lock: it
// reads ConnectionWrapper.Connection only after the connWatch saw the
// wrapper log a new connect (a happens-before edge), and otherwise returns
// the connection it read last. Safe for concurrent use.
type connTracker struct {
	conn  *wamqp.ConnectionWrapper
	watch *connWatch

	mu  sync.Mutex
	gen uint64
	cur *amqp091.Connection
}

// newConnTracker must be called in the goroutine that connected conn,
// right after connecting.
func newConnTracker(conn *wamqp.ConnectionWrapper, watch *connWatch) *connTracker {
	gen, _ := watch.state()
	return &connTracker{conn: conn, watch: watch, gen: gen, cur: conn.Connection()}
}

// current returns the latest connection (maybe closed: check IsClosed) and
// a channel closed at the next connect.
func (t *connTracker) current() (*amqp091.Connection, <-chan struct{}) {
	gen, up := t.watch.state()
	t.mu.Lock()
	defer t.mu.Unlock()
	if gen != t.gen {
		t.gen = gen
		t.cur = t.conn.Connection()
	}
	return t.cur, up
}

// closed reports whether the wrapper was closed for good.
func (t *connTracker) closed() bool { return t.conn.Closed() }

// connWatch wraps the watermill logger handed to wamqp.NewConnection. The
// ConnectionWrapper logs connectedMsg right after it stored a new
// connection; connWatch turns that into an event, so the publisher learns
// of a reconnect without reading the wrapper's racy fields first.
type connWatch struct {
	watermill.LoggerAdapter

	mu  sync.Mutex
	gen uint64
	up  chan struct{} // closed and replaced on each connect
}

// connectedMsg is what watermill-amqp v3's ConnectionWrapper.connect logs.
const connectedMsg = "Connected to AMQP"

func newConnWatch(next watermill.LoggerAdapter) *connWatch {
	if next == nil {
		next = watermill.NopLogger{}
	}
	return &connWatch{LoggerAdapter: next, up: make(chan struct{})}
}

func (w *connWatch) Info(msg string, fields watermill.LogFields) {
	if msg == connectedMsg {
		w.mu.Lock()
		w.gen++
		close(w.up)
		w.up = make(chan struct{})
		w.mu.Unlock()
	}
	w.LoggerAdapter.Info(msg, fields)
}

// state returns how many connects were seen and a channel closed at the next.
func (w *connWatch) state() (uint64, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gen, w.up
}

// reconnectConfig is watermill-amqp's reconnect backoff with its ceiling cut
// from 60 s to 5 s: after a broker restart every client (senders and
// receivers alike) is back within seconds, so receivers bind their queues
// again well within the publisher's rebind window (AMQPConfig.RebindWindow).
func reconnectConfig() *wamqp.ReconnectConfig {
	c := wamqp.DefaultReconnectConfig()
	c.BackoffMaxInterval = 5 * time.Second
	return c
}
