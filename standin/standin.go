package standin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/delay"
	"github.com/labsea/metricsender/internal/throttle"
	"github.com/labsea/metricsender/policy"
)

// Counter is told what becomes of each message, so the app can count
// without this package knowing about metrics. Implementations must be
// safe for concurrent use and must not block.
type Counter interface {
	Request()       // a request (Metrics.* message) was read
	Missed()        // a request was ignored on purpose (Config.Miss)
	Published()     // an answer (Allocation.* message) was published
	PublishFailed() // an answer could not be published
	Unreadable()    // a message could not be decoded
}

// NopCounter counts nothing.
type NopCounter struct{}

func (NopCounter) Request()       {}
func (NopCounter) Missed()        {}
func (NopCounter) Published()     {}
func (NopCounter) PublishFailed() {}
func (NopCounter) Unreadable()    {}

// Config configures an Operator.
type Config struct {
	// Subscriber delivers the requests and the Allocation.* messages: the
	// transport's, built with both binding patterns. Required.
	Subscriber message.Subscriber
	// Publisher publishes the answers, each on its KeyTopic. Required.
	Publisher message.Publisher
	// Topic is the pattern subscribed. Default Metrics.*.
	Topic string
	// Policy decides; required. It is used by Run's goroutine only.
	Policy policy.Policy
	// Delay is the actuation time; Jitter adds a seeded random [0, Jitter)
	// to each. Both >= 0.
	Delay, Jitter time.Duration
	// Miss is the probability of ignoring a request, in [0, 1].
	Miss float64
	// Seed seeds Miss and Jitter.
	Seed int64
	// Counter counts; nil counts nothing.
	Counter Counter
	// Subscribed, when set, is called once the subscription is up:
	// requests from then on are read.
	Subscribed func()
	// Decided, when set, is told of each request read and what became of
	// it (the operator's page). It is called from Run's goroutine and
	// must not block.
	Decided func(Decision)
}

// The outcomes of a Decision.
const (
	OutcomeAnswer = "answer" // an Allocation message, due at Due
	OutcomeNone   = "none"   // the policy applied nothing
	OutcomeMissed = "missed" // ignored on purpose (Config.Miss)
)

// Decision is what the operator made of one request.
type Decision struct {
	App string
	// At is when the request was read.
	At      time.Time
	Outcome string
	// What was applied, for OutcomeAnswer; Allocation is the operator's,
	// not to be changed.
	Replicas    float64
	HasReplicas bool
	Allocation  map[string]float64
	Due         time.Time
}

func (c *Config) setDefaults() {
	if c.Topic == "" {
		c.Topic = codec.TopicPrefix + "*"
	}
	if c.Counter == nil {
		c.Counter = NopCounter{}
	}
}

// Validate reports every problem of c at once, each naming its field.
func (c Config) Validate() error {
	var errs []error
	if c.Subscriber == nil {
		errs = append(errs, errors.New("Subscriber: nil"))
	}
	if c.Publisher == nil {
		errs = append(errs, errors.New("Publisher: nil"))
	}
	if c.Policy == nil {
		errs = append(errs, errors.New("Policy: nil"))
	}
	if c.Delay < 0 || c.Jitter < 0 {
		errs = append(errs, fmt.Errorf("Delay %s, Jitter %s: must be >= 0", c.Delay, c.Jitter))
	}
	if !(c.Miss >= 0 && c.Miss <= 1) {
		errs = append(errs, fmt.Errorf("Miss %g: must be a probability in [0, 1]", c.Miss))
	}
	return errors.Join(errs...)
}

// Counts is an Operator's account of a run.
type Counts struct {
	Requests, Answered, Missed int
}

// Operator is the stand-in operator's bus side: it reads requests
// (Metrics.*) and what was applied (Allocation.*, its own answers
// included), runs the policy, and makes the answers. Build it with New
// and start it with Run, once.
type Operator struct {
	cfg      Config
	logger   *slog.Logger
	bad      *throttle.Warning
	rng      *rand.Rand // miss and jitter, from the seed
	replicas map[string]float64
	lastDue  map[string]time.Time // jitter never reorders one app's answers
	counts   Counts
}

// New validates cfg (filling defaults) and returns an Operator not yet
// subscribed. A nil logger discards.
func New(cfg Config, logger *slog.Logger) (*Operator, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("stand-in operator config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Operator{cfg: cfg, logger: logger,
		bad:      throttle.New(logger, throttle.Config{Message: "operator: unreadable message", CountKey: "unreadable", KeysKey: "topics"}),
		rng:      rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)),
		replicas: map[string]float64{}, lastDue: map[string]time.Time{}}, nil
}

// Run answers requests until the subscription ends (ctx done, or the
// subscriber closed); what is still waiting for its delay then is
// published at once. It returns the run's account, and an error only when
// it could not subscribe.
func (o *Operator) Run(ctx context.Context) (Counts, error) {
	answers := delay.New(func(_ context.Context, as []answer) error {
		for _, a := range as {
			if err := o.cfg.Publisher.Publish(a.msg.Metadata.Get(codec.KeyTopic), a.msg); err != nil {
				o.cfg.Counter.PublishFailed()
				o.logger.Warn("publish an answer", "app", a.app, "error", err)
				continue
			}
			o.cfg.Counter.Published()
		}
		return nil
	})
	answersDone := make(chan error, 1)
	go func() { answersDone <- answers.Run(context.WithoutCancel(ctx)) }()
	defer func() {
		answers.Close(true) // stopping: what waits for its delay goes out now
		<-answersDone
	}()

	msgs, err := o.cfg.Subscriber.Subscribe(ctx, o.cfg.Topic)
	if err != nil {
		return o.counts, fmt.Errorf("operator: subscribe: %w", err)
	}
	if o.cfg.Subscribed != nil {
		o.cfg.Subscribed()
	}
	for msg := range msgs {
		if a, ok := o.handle(msg, time.Now()); ok {
			answers.Hold(a, a.due)
		}
		msg.Ack()
	}
	return o.counts, nil
}

// answer is one Allocation message waiting for its actuation delay.
type answer struct {
	app string
	due time.Time
	msg *message.Message
}

// handle reads one message received at now. For a request the policy
// answers, it returns the Allocation message and when to publish it.
func (o *Operator) handle(msg *message.Message, now time.Time) (answer, bool) {
	topic := msg.Metadata.Get(codec.KeyTopic)
	if strings.HasPrefix(topic, codec.AllocationPrefix) {
		// What was applied (ours or another's): the replicas the HPA starts
		// from, read by the bus feedback source's rules.
		if a, err := codec.DecodeAllocation(msg, codec.AllocationPrefix); err == nil && a.HasReplicas {
			o.replicas[a.App] = a.Replicas
		}
		return answer{}, false
	}
	rec, err := codec.Decode(msg)
	if err != nil {
		o.cfg.Counter.Unreadable()
		o.bad.Warn(topic, "topic", topic, "error", err.Error())
		return answer{}, false
	}
	o.counts.Requests++
	o.cfg.Counter.Request()
	if o.cfg.Miss > 0 && o.rng.Float64() < o.cfg.Miss {
		o.counts.Missed++
		o.cfg.Counter.Missed()
		o.decided(Decision{App: rec.App, At: now, Outcome: OutcomeMissed})
		return answer{}, false
	}
	req := policy.RequestOf(generator.Event{App: rec.App, Metrics: rec.Metrics, Time: rec.Time})
	req.ID = rec.CorrelationID
	replicas, known := o.replicas[rec.App]
	if !known {
		replicas = 1 // the HPA clamps it to its min
	}
	d := o.cfg.Policy.Decide(req, replicas)
	if d.Empty() {
		o.decided(Decision{App: rec.App, At: now, Outcome: OutcomeNone})
		return answer{}, false
	}
	due := now.Add(o.cfg.Delay + jitterOf(o.rng, o.cfg.Jitter))
	if last := o.lastDue[rec.App]; due.Before(last) {
		due = last
	}
	o.lastDue[rec.App] = due
	o.counts.Answered++
	o.decided(Decision{App: rec.App, At: now, Outcome: OutcomeAnswer,
		Replicas: d.Replicas, HasReplicas: d.HasReplicas, Allocation: d.Allocation, Due: due})
	msg = codec.EncodeAllocation(codec.Allocation{App: rec.App, CorrelationID: rec.CorrelationID, Time: due,
		Replicas: d.Replicas, HasReplicas: d.HasReplicas, Resources: d.Allocation})
	return answer{app: rec.App, due: due, msg: msg}, true
}

// decided tells Config.Decided, when set, of d.
func (o *Operator) decided(d Decision) {
	if o.cfg.Decided != nil {
		o.cfg.Decided(d)
	}
}

// jitterOf draws one jitter in [0, max) from r.
func jitterOf(r *rand.Rand, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(r.Int64N(int64(max)))
}
