package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// heldProxy forwards TCP connections to a target, each only once release
// was called: a sender dialling through it waits, its AMQP handshake
// unanswered, until the bench has done what must come before its first
// tick (a browser on its page). Connections accepted before release are
// forwarded then, not refused.
type heldProxy struct {
	ln       net.Listener
	target   string
	released chan struct{}
	once     sync.Once

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// newHeldProxy listens on a free loopback port in front of target
// (host:port), held.
func newHeldProxy(target string) (*heldProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("held proxy: listen: %w", err)
	}
	p := &heldProxy{ln: ln, target: target, released: make(chan struct{})}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// addr is the host:port clients dial.
func (p *heldProxy) addr() string { return p.ln.Addr().String() }

// release lets every connection through, those waiting and those to
// come. Calling it again does nothing.
func (p *heldProxy) release() { p.once.Do(func() { close(p.released) }) }

// close stops listening and closes every connection, both sides.
func (p *heldProxy) close() {
	_ = p.ln.Close()
	p.release()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *heldProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *heldProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		p.track(c)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			<-p.released
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = c.Close()
				return
			}
			p.track(up)
			var pipes sync.WaitGroup
			pipes.Add(2)
			pipe := func(dst, src net.Conn) {
				defer pipes.Done()
				_, _ = io.Copy(dst, src)
				_ = dst.Close() // the other direction ends too
			}
			go pipe(up, c)
			go pipe(c, up)
			pipes.Wait()
		}()
	}
}
