package generator

import "time"

// Value is one metric value as it goes on the wire.
//
// Text is what is sent: a value listed in the config keeps its YAML scalar
// text exactly ("1.0" stays "1.0", "200m" stays "200m"); a generated value is
// formatted canonically. Num is the value in base units ("200m" -> 0.2,
// "128Mi" -> 134217728) and is meaningful only when HasNum is true;
// non-numeric values such as "gold" have HasNum false.
type Value struct {
	Text   string
	Num    float64
	HasNum bool
}

// Metric is one named value of an Event.
type Metric struct {
	Name  string
	Value Value
}

// Event is one simulated message: what deployment App reports at one tick.
// It is abstract: it knows nothing of topics, headers or brokers.
type Event struct {
	// App is the deployment name; it becomes the routing-key word of
	// Metrics.{App} and the is-wire reply_to.
	App string
	// Metrics are sorted by name, one entry per configured metric.
	Metrics []Metric
	// Seq counts from 1 per deployment within one run and never resets in a
	// run (not on reload, not on pause).
	Seq uint64
	// Run identifies the process run that produced the event.
	Run string
	// Time is the tick's scheduled time (not the time it was actually sent),
	// or earlier when a stale fault set it back.
	Time time.Time

	// The fields below are set by an Injector (faults); zero otherwise.

	// Fault lists the faults applied to this message, comma-separated in
	// FaultKinds order ("stale,corrupt"); "duplicate" or "burst" on an
	// extra copy; "drop" or "silence" on a suppressed event.
	Fault string
	// Dropped is the number of seqs skipped on purpose (drop, silence)
	// since the deployment's previous message.
	Dropped uint64
	// ID, when not 0, is the correlation id to send: an event and its
	// copies share one. 0 lets the encoder draw a fresh one.
	ID uint64
	// Delay is how long after its tick the message is to be sent.
	Delay time.Duration
	// Suppressed events are not sent (drop, silence): they are there so a
	// preview can show them.
	Suppressed bool
}
