package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/syncbuf"
	"github.com/labsea/metricsender/transport"
)

func TestDropLine(t *testing.T) {
	opts := sendOptions{buffer: 100, shutdownTimeout: 10 * time.Second, conn: connection{timeout: 5 * time.Second}}
	tests := []struct {
		name string
		by   map[string]int
		want string
	}{
		{"none", nil, ""},
		{"one reason", map[string]int{transport.DropOutage: 1},
			"1 message dropped: 1 because the broker stayed unreachable longer than --connect-timeout (5s) at the end of the run"},
		{"most first", map[string]int{transport.DropBufferFull: 2, transport.DropShutdown: 10},
			"12 messages dropped: 10 because still buffered when --shutdown-timeout (10s) ran out; " +
				"2 because the outage buffer (--buffer 100) overflowed while the broker was unreachable, oldest first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var totals runTotals
			for reason, n := range tt.by {
				totals.addDropped(n, reason)
			}
			if got := totals.report().dropLine(opts); got != tt.want {
				t.Errorf("dropLine\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestEndSend(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	drops := runReport{Published: 8, Dropped: 2, DroppedBy: map[string]int{transport.DropOutage: 2}}
	tests := []struct {
		name    string
		ctx     context.Context // cancelled: the run ended on a signal
		runErr  error
		report  runReport
		wantErr string // "" for nil
		wantLog string
	}{
		{"a clean --count run", context.Background(), nil, runReport{Published: 10}, "",
			"msg=stopped published=10 dropped=0 unroutable=0"},
		{"a --count run that dropped fails", context.Background(), nil, drops, "2 messages dropped: 2 because the broker stayed unreachable",
			"msg=stopped published=8 dropped=2 unroutable=0"},
		{"SIGTERM reports its drops and succeeds", cancelled, context.Canceled, drops, "",
			`level=WARN msg="2 messages dropped: 2 because the broker`},
		{"unroutable messages are reported, not fatal", context.Background(), nil, runReport{Published: 4, Unroutable: 6}, "",
			"published=4 dropped=0 unroutable=6"},
		{"a failed schedule wins", context.Background(), errors.New("emit: shard nacked"), drops, "send: emit: shard nacked", "dropped=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncbuf.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			err := endSend(tt.ctx, sendOptions{conn: connection{timeout: time.Second}}, tt.runErr, nil, 10, tt.report, logger)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs.String())
			}
		})
	}
}
