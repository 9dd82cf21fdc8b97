package syncbuf_test

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/labsea/metricsender/internal/syncbuf"
)

// Writes from many goroutines arrive whole (the race detector checks the
// rest), through a Writer over a plain bytes.Buffer and through a Buffer.
func TestConcurrentWrites(t *testing.T) {
	var plain bytes.Buffer
	locked, buf := syncbuf.NewWriter(&plain), &syncbuf.Buffer{}
	tests := []struct {
		name   string
		w      io.Writer
		output func() string
	}{
		{"Writer", locked, plain.String},
		{"Buffer", buf, buf.String},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 100 {
						if _, err := io.WriteString(tt.w, "line\n"); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			if got := tt.output(); got != strings.Repeat("line\n", 800) {
				t.Errorf("got %d bytes, want 800 whole lines", len(got))
			}
		})
	}
}
