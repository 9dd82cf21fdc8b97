// Package sendloop runs a schedule onto the wire: each tick's events get
// their correlation ids, the fault injector's changes, and then go out at
// once or, when a delay fault holds them, on their own clock.
//
// Contract: events are handed to Emit in the schedule's order, a tick part
// by part; Sent is told of every event that went out, at the time it was
// handed to Emit (a delayed one when it went out), and never of a
// suppressed one. At a natural end Run waits for every held event, each at
// its time; after a signal (ctx cancelled) it sends them at once, within
// ShutdownTimeout. One log line a tick, and a throttled one while faults
// fire. It knows the schedule and the injector (generator), nothing of
// the codec or the transport: Emit is given.
package sendloop
