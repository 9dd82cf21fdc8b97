package faulttest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/proctest"
)

// TestConnectionCutsLoseNothing: the sender's and the receiver's broker
// connections are closed twice during a run; both reconnect by themselves
// and every message arrives (duplicates allowed).
func TestConnectionCutsLoseNothing(t *testing.T) {
	uri := faultTest(t)
	p := startPipeline(t, uri, 400, "50ms") // 800 messages in 20 s
	for cut := 1; cut <= 2; cut++ {
		p.recv.WaitLines(t, p.recv.Lines()+60, 3*time.Minute) // progress since the last cut
		if n := cutConnections(t, p.send.PID(), p.recv.PID()); n < 2 {
			t.Errorf("cut %d closed %d connections, want at least 2 (sender and receiver)", cut, n)
		}
	}
	p.finish(t)
}

// TestBrokerRestartMidRun: the broker application stops for a few seconds
// during a run. The sender keeps its schedule, buffers and publishes the
// buffer after the reconnect; the receiver's durable queue survives and the
// receiver reconnects; every tick's messages arrive.
func TestBrokerRestartMidRun(t *testing.T) {
	uri := faultTest(t)
	p := startPipeline(t, uri, 200, "100ms")
	p.recv.WaitLines(t, 40, 3*time.Minute)
	stopBroker(t)
	time.Sleep(3 * time.Second) // the outage: ticks go on meanwhile
	startBroker(t, uri)
	p.finish(t)
	log := p.send.Stderr.String()
	for _, want := range []string{"broker connection lost", "broker connection back"} {
		if !strings.Contains(log, want) {
			t.Errorf("sender did not log %q:\n%s", want, log)
		}
	}
}

// TestBrokerDownAtStart: the sender starts while the broker is down. Without
// --connect-timeout it retries until the broker is back, then publishes
// every message; with --connect-timeout 2s it gives up: exit 1, one clear
// line, the password masked.
func TestBrokerDownAtStart(t *testing.T) {
	uri := faultTest(t)
	app := fmt.Sprintf("faultdown%d", time.Now().UnixNano())
	cfg := proctest.WriteConfig(t, "", app)
	queue := "metricsender-fault-" + app
	declareQueue(t, uri, queue, "Metrics."+app) // durable: survives stop_app

	stopBroker(t)
	patient := proctest.Start(t, binary, "send", "send", "-c", cfg, "--uri", uri, "--count", "3", "--interval", "1s", "--http-addr", "")
	impatient := proctest.Start(t, binary, "send --connect-timeout", "send", "-c", cfg, "--uri", uri, "--count", "3",
		"--connect-timeout", "2s", "--http-addr", "")
	if code := impatient.Wait(t, 2*time.Minute); code != 1 {
		t.Errorf("send --connect-timeout 2s with the broker down: exit %d, want 1", code)
	}
	checkGaveUp(t, impatient.Stderr.String())
	patient.WaitOutput(t, "a retry line", time.Minute, true,
		func(s string) bool { return strings.Contains(s, "broker unreachable, retrying") })

	// The exchange is is not durable: stop_app took it and the queue's
	// binding along. Bind again as soon as the broker answers, before the
	// sender (retrying every few seconds) is back.
	bound := make(chan error, 1)
	go func() { bound <- rebindWhenUp(uri, queue, "Metrics."+app) }()
	startBroker(t, uri)
	if err := <-bound; err != nil {
		t.Fatalf("bind the queue again after start_app: %v", err)
	}
	if code := patient.Wait(t, 3*time.Minute); code != 0 {
		t.Fatalf("send exit %d, want 0:\n%s", code, patient.Stderr.String())
	}
	log := patient.Stderr.String()
	if stopped(t, log)["unroutable"] > 0 { // the first connection opens no rebind window
		t.Fatalf("the sender reconnected before this test could bind its queue again (a race of the test, "+
			"not of the sender: it published, the broker had no queue bound):\n%s", log)
	}
	if got := brokertest.QueueMessages(t, uri, queue); got != 3 {
		t.Errorf("%d messages in %s, want 3:\n%s", got, queue, log)
	}
}

// checkGaveUp checks the output of a sender that gave up connecting.
func checkGaveUp(t *testing.T, stderr string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "metricsender: ") || !strings.Contains(last, "gave up") {
		t.Errorf("last line %q, want one clear line saying it gave up:\n%s", last, stderr)
	}
	if !strings.Contains(stderr, "guest:***@") || strings.Contains(stderr, ":guest@") {
		t.Errorf("password not masked:\n%s", stderr)
	}
}

// rebindWhenUp dials until the broker answers, then declares exchange is
// and binds queue (durable, so still there) with key.
func rebindWhenUp(uri, queue, key string) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		conn, err := amqp.Dial(uri)
		if err == nil {
			defer conn.Close()
			ch, err := conn.Channel()
			if err != nil {
				return err
			}
			if err := ch.ExchangeDeclare("is", "topic", false, false, false, false, nil); err != nil {
				return err
			}
			return ch.QueueBind(queue, key, "is", false, nil)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStopDuringOutage: SIGTERM while the broker is down. The sender exits
// 0 within --shutdown-timeout and logs what it could not deliver.
func TestStopDuringOutage(t *testing.T) {
	uri := faultTest(t)
	app := fmt.Sprintf("faultstop%d", time.Now().UnixNano())
	cfg := proctest.WriteConfig(t, "", app)
	send := proctest.Start(t, binary, "send", "send", "-c", cfg, "--uri", uri, "--interval", "100ms",
		"--shutdown-timeout", "3s", "--http-addr", "")
	ticks := func(n int) func(string) bool {
		return func(s string) bool { return strings.Count(s, "msg=tick") >= n }
	}
	send.WaitOutput(t, "3 ticks", time.Minute, true, ticks(3))
	stopBroker(t)
	send.WaitOutput(t, "the outage noticed", time.Minute, true,
		func(s string) bool { return strings.Contains(s, "broker connection lost") })
	send.WaitOutput(t, "5 ticks into the outage", time.Minute, true,
		ticks(strings.Count(send.Stderr.String(), "msg=tick")+5))
	send.Terminate(t)
	code := send.Wait(t, 2*time.Minute)
	restoreBroker(t, uri) // now, not at cleanup: other tests wait for it
	log := send.Stderr.String()
	if code != 0 {
		t.Errorf("send exit %d after SIGTERM, want 0:\n%s", code, log)
	}
	if lines := grepLines(log, "dropped"); len(lines) == 0 {
		t.Errorf("no log line says what was dropped:\n%s", log)
	} else {
		t.Logf("drop report: %q", lines)
	}
}
