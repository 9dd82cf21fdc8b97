package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// nodeDialer spreads the connections of a URI list over the nodes of a
// RabbitMQ cluster. The URIs differ only in host and port (CheckURIList),
// so amqp091 is given the first one and this dialer picks the address:
// each dial tries the nodes in turn, starting after the node it used last
// (at a random node the first time, so that many senders spread their
// load), and the first that accepts the connection wins. A lost
// connection therefore moves to the next node; watermill-amqp's reconnect
// backoff runs between rounds in which no node answered, and the start-up
// retries (retryConnect) between rounds too, so --connect-timeout bounds
// the whole list.
//
// For amqps:// lists the TLS handshake happens here, with each node's own
// host as the server name; amqp091 then speaks plain AMQP over the TLS
// connection (it is given the URI with scheme amqp://).
//
// Safe for concurrent use.
type nodeDialer struct {
	base   *startDialer
	nodes  []string    // host:port as written in the URIs, in the random order
	tls    *tls.Config // nil: amqp://
	logger *slog.Logger

	mu   sync.Mutex
	next int    // index in nodes where the next dial starts
	cur  string // the node of the last successful dial
}

// newNodeDialer returns the dialer of cfg.URI's nodes and the URI to give
// amqp091 (the first of the list; amqp:// when the dialer does TLS). For
// a single URI it returns a nil dialer and cfg.URI unchanged.
func newNodeDialer(cfg AMQPConfig, base *startDialer, logger *slog.Logger) (*nodeDialer, string, error) {
	uris := SplitURIs(cfg.URI)
	if len(uris) < 2 {
		return nil, cfg.URI, nil
	}
	d := &nodeDialer{base: base, logger: logger}
	var first amqp091.URI
	for i, raw := range uris {
		u, err := amqp091.ParseURI(raw)
		if err != nil {
			return nil, "", fmt.Errorf("URI %s: %w", RedactURI(raw), scrubError(err, raw))
		}
		if i == 0 {
			first = u
		}
		d.nodes = append(d.nodes, net.JoinHostPort(u.Host, strconv.Itoa(u.Port)))
	}
	rand.Shuffle(len(d.nodes), func(i, j int) { d.nodes[i], d.nodes[j] = d.nodes[j], d.nodes[i] })
	wrapped := uris[0]
	if first.Scheme == "amqps" {
		tc, err := nodeTLS(cfg.TLS, first)
		if err != nil {
			return nil, "", err
		}
		d.tls = tc
		wrapped = "amqp" + strings.TrimPrefix(wrapped, "amqps")
	}
	return d, wrapped, nil
}

// nodeTLS is the TLS config of an amqps:// list: the one given (cloned),
// else the certificates the URI names, as amqp091 would build it.
func nodeTLS(given *tls.Config, u amqp091.URI) (*tls.Config, error) {
	if given != nil {
		return given.Clone(), nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.ServerName}
	if u.CACertFile != "" {
		pem, err := os.ReadFile(u.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("read CA certificate: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		tc.RootCAs.AppendCertsFromPEM(pem)
	}
	if u.CertFile != "" && u.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(u.CertFile, u.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// dial is amqp091's Config.Dial: addr (the first URI's) is ignored.
func (d *nodeDialer) dial(network, _ string) (net.Conn, error) {
	d.mu.Lock()
	start := d.next
	d.mu.Unlock()
	var errs []error
	for k := range d.nodes {
		i := (start + k) % len(d.nodes)
		node := d.nodes[i]
		conn, err := d.dialNode(network, node)
		if err != nil {
			d.logger.Warn("broker node did not answer, trying the next", "node", node, "err", err)
			errs = append(errs, fmt.Errorf("node %s: %w", node, err))
			continue
		}
		d.mu.Lock()
		d.next, d.cur = (i+1)%len(d.nodes), node
		d.mu.Unlock()
		d.logger.Info("dialled broker node", "node", node)
		return conn, nil
	}
	return nil, errors.Join(errs...)
}

// dialNode connects to one node, with the TLS handshake for amqps.
func (d *nodeDialer) dialNode(network, node string) (net.Conn, error) {
	conn, err := d.base.dial(network, node)
	if err != nil || d.tls == nil {
		return conn, err
	}
	tc := d.tls
	if tc.ServerName == "" {
		tc = tc.Clone()
		tc.ServerName, _, _ = net.SplitHostPort(node)
	}
	client := tls.Client(conn, tc)
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	if err := client.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return client, nil
}

// node is the host:port of the last node a connection was opened to.
func (d *nodeDialer) node() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cur
}

// uriNode is the host:port a single URI connects to ("" when it does not parse).
func uriNode(uri string) string {
	u, err := amqp091.ParseURI(uri)
	if err != nil {
		return ""
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(u.Port))
}

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
