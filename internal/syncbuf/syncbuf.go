// Package syncbuf holds the writers goroutines share: Writer, which
// serializes the writes to an io.Writer that is not safe for concurrent
// use (a command's stdout, shared by its logger and its own prints), and
// Buffer, a bytes.Buffer that one goroutine may write (a process's
// output, a logger) while another reads it (the tests' sinks).
package syncbuf

import (
	"bytes"
	"io"
	"sync"
)

// Writer serializes the writes to the io.Writer under it: each Write
// holds its lock. Safe for concurrent use.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes p to the writer under it, holding the lock.
func (l *Writer) Write(p []byte) (int, error) { return l.writeTo(l.w, p) }

func (l *Writer) writeTo(w io.Writer, p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return w.Write(p)
}

// Buffer is a bytes.Buffer safe for concurrent Write and String. The zero
// value is an empty buffer ready to use.
type Buffer struct {
	lock Writer // its lock guards buf
	buf  bytes.Buffer
}

// Write appends p; it never fails.
func (b *Buffer) Write(p []byte) (int, error) { return b.lock.writeTo(&b.buf, p) }

// String returns what was written so far.
func (b *Buffer) String() string {
	b.lock.mu.Lock()
	defer b.lock.mu.Unlock()
	return b.buf.String()
}
