package transport

import (
	"fmt"
	"io"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// The errors are built as amqp091-go's connection reader and writer build
// them (connection.go: shutdown(&Error{Code: FrameError, Reason:
// err.Error()})); the broker-backed cases are TestReceiveSurvivesUnparsableHeader
// (app) and TestAMQPSocketLossIsNotABadMessage.
func TestUnreadableFrame(t *testing.T) {
	frameErr := func(cause string) error {
		return fmt.Errorf("consume: %w", &amqp091.Error{Code: amqp091.FrameError, Reason: cause})
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"a field type amqp091-go does not know (py-amqp 'L')", frameErr(amqp091.ErrSyntax.Error()), true},
		{"a malformed frame", frameErr(amqp091.ErrFrame.Error()), true},
		{"a frame over frame_max", frameErr(amqp091.ErrFrameTooLarge.Error()), true},
		{"the broker closed the socket", frameErr(io.EOF.Error()), false},
		{"the socket was reset", frameErr("read tcp 127.0.0.1:41092->127.0.0.1:5672: read: connection reset by peer"), false},
		{"an ack write failed", frameErr("write tcp 127.0.0.1:41092->127.0.0.1:5672: write: broken pipe"), false},
		{"the broker shut down", &amqp091.Error{Code: amqp091.ConnectionForced, Reason: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"}, false},
		{"closed by us", amqp091.ErrClosed, false},
		{"not an AMQP error", io.ErrUnexpectedEOF, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unreadableFrame(tt.err); got != tt.want {
				t.Errorf("unreadableFrame(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
