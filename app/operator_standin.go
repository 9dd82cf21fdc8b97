package app

import (
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/feedback"
	"github.com/labsea/metricsender/internal/throttle"
	"github.com/labsea/metricsender/policy"
)

// standin is the stand-in operator's bus side: it reads requests
// (Metrics.*) and what was applied (Allocation.*, its own answers
// included), runs the policy, and makes the answers. Not safe for
// concurrent use: the operator's one loop calls it.
type standin struct {
	opts     operatorOptions
	metrics  *standinMetrics
	bad      *throttle.Warning
	rng      *rand.Rand // miss and jitter, from the seed
	replicas map[string]float64
	lastDue  map[string]time.Time // jitter never reorders one app's answers

	requests, answered, missed int
}

func newStandin(opts operatorOptions, metrics *standinMetrics, logger *slog.Logger) *standin {
	return &standin{opts: opts, metrics: metrics,
		bad:      throttle.New(logger, throttle.Config{Message: "operator: unreadable message", CountKey: "unreadable", KeysKey: "topics"}),
		rng:      rand.New(rand.NewPCG(uint64(opts.seed), 0x5eed)),
		replicas: map[string]float64{}, lastDue: map[string]time.Time{}}
}

// answer is one Allocation message waiting for its actuation delay.
type answer struct {
	app string
	due time.Time
	msg *message.Message
}

// handle reads one message received at now. For a request the policy
// answers, it returns the Allocation message and when to publish it.
func (s *standin) handle(msg *message.Message, now time.Time) (answer, bool) {
	topic := msg.Metadata.Get(codec.KeyTopic)
	if strings.HasPrefix(topic, allocationPrefix) {
		// What was applied (ours or another's): the replicas the HPA starts
		// from, read by the bus feedback source's rules.
		if rcv, err := codec.DecodeTopic(msg, allocationPrefix); err == nil {
			if fb, err := feedback.Parse(rcv); err == nil && fb.Observation.HasReplicas {
				s.replicas[fb.App] = fb.Observation.Replicas
			}
		}
		return answer{}, false
	}
	rec, err := codec.Decode(msg)
	if err != nil {
		s.metrics.unreadable.Inc()
		s.bad.Warn(topic, "topic", topic, "error", err.Error())
		return answer{}, false
	}
	s.requests++
	s.metrics.requests.Inc()
	if s.opts.miss > 0 && s.rng.Float64() < s.opts.miss {
		s.missed++
		s.metrics.missed.Inc()
		return answer{}, false
	}
	req := policy.Request{App: rec.App, Metrics: map[string]float64{}, ID: rec.CorrelationID, At: rec.Time}
	for _, m := range rec.Metrics {
		if m.Value.HasNum {
			req.Metrics[m.Name] = m.Value.Num
		}
	}
	replicas, known := s.replicas[rec.App]
	if !known {
		replicas = s.opts.min
	}
	d := s.opts.policy.Decide(req, replicas)
	if d.Empty() {
		return answer{}, false
	}
	due := now.Add(s.opts.delay + jitterOf(s.rng, s.opts.jitter))
	if last := s.lastDue[rec.App]; due.Before(last) {
		due = last
	}
	s.lastDue[rec.App] = due
	s.answered++
	return answer{app: rec.App, due: due, msg: allocationMessage(rec.App, rec.CorrelationID, d, due)}, true
}

// allocationMessage is the Allocation.{app} message of d (WIRE.md):
// reply_to the app, the request's correlation id, the values applied as
// string headers (replicas, then the allocation by metric), no body.
func allocationMessage(app, correlationID string, d policy.Decision, at time.Time) *message.Message {
	msg := message.NewMessage(watermill.NewULID(), nil)
	md := msg.Metadata
	md.Set(codec.KeyTopic, allocationPrefix+app)
	md.Set(codec.KeyReplyTo, app)
	if correlationID != "" {
		md.Set(codec.KeyCorrelationID, correlationID)
	}
	md.Set(codec.KeyTimestamp, strconv.FormatInt(at.UnixMilli(), 10))
	if d.HasReplicas {
		md.Set(codec.MetricPrefix+"replicas", policy.FormatReplicas(d.Replicas))
	}
	for name, v := range d.Allocation {
		md.Set(codec.MetricPrefix+name, strconv.FormatFloat(v, 'f', -1, 64))
	}
	return msg
}

// jitterOf draws one jitter in [0, max) from r.
func jitterOf(r *rand.Rand, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(r.Int64N(int64(max)))
}

// standinMetrics are the operator's own, under metricsender_standin_.
type standinMetrics struct {
	requests, missed, published, publishErrors, unreadable prometheus.Counter
}

func newStandinMetrics(reg prometheus.Registerer) *standinMetrics {
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "metricsender_standin_" + name, Help: help})
		reg.MustRegister(c)
		return c
	}
	return &standinMetrics{
		requests:      counter("requests_total", "Requests (Metrics.* messages) read."),
		missed:        counter("missed_total", "Requests ignored on purpose (--miss)."),
		published:     counter("answers_published_total", "Allocation.* messages published."),
		publishErrors: counter("publish_errors_total", "Allocation.* messages that could not be published."),
		unreadable:    counter("unreadable_total", "Messages that could not be decoded."),
	}
}
