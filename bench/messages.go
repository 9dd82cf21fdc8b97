package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// benchRun is the run id stamped on the plain side's envelopes: eight hex
// digits, as metricsender's own run ids, so bodies have the same size.
const benchRun = "b3nc4001"

// appName is the name of deployment i: routing key Metrics.app-i.
func appName(i int) string { return "app-" + strconv.Itoa(i) }

// writeConfig writes a config of n deployments in the original sender's
// format (the example's two list metrics each) and returns its path.
func writeConfig(dir string, n int) (string, error) {
	return writeConfigWith(dir, n, "")
}

// exprCPU is the cpu metric of the expr variant of a scale row: a CEL
// expression over a var and the observed state (issue 12), in place of
// the list, so the messages keep their size and only the expression's
// cost shows.
const exprCPU = `      cpu: {expr: "demand / replicas", vars: {demand: {sine: {min: 0.5, max: 1, period: 30m}}}, decimals: 1}
`

// listCPU is the cpu metric of the plain rows.
const listCPU = "      cpu: [0.5, 0.8, 1.0]\n"

// writeConfigWith is writeConfig with cpu defined by cpu ("": the list).
func writeConfigWith(dir string, n int, cpu string) (string, error) {
	name := fmt.Sprintf("deployments-%d.yaml", n)
	if cpu == "" {
		cpu = listCPU
	} else {
		name = fmt.Sprintf("deployments-%d-cpu.yaml", n)
	}
	var b bytes.Buffer
	b.WriteString("# written by bench: ")
	b.WriteString(strconv.Itoa(n))
	b.WriteString(" deployments\ninterval: 60s\ndeployments:\n")
	for i := range n {
		b.WriteString("  - name: " + appName(i) + "\n    metrics:\n" + cpu + "      memory: [256, 512, 1024]\n")
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("write config: %w", err)
	}
	return path, nil
}

// routingKeys are the exact routing keys of n deployments, to bind a queue
// to only what the bench sends.
func routingKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = codec.Topic(appName(i))
	}
	return keys
}

// publishing is one message ready for a plain amqp091-go publish.
type publishing struct {
	key string
	pub amqp091.Publishing
}

// plainMessages builds, before any timing, the messages the plain side
// publishes: the same events metricsender sends for ticks ticks of cfg
// (same seed, so the same values), encoded by the codec and mapped to AMQP
// properties as is-wire maps them (reply_to, correlation_id, timestamp in
// ms, content_type, one string header per metric). The plain loop then
// only publishes: it is the cheapest client there can be.
func plainMessages(cfg *generator.Config, ticks int) ([]publishing, error) {
	sched, err := generator.NewSchedule(cfg, generator.ScheduleOptions{
		Run: benchRun, Seed: 1, Interval: time.Millisecond, Count: ticks,
	})
	if err != nil {
		return nil, fmt.Errorf("plain messages: %w", err)
	}
	ids := rand.New(rand.NewPCG(1, 2))
	var out []publishing
	for {
		b, ok := sched.Next()
		if !ok {
			return out, nil
		}
		for _, ev := range b.Events {
			m := codec.Encode(ev, ids.Uint64())
			md := m.Metadata
			ms, err := strconv.ParseInt(md[codec.KeyTimestamp], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("plain messages: timestamp: %w", err)
			}
			headers := amqp091.Table{}
			for _, mt := range ev.Metrics {
				headers[mt.Name] = md[codec.MetricPrefix+mt.Name]
			}
			out = append(out, publishing{key: md[codec.KeyTopic], pub: amqp091.Publishing{
				ReplyTo:       md[codec.KeyReplyTo],
				CorrelationId: md[codec.KeyCorrelationID],
				Timestamp:     time.Unix(ms, 0), // amqp091 writes seconds: ms on the wire, as is-wire
				ContentType:   md[codec.KeyContentType],
				Headers:       headers,
				Body:          m.Payload,
			}})
		}
	}
}
