package transport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/syncbuf"
	"github.com/labsea/metricsender/transport"
	"github.com/labsea/metricsender/transport/transporttest"
)

// testAMQPConfig is the default config for uri, bound to topics.
func testAMQPConfig(uri string, topics []string) transport.AMQPConfig {
	cfg := transport.DefaultAMQPConfig(uri)
	cfg.Topics = topics
	cfg.ConnectTimeout = 10 * time.Second
	return cfg
}

func TestAMQPSuite(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	for _, confirm := range []bool{true, false} {
		t.Run(fmt.Sprintf("confirm=%v", confirm), func(t *testing.T) {
			runSuiteWithCut(t, transporttest.Features{Ordered: true, HashMatchesZeroWords: true},
				func(topics []string) (transport.Pair, func() error, error) {
					cfg := testAMQPConfig(uri, topics)
					cfg.Confirm = confirm
					return transport.NewAMQPWithCut(context.Background(), cfg, nil)
				})
		})
	}
}

// runSuiteWithCut runs the transporttest suite with f on the pairs that
// open builds, each with a func that drops its broker connection. The
// suite's subtests run one after another and Cut gets the pair built last,
// so remembering the last cut func is enough.
func runSuiteWithCut(t *testing.T, f transporttest.Features, open func(topics []string) (transport.Pair, func() error, error)) {
	t.Helper()
	var lastCut func() error
	f.Cut = func(t *testing.T, _ transport.Pair) {
		t.Helper()
		if err := lastCut(); err != nil {
			t.Fatalf("cut the connection: %v", err)
		}
	}
	transporttest.Run(t, f, func(t *testing.T, topics []string) transport.Pair {
		t.Helper()
		p, cut, err := open(topics)
		if err != nil {
			t.Fatalf("new pair: %v", err)
		}
		lastCut = cut
		return p
	})
}

// logBuffer is a concurrency-safe log sink for assertions on log lines.
type logBuffer struct {
	syncbuf.Buffer
	// onWarn, when set, runs on every warning (after it is written).
	onWarn func()
}

func (b *logBuffer) Write(p []byte) (int, error) {
	n, err := b.Buffer.Write(p)
	if b.onWarn != nil && bytes.Contains(p, []byte("level=WARN")) {
		b.onWarn()
	}
	return n, err
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// closedPortURI returns an amqp URI with password s3cret on a local port
// where nothing listens.
func closedPortURI(t *testing.T) string {
	t.Helper()
	return "amqp://guest:s3cret@" + brokertest.FreeAddr(t) + "/"
}

func TestAMQPStartupRetry(t *testing.T) {
	t.Run("gives up after ConnectTimeout", func(t *testing.T) {
		var logs logBuffer
		opts := transport.Options{URI: closedPortURI(t), ConnectTimeout: 1500 * time.Millisecond}
		_, err := transport.NewAMQP(context.Background(), opts, logs.logger())
		if err == nil {
			t.Fatal("NewAMQP on a closed port: want an error")
		}
		if !strings.Contains(err.Error(), "gave up after 1.5s") {
			t.Errorf("error %q does not say it gave up after the timeout", err)
		}
		if errors.Is(err, transport.ErrPermanent) {
			t.Errorf("error %q wraps ErrPermanent; a closed port may open later", err)
		}
		if n := strings.Count(logs.String(), "retrying"); n < 2 {
			t.Errorf("%d retry log lines, want at least 2:\n%s", n, logs.String())
		}
		for what, text := range map[string]string{"error": err.Error(), "logs": logs.String()} {
			if strings.Contains(text, "s3cret") {
				t.Errorf("%s leak the password: %s", what, text)
			}
			if !strings.Contains(text, "guest:***@127.0.0.1") {
				t.Errorf("%s do not name the masked URI: %s", what, text)
			}
		}
	})
	t.Run("stops when ctx is cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Cancel once the first retry is logged: no timeout, so only ctx stops it.
		logs := logBuffer{onWarn: cancel}
		_, err := transport.NewAMQP(ctx, transport.Options{URI: closedPortURI(t)}, logs.logger())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("NewAMQP with ctx cancelled = %v, want context.Canceled", err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error leaks the password: %v", err)
		}
	})
	t.Run("ctx already done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := transport.NewAMQP(ctx, transport.Options{URI: closedPortURI(t)}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("NewAMQP with a done ctx = %v, want context.Canceled", err)
		}
	})
}

func TestAMQPWrongPasswordIsPermanent(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	u := strings.Replace(uri, "guest:guest@", "guest:wr0ng-pw@", 1)
	if u == uri {
		t.Skipf("AMQP_URI %s is not guest:guest, cannot derive a wrong password", transport.RedactURI(uri))
	}
	var logs logBuffer
	_, err := transport.NewAMQP(context.Background(), transport.Options{URI: u, ConnectTimeout: 20 * time.Second}, logs.logger())
	if !errors.Is(err, transport.ErrPermanent) {
		t.Fatalf("NewAMQP with a wrong password = %v, want ErrPermanent", err)
	}
	if strings.Contains(err.Error(), "wr0ng-pw") || strings.Contains(logs.String(), "wr0ng-pw") {
		t.Errorf("password leaked:\nerror: %v\nlogs: %s", err, logs.String())
	}
	if strings.Contains(logs.String(), "retrying") {
		t.Errorf("a permanent failure was retried:\n%s", logs.String())
	}
}

func TestAMQPConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*transport.AMQPConfig)
		wants []string // each must appear in the error; none: valid
	}{
		{"default", func(*transport.AMQPConfig) {}, nil},
		{"amqps", func(c *transport.AMQPConfig) { c.URI = "amqps://u:p@host:5671/vh" }, nil},
		{"http scheme", func(c *transport.AMQPConfig) { c.URI = "http://u:s3cret@host/" },
			[]string{`URI: http://u:***@host/: scheme "http", want amqp or amqps`}},
		{"nats scheme", func(c *transport.AMQPConfig) { c.URI = "nats://127.0.0.1:4222" }, []string{"want amqp or amqps"}},
		{"empty URI", func(c *transport.AMQPConfig) { c.URI = "" }, []string{"URI: empty"}},
		{"unparsable URI", func(c *transport.AMQPConfig) { c.URI = "amqp://u:s3cret@host:port/" }, []string{"URI: amqp://u:***@host:port/"}},
		{"every problem at once", func(c *transport.AMQPConfig) {
			c.Exchange = ""
			c.ChannelPoolSize = 0
			c.PublishTimeout = 0
			c.Prefetch = -1
			c.Buffer = -1
			c.ConnectTimeout = -time.Second
			c.Topics = []string{"Metrics.*", ""}
			c.Queue = "amq.mine"
		}, []string{"Exchange: empty", "ChannelPoolSize: 0, must be > 0", "PublishTimeout: 0s", "Prefetch: -1",
			"Buffer: -1", "ConnectTimeout: -1s", "Topics[1]: empty pattern", `Queue: "amq.mine"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := transport.DefaultAMQPConfig(transport.DefaultAMQPURI)
			tt.edit(&cfg)
			err := cfg.Validate()
			if len(tt.wants) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.wants)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Validate() leaks the password: %q", err)
			}
		})
	}
}
