package main

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
)

func TestBytesPerTick(t *testing.T) {
	tests := []struct {
		name      string
		runs      []runMark
		want      float64
		wantTicks int
		wantErr   bool
	}{
		{"the first run event's share is left out", []runMark{{5000, 1}, {5400, 2}, {5800, 3}, {6300, 5}}, 300, 3, false},
		{"too few run events", []runMark{{100, 1}, {200, 2}}, 0, 0, true},
		{"no tick between them", []runMark{{100, 1}, {200, 2}, {300, 2}}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ticks, err := bytesPerTick(tt.runs)
			if (err != nil) != tt.wantErr || got != tt.want || ticks != tt.wantTicks {
				t.Errorf("bytesPerTick = %v, %d, %v; want %v, %d, error %t", got, ticks, err, tt.want, tt.wantTicks, tt.wantErr)
			}
		})
	}
}

// TestHeldProxy: a connection through the proxy reaches the target only
// after release, and then carries bytes both ways.
func TestHeldProxy(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() { _, _ = io.Copy(c, c); _ = c.Close() }()
		}
	}()
	p, err := newHeldProxy(target.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	c, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the target accepted %d connections before release, want 0", n)
	}
	p.release()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("after release read %q, %v; want the echo of ping", buf, err)
	}
}
