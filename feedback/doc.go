// Package feedback holds the sources of observations: what the operator
// under test did with each simulated deployment, turned into the
// generator's Observation and recorded on the Schedule (Recorder). Only
// feedback changes a deployment's observed state; the simulation never
// does.
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
//	correlation_id, timestamp          kept in Feedback, not in the state
//
// Each message is decoded with codec.DecodeTopic, the receiver's decode
// rules with the topic prefix as a parameter. `replicas` and `ready` are
// reserved header names: every other header is allocation.<name>. Values
// are strings as in Metrics.* (plain decimals or Kubernetes quantities;
// integer headers read as Python prints them), parsed by
// generator.ParseNumber. A header absent from a message leaves that field
// of the state unchanged; replicas without ready sets ready too; the
// latest message received wins, field by field.
//
// A message that changes nothing is counted (Counter.Ignored with a
// Reason) and warned through internal/throttle (the first line, then one
// summary a minute), acked and forgotten: never fatal, never requeued.
//
// Imports run one way: feedback -> transport, codec, generator; nothing
// here imports the app.
package feedback
