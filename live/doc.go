// Package live is the live page of `metricsender send` and the smaller
// page of `metricsender operator`: embedded files (one HTML page, plain
// JavaScript drawing SVG by hand, a style sheet; no CDN, no build step)
// and the server-sent event stream that feeds them, GET /v1/events,
// whose documents are versioned JSON (docs/events.md).
//
// # What it reads
//
// A Hub reads the same in-memory state as /metrics and the control API:
// the schedule (one deployment at a time: SnapshotOf), the fault
// injector's counts, the operator judge's report (the exit summary
// line's numbers, and the line) and the process's own counters (Readings:
// the transport's totals, the broker connection, the last tick's lag). It
// never scrapes /metrics.
//
// # What it keeps
//
// Beyond that state, a Hub keeps rings only for the deployments some
// connected stream follows (at most MaxSelected per stream): the last
// points of each (the messages sent, with their faults), its observed
// state's changes and its requests' fates, each ring bounded by the
// largest `points` a stream asked for (at most MaxPoints). The last
// RecentFaults fault hits are kept while some stream is connected. With
// no stream connected the hooks (Sent, Faulted, Fate) return at once and
// nothing is kept.
//
// # What it sends
//
// Each stream sends, once a second (Config.Every), the run's numbers and
// what changed: the judge's report, the fault counts, and each followed
// deployment's state and new points. So what goes to a browser per tick
// is bounded by its selection, not by the number of deployments.
package live
