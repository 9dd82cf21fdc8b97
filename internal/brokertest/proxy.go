package brokertest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a broker, so that a test can make the
// network fail under a client without touching the broker: Freeze holds
// what the broker sends (a broker that stops answering, socket open), Cut
// drops every connection at once (a broker that goes away; the client reads
// EOF), Hold refuses new connections (a client whose reconnect is held
// back while others get through). It goes on accepting new connections
// until the test ends.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	cond   *sync.Cond
	frozen bool
	held   bool                  // new connections are closed at once
	closed bool                  // the test ended: no new pairs
	pairs  map[net.Conn]net.Conn // open client side -> its broker side
}

// NewProxy listens on a free loopback port and forwards to target
// (host:port). It closes when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, pairs: map[net.Conn]net.Conn{}}
	p.cond = sync.NewCond(&p.mu)
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.Freeze(false)
		p.Cut()
	})
	go p.serve()
	return p
}

// NewAMQPProxy is a Proxy to the broker of uri, and uri rewritten to go
// through it (same credentials and vhost).
func NewAMQPProxy(t testing.TB, uri string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("parse %s: %v", redact(uri), err)
	}
	port := u.Port()
	if port == "" {
		port = "5672"
	}
	p := NewProxy(t, net.JoinHostPort(u.Hostname(), port))
	u.Host = p.Addr()
	return p, u.String()
}

// Addr is the host:port clients dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Freeze holds (on) or releases (off) everything the broker sends.
func (p *Proxy) Freeze(on bool) {
	p.mu.Lock()
	p.frozen = on
	p.mu.Unlock()
	p.cond.Broadcast()
}

// Hold makes the proxy close every new connection at once, without
// dialling the broker (on), until it is released (off): the client sees
// its connection attempts fail as if the broker were down, while clients
// of other proxies (or none) connect. Open connections are not touched.
func (p *Proxy) Hold(on bool) {
	p.mu.Lock()
	p.held = on
	p.mu.Unlock()
}

// Cut closes every connection open through the proxy, both sides, and
// returns how many client connections it closed.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c, b := range p.pairs {
		_ = c.Close()
		_ = b.Close()
	}
	n := len(p.pairs)
	clear(p.pairs)
	return n
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		held := p.held
		p.mu.Unlock()
		if held {
			_ = c.Close()
			continue
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			_ = b.Close()
			return
		}
		p.pairs[c] = b
		p.mu.Unlock()
		var once sync.Once
		end := func() { // whichever copy ends first ends the pair
			once.Do(func() {
				_ = c.Close()
				_ = b.Close()
				p.mu.Lock()
				delete(p.pairs, c)
				p.mu.Unlock()
			})
		}
		go func() { _, _ = io.Copy(b, c); end() }()
		go func() { p.copyFreezable(c, b); end() }()
	}
}

func (p *Proxy) copyFreezable(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		for p.frozen {
			p.cond.Wait()
		}
		p.mu.Unlock()
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
