package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// ErrPermanent marks a failure that retrying cannot fix: wrong credentials
// (403 ACCESS_REFUSED), a vhost that does not exist or is not allowed, a TLS
// handshake that fails on the certificates, an exchange declared with other
// flags (406 PRECONDITION_FAILED). Match it with errors.Is; the app exits 1
// at once instead of retrying.
var ErrPermanent = errors.New("permanent failure")

// dialTimeout bounds one TCP+TLS+AMQP handshake (amqp091's default is 30s).
const dialTimeout = 10 * time.Second

// startDialer dials with the start-up ctx while connectAMQP runs, so that a
// cancelled ctx interrupts a dial in progress, and without it afterwards
// (watermill-amqp reuses the same dial func for its own reconnects, which
// must outlive the start-up ctx).
type startDialer struct {
	mu  sync.Mutex
	ctx context.Context
}

func (d *startDialer) setContext(ctx context.Context) {
	d.mu.Lock()
	d.ctx = ctx
	d.mu.Unlock()
}

func (d *startDialer) dial(network, addr string) (net.Conn, error) {
	d.mu.Lock()
	ctx := d.ctx
	d.mu.Unlock()
	dialer := net.Dialer{Timeout: dialTimeout}
	conn, err := dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	// The handshake gets a deadline too, no later than the start-up's
	// (--connect-timeout); amqp091 clears it once open.
	deadline := time.Now().Add(dialTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := conn.SetDeadline(deadline); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

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

// reconnectConfig is watermill-amqp's reconnect backoff with its ceiling cut
// from 60 s to 5 s: after a broker restart every client (senders and
// receivers alike) is back within seconds, so receivers bind their queues
// again well within the publisher's rebind window (AMQPConfig.RebindWindow).
func reconnectConfig() *wamqp.ReconnectConfig {
	c := wamqp.DefaultReconnectConfig()
	c.BackoffMaxInterval = 5 * time.Second
	return c
}
