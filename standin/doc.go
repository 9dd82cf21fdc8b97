// Package standin is metricsender's stand-in operator: a small operator to
// close the loop with when no real one is at hand. It reads requests
// (Metrics.{app}) from a subscriber, decides what to apply with a
// policy.Policy (follow, hpa), and answers with what it applied
// (Allocation.{app}, see codec.EncodeAllocation) on a publisher after the
// actuation delay, a seeded jitter and a seeded chance of missing the
// request altogether, so a bad operator can be shown being caught.
//
// Its contract:
//   - One answer per request the policy decides something for; none for a
//     missed request (Config.Miss) or an empty decision. The answer carries
//     the request's correlation id and is dated when it is due.
//   - The answer is published Delay plus a jitter in [0, Jitter) after the
//     request was read; jitter never reorders one app's answers. When Run
//     stops, what still waits for its time is published at once.
//   - The HPA's current replicas of an app come from Allocation.* messages
//     read on the same subscription (its own answers included, another
//     operator's too), decoded by codec.DecodeAllocation; before any is
//     read, an app is taken at 1 replica, which the HPA raises to its min.
//   - The same seed and the same requests give the same misses and jitters.
//   - An unreadable message is counted and warned (throttled), never fatal.
//
// Imports: codec, generator, policy, internal helpers and watermill's
// message interfaces, which the app fills with the transport's pair. No
// transport package, no broker client, no metrics library: the app counts
// through Counter.
package standin
