// Package judge judges the operator under test, the way the delivery
// checker judges delivery: it owns requests, their fates, reaction
// times, oscillations and the report. It is pure: it is fed what was sent
// (Sent, SentOnWire) and what was observed (Observe), reads the time from
// a Clock it is given, and imports no broker client and no transport.
//
// # Requests and their fates
//
// Every numeric value sent is compared with its target in the observed
// state: the metric named replicas with the observed replicas, any other
// with its allocation.<metric> once that has a value (a deployment's
// `targets:` changes this, its `tolerance:` says how close counts). A
// value that differs opens a request. At most one request is open per
// (deployment, metric); the same value sent again is the same request. A
// request ends
//
//   - applied, when an observation matches it; its reaction time is the
//     observation's time minus the request's;
//   - superseded, when a later value asks for something else first (a
//     value equal to the observed one too).
//
// Otherwise it is still open when the run is judged.
//
// # The real HPA
//
// A deployment whose replicas nobody requests (no message of it carries
// a value for the replicas target) may be scaled by a real autoscaler.
// With an Autoscaler (TrackerConfig), each message of such a deployment
// asks it what replica count the values call for, the observed replicas
// being current; a count that differs from the observed one opens an HPA
// request, under the rules of a replicas request compared exactly (at
// most one open per deployment, the same count again is the same
// request, another count or the observed one supersedes it). An
// observation of that many replicas applies it: the HPA's reaction time
// is from the message whose value called for the count to the
// observation. HPA requests are judged as requests are (Late, End's
// wait) but reported apart (Report.HPA, the line's hpa_ fields), with the
// deployments whose autoscaler is not followed (Autoscaler.Unjudged).
//
// # Late
//
// Against a maximum D (--max-reaction), a request is late when it was
// applied after more than D, or was superseded after waiting D or more,
// or is still open after waiting D or more when judged. Durations are
// compared, never rounded seconds (those are for printing). End waits,
// at a natural end, until no request is open or D has passed since the
// newest, and judges no earlier than that: a request still open when the
// wait ran out is late, whatever the timers did. The verdict so depends on
// what the operator did, never on how busy the machine was.
//
// # Oscillations
//
// An oscillation is the controller flapping, not following. A turn of a
// deployment's observed replicas (up after down, or down after up) within
// the oscillation window of their last change is obedience when the
// requested replicas (values sent for the replicas target) turned the same
// way within the window before it, their latest change going that way,
// and the turn does not go past the latest request; every other turn is
// an oscillation (against the requests, or beyond them: an overshoot and
// the way back count one). The first observation turns from the state
// the config gives. A deployment whose replicas nobody requests (an HPA
// scaling on cpu) counts every turn within the window, unless its
// autoscaler is judged (Autoscaler): then the counts its rules called for
// are the requested replicas, so an HPA that follows its own spec does
// not oscillate.
//
// # The contract
//
// A Tracker wraps a Schedule: Observe records on the schedule, then
// judges; Sent reads the state the schedule holds. Every method is safe
// for concurrent use. The app feeds it; it never reads a clock of its own
// (Clock) nor writes anywhere but to its Hooks.
//
// Imports run one way: judge -> generator.
package judge
