// Package feedback holds the sources of observations: what the operator
// under test did with each simulated deployment, turned into the
// generator's Observation and recorded through the one
// generator.Recorder interface (the schedule, or the judge's tracker wrapping it). Only
// feedback changes a deployment's observed state; the simulation never
// does.
//
// # Words
//
// One word for one thing, so the three ideas around "observe" stay apart:
//
//   - an Observation (generator.Observation) is what one source saw of one
//     deployment; a source makes them: Bus here, kube.Source in package
//     kube, the control API's state route (package control);
//   - a Recorder (generator.Recorder, declared once beside Observation,
//     so that the judge and the control API need not import this
//     package) is where every source records them, with its one method Observe: *generator.Schedule, the
//     judge's tracker wrapping it, the app's holders that forward to it;
//   - the observed state (generator.ObservedState, Schedule.Observed) is
//     what the recorded observations add up to, per deployment: the
//     schedule's, read by models, the control API and the metrics;
//   - the publish hooks (package transport) are told about publishes and
//     connections; they observe nothing of an operator and are named
//     apart from all of the above.
//
// "Observer" names none of these here: the interface every source feeds
// is a Recorder, as it was already the bus source's.
//
// # The bus source
//
// Bus consumes the operator's answers from the broker the sender already
// uses, through the transport's subscriber (amqp: an exclusive,
// auto-delete queue of the sender's own, bound with the pattern; nats;
// gochannel), on topic Allocation.* by default:
//
//	routing key  Allocation.web        (the pattern's prefix, then the app)
//	reply_to     web                   (names the app; else the routing key does)
//	headers      replicas: "4"         -> Observation.Replicas
//	             ready: "3"            -> Observation.Ready
//	             cpu: "750m"           -> Observation.Allocation["cpu"] = 0.75
//	correlation_id                     -> Observation.CorrelationID (for the judge)
//	timestamp                          read (codec.Allocation.Time), not in the state
//
// Each message is decoded with codec.DecodeAllocation, the receiver's
// decode rules with the topic prefix as a parameter, which owns the
// Allocation message. `replicas` and `ready` are reserved header names:
// every other header is allocation.<name>. Values are strings as in
// Metrics.* (plain decimals or Kubernetes quantities; integer headers read
// as Python prints them), parsed once, by generator.ParseNumber's rule.
// A header absent from a message leaves that field of the state
// unchanged; replicas without ready sets ready too; the latest message
// received wins, field by field.
//
// A message that changes nothing is counted (Counter.Ignored with a
// Reason) and warned through internal/throttle (the first line, then one
// summary a minute), acked and forgotten: never fatal, never requeued.
//
// Imports run one way: feedback -> codec, generator (its tests use
// transport's gochannel pair); package kube -> feedback; nothing here
// imports the app or a broker client.
package feedback
