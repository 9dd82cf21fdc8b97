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
// EOF). It goes on accepting new connections until the test ends.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	cond   *sync.Cond
	frozen bool
	conns  map[net.Conn]bool
}

// NewProxy listens on a free loopback port and forwards to target
// (host:port). It closes when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.cond = sync.NewCond(&p.mu)
	t.Cleanup(func() { _ = ln.Close(); p.Freeze(false); p.Cut() })
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

// Cut closes every connection open through the proxy, both sides, and
// returns how many client connections it closed.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c, client := range p.conns {
		_ = c.Close()
		if client {
			n++
		}
	}
	clear(p.conns)
	return n
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[b] = true, false
		p.mu.Unlock()
		go func() { _, _ = io.Copy(b, c); _ = b.Close() }()
		go func() { p.copyFreezable(c, b); _ = c.Close() }()
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
