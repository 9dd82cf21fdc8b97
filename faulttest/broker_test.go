package faulttest_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/internal/brokertest"
)

// rabbitmqctl runs one rabbitmqctl command and returns its output.
func rabbitmqctl(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "rabbitmqctl", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("rabbitmqctl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// stopBroker stops the RabbitMQ application (the node stays up): clients
// see their connections close and new ones refused.
func stopBroker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := rabbitmqctl(ctx, "stop_app"); err != nil {
		t.Fatal(err)
	}
	t.Log("broker stopped (stop_app)")
}

// startBroker starts the RabbitMQ application and waits until AMQP works.
func startBroker(t *testing.T, uri string) {
	t.Helper()
	if err := ensureBroker(uri); err != nil {
		t.Fatal(err)
	}
	t.Log("broker started (start_app)")
}

// restoreBroker brings the broker back whatever state it is in; a failure
// is reported but does not stop the other cleanups.
func restoreBroker(t *testing.T, uri string) {
	t.Helper()
	if err := ensureBroker(uri); err != nil {
		t.Errorf("RESTORE THE BROKER BY HAND (rabbitmqctl start_app): %v", err)
	}
}

// ensureBroker runs start_app (a no-op when running), await_startup, then
// dials until an AMQP connection opens.
func ensureBroker(uri string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := rabbitmqctl(ctx, "start_app"); err != nil {
		return err
	}
	if _, err := rabbitmqctl(ctx, "await_startup"); err != nil {
		return err
	}
	for {
		conn, err := amqp.Dial(uri)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("broker does not accept AMQP after start_app: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ssUser matches ss's process column: users:(("metricsender",pid=123,fd=7)).
var ssUser = regexp.MustCompile(`pid=(\d+),`)

// cutConnections closes, on the broker side, every AMQP connection that
// the given processes hold, the way `rabbitmqctl close_all_connections`
// would, but sparing the broker's other clients. It returns how many it
// closed.
func cutConnections(t *testing.T, pids ...int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ours := map[string]bool{} // client ports of the processes
	out, err := exec.CommandContext(ctx, "ss", "-tnpH", "state", "established", "dport", "= :5672").Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); {
		fields := strings.Fields(sc.Text())
		m := ssUser.FindStringSubmatch(sc.Text())
		if len(fields) < 3 || m == nil {
			continue
		}
		for _, pid := range pids {
			if m[1] == fmt.Sprint(pid) {
				local := fields[2] // 127.0.0.1:41092
				ours[local[strings.LastIndexByte(local, ':')+1:]] = true
			}
		}
	}
	list, err := rabbitmqctl(ctx, "list_connections", "-q", "--no-table-headers", "pid", "peer_port")
	if err != nil {
		t.Fatal(err)
	}
	closed := 0
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || !ours[f[1]] {
			continue
		}
		if _, err := rabbitmqctl(ctx, "close_connection", f[0], "metricsender fault test"); err != nil {
			t.Logf("close %s: %v", f[0], err) // it may have closed meanwhile
			continue
		}
		closed++
	}
	t.Logf("closed %d broker connections of pids %v", closed, pids)
	return closed
}

// declareQueue declares a durable quorum queue bound to exchange is with
// keys, as receive --queue would, and deletes it when the test ends.
func declareQueue(t *testing.T, uri, name string, keys ...string) {
	t.Helper()
	brokertest.DeleteQueueAtCleanup(t, uri, name)
	// Closed now, not at cleanup: the test stops the broker next.
	conn, err := amqp.Dial(uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare("is", "topic", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(name, true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := ch.QueueBind(name, k, "is", false, nil); err != nil {
			t.Fatal(err)
		}
	}
}
