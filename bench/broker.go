package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// broker is the bench's own management connection: it declares, counts,
// samples, purges and deletes the queues the measured clients publish to or
// consume from. Not safe for concurrent use.
type broker struct {
	uri      string
	exchange string
	conn     *amqp091.Connection
	ch       *amqp091.Channel
	beamPID  int // 0 when the broker process is not visible here
}

// dialBroker connects and declares the exchange exactly as is-wire does
// (topic, durable=false, auto_delete=false).
func dialBroker(uri, exchange string) (*broker, error) {
	conn, err := amqp091.Dial(uri)
	if err != nil {
		return nil, fmt.Errorf("dial broker: %w", err)
	}
	b := &broker{uri: uri, exchange: exchange, conn: conn, beamPID: findBeam()}
	ch, err := b.channel()
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	if err := ch.ExchangeDeclare(exchange, "topic", false, false, false, false, nil); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("declare exchange %q: %w", exchange, err)
	}
	return b, nil
}

// channel returns the management channel, reopening it after the broker
// closed it (a 404 on a passive declare does that) and redialling after
// the connection was lost.
func (b *broker) channel() (*amqp091.Channel, error) {
	if b.ch != nil && !b.ch.IsClosed() {
		return b.ch, nil
	}
	if b.conn.IsClosed() { // the broker restarted or cut us: dial again
		conn, err := amqp091.Dial(b.uri)
		if err != nil {
			return nil, fmt.Errorf("redial broker: %w", err)
		}
		b.conn = conn
	}
	ch, err := b.conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("open management channel: %w", err)
	}
	b.ch = ch
	return ch, nil
}

// declareQueue (re)creates a non-durable classic queue bound with each
// routing key (exact keys or patterns) to the exchange, empty.
func (b *broker) declareQueue(name string, keys []string, args amqp091.Table) error {
	ch, err := b.channel()
	if err != nil {
		return err
	}
	if _, err := ch.QueueDelete(name, false, false, false); err != nil {
		return fmt.Errorf("delete old queue %q: %w", name, err)
	}
	if _, err := ch.QueueDeclare(name, false, false, false, false, args); err != nil {
		return fmt.Errorf("declare queue %q: %w", name, err)
	}
	for _, k := range keys {
		if err := ch.QueueBind(name, k, b.exchange, false, nil); err != nil {
			return fmt.Errorf("bind queue %q with %q: %w", name, k, err)
		}
	}
	return nil
}

// count returns the number of ready messages in the queue.
func (b *broker) count(name string) (int, error) {
	ch, err := b.channel()
	if err != nil {
		return 0, err
	}
	q, err := ch.QueueDeclarePassive(name, false, false, false, false, nil)
	if err != nil {
		return 0, fmt.Errorf("count queue %q: %w", name, err)
	}
	return q.Messages, nil
}

// settle waits until the queue holds want messages or its count stops
// changing for a second (without confirms, the last messages may still be
// on their way), and returns the count.
func (b *broker) settle(name string, want int) (int, error) {
	last, stable := -1, time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n, err := b.count(name)
		if err != nil {
			return 0, err
		}
		if n == want {
			return n, nil
		}
		if n != last {
			last, stable = n, time.Now()
		} else if time.Since(stable) > time.Second {
			return n, nil
		}
	}
	return last, nil
}

// shape is what one message looks like on the wire, to check that both
// sides of a comparison send the same thing.
type shape struct {
	Key      string
	Headers  []string
	BodyLen  int
	Props    string // which basic properties are set
	Redeliv  bool
	Received bool
}

func (s shape) String() string {
	if !s.Received {
		return "no message"
	}
	return fmt.Sprintf("key=%s headers=%v body=%dB props=%s", s.Key, s.Headers, s.BodyLen, s.Props)
}

// sample takes one message off the queue (acked) and describes it.
func (b *broker) sample(name string) (shape, error) {
	ch, err := b.channel()
	if err != nil {
		return shape{}, err
	}
	d, ok, err := ch.Get(name, true)
	if err != nil || !ok {
		return shape{}, err
	}
	s := shape{Key: d.RoutingKey, BodyLen: len(d.Body), Received: true}
	for k := range d.Headers {
		s.Headers = append(s.Headers, k)
	}
	slices.Sort(s.Headers)
	var props []string
	for _, p := range []struct {
		name string
		set  bool
	}{
		{"reply_to", d.ReplyTo != ""}, {"correlation_id", d.CorrelationId != ""},
		{"timestamp", !d.Timestamp.IsZero()}, {"content_type=" + d.ContentType, d.ContentType != ""},
		{"content_encoding", d.ContentEncoding != ""}, {"message_id", d.MessageId != ""},
		{"delivery_mode", d.DeliveryMode != 0},
	} {
		if p.set {
			props = append(props, p.name)
		}
	}
	s.Props = strings.Join(props, ",")
	return s, nil
}

func (b *broker) purge(name string) error {
	ch, err := b.channel()
	if err != nil {
		return err
	}
	if _, err := ch.QueuePurge(name, false); err != nil {
		return fmt.Errorf("purge queue %q: %w", name, err)
	}
	return nil
}

func (b *broker) deleteQueue(name string) error {
	ch, err := b.channel()
	if err != nil {
		return err
	}
	if _, err := ch.QueueDelete(name, false, false, false); err != nil {
		return fmt.Errorf("delete queue %q: %w", name, err)
	}
	return nil
}

func (b *broker) close() { _ = b.conn.Close() }

// cpu returns the broker process's CPU time so far (user+system), or 0 when
// it cannot be read.
func (b *broker) cpu() time.Duration {
	if b.beamPID == 0 {
		return 0
	}
	d, _ := procCPU(b.beamPID)
	return d
}

// findBeam returns the pid of the local RabbitMQ node (the beam.smp
// started with "-s rabbit boot", not a rabbitmqctl's), or 0.
func findBeam() int {
	dirs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, f := range dirs {
		comm, err := os.ReadFile(f)
		if err != nil || strings.TrimSpace(string(comm)) != "beam.smp" {
			continue
		}
		dir := filepath.Dir(f)
		args, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || !strings.Contains(string(args), "rabbit\x00boot") {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(dir))
		return pid
	}
	return 0
}

// procCPU reads utime+stime of pid from /proc (clock ticks of 10 ms, the
// Linux USER_HZ).
func procCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat: %w", err)
	}
	// Fields after the command (which may hold spaces) start after ")".
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 {
		return 0, errors.New("read stat: no command field")
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("read stat: short")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}
