// Package latest keeps the latest value of every (app, metric) received
// from the bus, for the metrics API bridge (cmd/metrics-api), which
// serves them as the Kubernetes external and custom metrics APIs.
//
// # What is kept
//
// A Store holds, for each metric name and each app, the value of the last
// Metrics.{app} message received (order of receipt, not of timestamps),
// with that message's timestamp. A metric whose text is not a number or a
// Kubernetes quantity ("gold") is not kept: the metrics APIs serve
// quantities only.
//
// # Missing and stale
//
// A value is absent once it is older than the max age, counted from when
// the Store received it. The max age is Config.MaxAge when set, else three
// times the interval the app is seen at: the advance of the newest message
// timestamp from one message of the app to the next (duplicates and stale
// copies, whose timestamps do not advance, leave it as it is). Until an
// app has been seen advance once, its interval is the one its deployment
// has in Config.Run, else generator.DefaultInterval.
//
// So the faults of a sender reach a consumer of the store as a real outage
// would: a drop or a silence ages the value out (an empty answer, which the
// HPA reports as ScalingActive=False); a stale message is served, with its
// old timestamp, as the latest value; a corrupt message or one without
// headers does what codec.Decode does with it (a decode error, counted and
// logged by the Handler, or a value that is not a number, skipped); an
// omitted metric keeps its previous value until that ages out.
//
// # Namespaces and objects
//
// Without Config.Run, every app is served in every namespace. With it, a
// deployment whose `kubernetes:` section names a namespace is served in
// that namespace only, and the others in every one. Object lookups
// (the custom metrics API's deployments/<name>) find an app by the
// workload its `kubernetes:` section maps it to (kind and name), or else
// by its own name as a Deployment.
//
// Lookups by (metric, app) cost two map reads under a read lock; a Store
// is safe for concurrent use.
package latest
