package transport_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/syncbuf"
	"github.com/labsea/metricsender/transport"
)

// TestURIListSkipsADeadNode: whichever node the random order tries first,
// the connection goes to the one that answers, and Node names it.
func TestURIListSkipsADeadNode(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	proxy, live := brokertest.NewAMQPProxy(t, uri)
	dead := strings.Replace(live, proxy.Addr(), brokertest.FreeAddr(t), 1)
	for i := range 4 {
		list := dead + "," + live
		if i%2 == 1 {
			list = live + "," + dead
		}
		cfg := transport.DefaultAMQPConfig(list)
		cfg.ConnectTimeout = 20 * time.Second
		pair, err := transport.NewAMQPConfig(context.Background(), cfg, nil)
		if err != nil {
			t.Fatalf("connect to %s: %v", transport.RedactURI(list), err)
		}
		if err := pair.Ready(); err != nil {
			t.Errorf("not ready: %v", err)
		}
		if got := pair.Node(); got != proxy.Addr() {
			t.Errorf("Node() = %q, want the live node %s", got, proxy.Addr())
		}
		_ = pair.Close()
	}
}

// TestURIListMovesOnALoss: when the connection to one node is lost, the
// next connection goes to the next node of the list, and the log says so.
func TestURIListMovesOnALoss(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	p1, u1 := brokertest.NewAMQPProxy(t, uri)
	p2, u2 := brokertest.NewAMQPProxy(t, uri)
	proxies := map[string]*brokertest.Proxy{p1.Addr(): p1, p2.Addr(): p2}
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := transport.DefaultAMQPConfig(u1 + "," + u2)
	cfg.ConnectTimeout = 20 * time.Second
	pair, err := transport.NewAMQPConfig(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	first := pair.Node()
	if proxies[first] == nil {
		t.Fatalf("Node() = %q, not one of the list", first)
	}
	proxies[first].Cut()
	deadline := time.Now().Add(30 * time.Second)
	for pair.Node() == first || pair.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("still on %s (ready: %v) 30s after its connection was cut:\n%s", first, pair.Ready(), logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !bytes.Contains([]byte(logs.String()), []byte("node="+pair.Node())) {
		t.Errorf("the log does not name the new node %s:\n%s", pair.Node(), logs.String())
	}
}

// TestURIListNoneAnswers: --connect-timeout bounds the whole list, and
// neither the error nor the log shows a password.
func TestURIListNoneAnswers(t *testing.T) {
	list := "amqp://guest:s3cret-one@" + brokertest.FreeAddr(t) + "/,amqp://guest:s3cret-one@" + brokertest.FreeAddr(t) + "/"
	var logs syncbuf.Buffer
	cfg := transport.DefaultAMQPConfig(list)
	cfg.ConnectTimeout = 1500 * time.Millisecond
	begin := time.Now()
	_, err := transport.NewAMQPConfig(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err == nil {
		t.Fatal("connected to nothing")
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("gave up after %s, want about the 1.5s --connect-timeout", took)
	}
	if text := err.Error() + logs.String(); strings.Contains(text, "s3cret") {
		t.Errorf("a password leaked:\n%s", text)
	}
	if !strings.Contains(logs.String(), "broker node did not answer") {
		t.Errorf("no log line names the nodes tried:\n%s", logs.String())
	}
}

func TestURIListValidate(t *testing.T) {
	tests := []struct{ name, uri, want string }{
		{"other password", "amqp://u:s3cret-a@h1/,amqp://u:s3cret-b@h2/", "user or password"},
		{"other scheme", "amqp://h1/,amqps://h2/", "scheme"},
		{"bad item", "amqp://h1/,http://u:s3cret@h2/", "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := transport.DefaultAMQPConfig(tt.uri).Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error about the %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("a password leaked: %v", err)
			}
		})
	}
}

// silentNode accepts connections and never answers (a node that hangs).
func silentNode(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return acceptEach(t, ln, func(c net.Conn) { t.Cleanup(func() { _ = c.Close() }) })
}

// acceptEach hands each connection ln accepts to handle, until the test
// ends and closes ln; it returns ln's address.
func acceptEach(t *testing.T, ln net.Listener, handle func(net.Conn)) string {
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	}()
	return ln.Addr().String()
}

// TestURIListConnectTimeoutCoversTheList: nodes that accept and never
// answer cannot stretch the start-up past --connect-timeout.
func TestURIListConnectTimeoutCoversTheList(t *testing.T) {
	list := "amqp://guest:guest@" + silentNode(t) + "/,amqp://guest:guest@" + silentNode(t) + "/"
	cfg := transport.DefaultAMQPConfig(list)
	cfg.ConnectTimeout = 1500 * time.Millisecond
	begin := time.Now()
	_, err := transport.NewAMQPConfig(context.Background(), cfg, nil)
	if err == nil {
		t.Fatal("connected to nodes that never answer")
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("gave up after %s, want about the 1.5s --connect-timeout (not a 10s handshake per node)", took)
	}
}
