package transport

import (
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/internal/brokertest"
)

// benchApps is how many deployments (routing keys) the messages cycle over.
const benchApps = 1000

// benchMessages builds one tick's worth of messages in the codec form, the
// shape metricsender sends: two metrics, a JSON envelope of ~120 bytes.
func benchMessages(prefix string) []*message.Message {
	msgs := make([]*message.Message, benchApps)
	for i := range msgs {
		app := prefix + strconv.Itoa(i)
		body := `{"app":"` + app + `","metrics":{"cpu":"0.5","memory":"512Mi"},"seq":17,"run":"6f1c2a9e","time":"2026-11-25T17:30:00.000Z"}`
		msgs[i] = wireMsg(codec.Topic(app), map[string]string{"cpu": "0.5", "memory": "512Mi"}, body)
	}
	return msgs
}

// benchQueue binds a length-limited queue to every benchmark routing key,
// so messages are routed (no returns) without piling up in the broker.
func benchQueue(b *testing.B, uri, prefix string) {
	b.Helper()
	ch := brokertest.Channel(b, uri)
	if err := ch.ExchangeDeclare("is", "topic", false, false, false, false, nil); err != nil {
		b.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, amqp091.Table{"x-max-length": int32(10000)})
	if err != nil {
		b.Fatal(err)
	}
	for i := range benchApps {
		if err := ch.QueueBind(q.Name, codec.Topic(prefix+strconv.Itoa(i)), "is", false, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublish compares our publisher with a plain amqp091-go loop of
// the same messages (the baseline of issue 5), confirms off and on. Ours
// gets the messages in calls of benchApps, as the router publishes a tick
// shard; callers=4 adds concurrent calls, as the router's workers make.
// Client CPU per message (cpu-ns/msg) is the steadier figure on a shared
// machine. Run:
//
//	go test ./transport -run '^$' -bench BenchmarkPublish -benchtime 200000x -count 5
func BenchmarkPublish(b *testing.B) {
	uri := brokertest.AMQPURI(b)
	prefix := "bench" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10) + "-"
	benchQueue(b, uri, prefix)
	msgs := benchMessages(prefix)
	for _, confirm := range []bool{false, true} {
		mode := "off"
		if confirm {
			mode = "confirm"
		}
		for _, callers := range []int{1, 4} {
			name := "ours/" + mode
			if callers > 1 {
				name += "/callers=" + strconv.Itoa(callers)
			}
			b.Run(name, func(b *testing.B) { benchOurs(b, uri, confirm, callers, msgs) })
		}
		b.Run("plain/"+mode, func(b *testing.B) {
			conn, err := amqp091.Dial(uri)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			ch, err := conn.Channel()
			if err != nil {
				b.Fatal(err)
			}
			if confirm {
				if err := ch.Confirm(false); err != nil {
					b.Fatal(err)
				}
			}
			const window = 1000 // unconfirmed messages in flight, a ring
			ring := make([]*amqp091.DeferredConfirmation, window)
			b.ResetTimer()
			cpu := startCPU()
			for i := range b.N {
				m := msgs[i%len(msgs)]
				ms, _ := strconv.ParseInt(m.Metadata[codec.KeyTimestamp], 10, 64)
				pub := amqp091.Publishing{
					ReplyTo:       m.Metadata[codec.KeyReplyTo],
					CorrelationId: m.Metadata[codec.KeyCorrelationID],
					Timestamp:     time.Unix(ms, 0),
					ContentType:   m.Metadata[codec.KeyContentType],
					Headers:       amqp091.Table{"cpu": m.Metadata["metric.cpu"], "memory": m.Metadata["metric.memory"]},
					Body:          m.Payload,
				}
				dc, err := ch.PublishWithDeferredConfirm("is", m.Metadata[codec.KeyTopic], true, false, pub)
				if err != nil {
					b.Fatal(err)
				}
				if !confirm {
					continue
				}
				if old := ring[i%window]; old != nil && !old.Wait() {
					b.Fatal("nack")
				}
				ring[i%window] = dc
			}
			for _, dc := range ring {
				if dc != nil && !dc.Wait() {
					b.Fatal("nack")
				}
			}
			cpu.report(b)
		})
	}
}

// benchOurs publishes b.N messages through our publisher in calls of up
// to len(msgs)/callers, from callers goroutines each with its own apps
// (so a topic's order is still defined, as with the router's workers).
func benchOurs(b *testing.B, uri string, confirm bool, callers int, msgs []*message.Message) {
	conn, err := wamqp.NewConnection(wamqp.ConnectionConfig{AmqpURI: uri}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	cfg := DefaultAMQPConfig(uri)
	cfg.Confirm = confirm
	obs := newRecHooks()
	cfg.Hooks = obs
	p, err := newAMQPPublisher(conn, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	shard := len(msgs) / callers
	b.ResetTimer()
	cpu := startCPU()
	var wg sync.WaitGroup
	for c := range callers {
		mine := msgs[c*shard : (c+1)*shard]
		n := b.N / callers
		wg.Go(func() {
			for sent := 0; sent < n; sent += len(mine) {
				if err := p.Publish("unused", mine[:min(len(mine), n-sent)]...); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	cpu.report(b)
	// A connection cut (another test restarting the broker) would make
	// Publish buffer instead of send, and the figures meaningless.
	obs.do(func() {
		sent := 0
		for _, n := range obs.published {
			sent += n
		}
		if obs.downs > 0 || sent != b.N/callers*callers {
			b.Fatalf("run invalid: %d connection drops, %d of %d messages sent directly", obs.downs, sent, b.N)
		}
	})
}

// BenchmarkMarshalWire is the per-message cost of our publish path before
// amqp091-go: the check and the mapping to AMQP properties.
func BenchmarkMarshalWire(b *testing.B) {
	m := benchMessages("m")[0]
	b.ReportAllocs()
	for b.Loop() {
		if err := checkWire(m.Metadata); err != nil {
			b.Fatal(err)
		}
		if _, err := marshalWire(m.Metadata, m.Payload); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuMeter measures the CPU time of this process (the client; the broker
// is another process), steadier than wall time on a shared machine.
type cpuMeter struct{ start time.Duration }

func startCPU() cpuMeter { return cpuMeter{start: processCPU()} }

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report stops the timer and adds msg/s and client CPU ns per message.
func (m cpuMeter) report(b *testing.B) {
	b.StopTimer() // closing is not publishing
	used := processCPU() - m.start
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
	b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/msg")
}
