// Package telemetry is the process's Prometheus instrumentation: every
// metricsender_* family that send and receive export, the registry they
// are exported from, and when each series exists. It owns names, help
// texts, labels, buckets and the zero series; the app creates the
// registry (NewRegistry), hands the collectors to the pieces that report
// to them (the transport, the schedule, the judge, the feedback bus, the
// delivery checker) and serves /metrics.
//
// # Families
//
// NewRegistry: the Go runtime's go_* and the process's process_* families.
//
// NewSend (send; Send is the transport's transport.PublishHooks):
//
//   - metricsender_messages_published_total{app} and
//     metricsender_unroutable_total{app}: counters. Configured shows those
//     of the deployments the sender sends (its shard's) at 0; Applied shows
//     those a reload added at 0 and takes those it removed away (Forget);
//     a deployment a reload brings back continues its counts. A removed
//     deployment's late confirmations count unseen and never bring its
//     series back.
//   - metricsender_last_value{app,metric}: gauge, the last numeric value
//     sent, in base units. It appears at a deployment's first numeric
//     value (never for text values); a metric a reload removed loses its
//     series at the deployment's next tick; a removed deployment's go with
//     Forget.
//   - metricsender_observed_replicas{app} and
//     metricsender_observed_allocation{app,metric}: gauges read from the
//     schedule's observed state at scrape time, from WatchState on; none
//     before it.
//   - With per-deployment series off (NewSend's perApp false: more
//     deployments than --app-metrics-limit) published and unroutable are
//     one total each, without labels, under the same names (a sum() reads
//     the same), at 0 from the start; last_value and observed_* are not
//     exported.
//   - metricsender_publish_errors_total{reason}: counter; the reasons the
//     transports give (closed, timeout, nack, error, unroutable) at 0 from
//     the start, any other short word of [a-z0-9_] at its first failure,
//     anything else under "other" (ReasonLabel).
//   - metricsender_publish_duration_seconds and
//     metricsender_tick_lag_seconds: histograms.
//   - metricsender_config_reloads_total{result}: counter, success and
//     failure at 0 from the start.
//   - metricsender_dropped_messages_total, metricsender_expr_errors_total:
//     counters; metricsender_broker_connected: gauge, 1 or 0.
//
// NewReaction (the judge's judge.Hooks), shown through Send.Judged:
//
//   - metricsender_operator_requests_total{metric,result} (applied,
//     superseded) and metricsender_operator_reaction_seconds{metric}: at 0
//     for every metric of the sender's deployments that can open a request
//     (judge.CanRequest), from Judged on and after each reload that adds
//     one; other metrics appear when a request of theirs ends. They never
//     go away: a request may still be open.
//   - metricsender_operator_open_requests: gauge;
//     metricsender_operator_oscillations_total: counter.
//
// NewHPAReaction (the judge's judge.HPAHooks; send --feedback kubernetes,
// which judges the real HPA):
//
//   - metricsender_operator_hpa_requests_total{result} (applied, superseded,
//     both at 0 from the start), metricsender_operator_hpa_reaction_seconds
//     (histogram), metricsender_operator_hpa_open_requests (gauge): the
//     report's hpa part, counted by the same calls;
//   - metricsender_operator_hpa_unjudged: gauge read at scrape time, the
//     report's hpa.unjudged entries.
//
// Gauges read at scrape time from the state that decides them, so they
// cannot disagree with it: metricsender_ready (RegisterReady, /readyz's
// verdict), metricsender_tick_interval_seconds (RegisterTickInterval, the
// schedule's grid), metricsender_operator_oldest_open_request_seconds
// (RegisterOldestOpen, 0 when none is open).
//
// RegisterShardInfo: metricsender_shard_info{shard,shards}, always 1 (0
// and 1 when not sharded). RegisterFaults:
// metricsender_faults_injected_total{kind}, one series per
// generator.FaultKinds, at 0 from the start. NewFeedback (the bus
// source's feedback.Counter): metricsender_feedback_received_total and
// metricsender_feedback_errors_total{reason}, every feedback.Reasons at 0
// from the start.
//
// NewReceive (receive; Receive is the delivery checker's checker.Metrics):
//
//   - metricsender_messages_received_total{app}: counter. Known shows the
//     config's deployments at 0 (the first limit of them, and the series
//     without the app label when there are more); other names appear at
//     their first message. Past limit deployments, further ones count in
//     the series with an empty app label (none), said once in the log.
//     Names come from the wire: one that is not UTF-8 counts under its
//     valid form. Series never go away.
//   - metricsender_decode_errors_total,
//     metricsender_envelope_mismatch_total and the --check counters
//     metricsender_check_missing_total, _duplicates_total,
//     _out_of_order_total, _out_of_bounds_total (at 0 without --check).
//
// NewStandin (metricsender operator; Standin is standin.Counter):
// metricsender_standin_requests_total, _missed_total,
// _answers_published_total, _publish_errors_total and _unreadable_total,
// counters without labels, at 0 from the start.
//
// Label values come only from deployment and metric names, fixed words
// and results, never from an error text or a URI.
//
// # Concurrency
//
// Every method of Send, Receive, Reaction, Feedback and Standin is safe for
// concurrent use. The per-deployment series are plain numbers (atomics,
// under a read lock once a deployment has been seen) built into metrics
// only when scraped; a scrape holds the lock only to copy them, so a tick
// waits for a copy, never for a whole scrape. Published and Unroutable
// allocate nothing once a deployment has been seen; ObserveTick nothing
// once every deployment has. The funcs given to RegisterReady,
// RegisterTickInterval, RegisterOldestOpen, RegisterFaults and
// WatchState are called from the scraping goroutine and must be safe for
// concurrent use. Constructors and Register* panic when their families
// are registered already (a programming error, as with MustRegister).
// Nothing is global: every family lives on the registry it is given.
//
// Imports run one way: telemetry -> generator, codec (the topic prefix),
// judge (which metrics can open a request) and feedback (its Counter and
// reasons); never app. Standin has standin.Counter's methods likewise. Send has the methods of transport.PublishHooks
// (its tests check it) without importing transport: so no broker client
// comes in, not even through it.
package telemetry
