// Package control is the control API of `metricsender send`: HTTP routes,
// served on the sender's metrics port, that show and steer the running
// schedule.
//
// It owns the routes, their JSON (requests and answers) and the mapping of
// the schedule's errors to HTTP statuses:
//
//	GET    /v1/deployments                          every deployment (JSON array)
//	GET    /v1/deployments/{name}                   one deployment
//	PUT    /v1/deployments/{name}/metrics/{metric}  override: {"value":"2"} or a model as in the config
//	DELETE /v1/deployments/{name}/metrics/{metric}  back to the configured model
//	POST   /v1/deployments/{name}/pause             stop sending (Seq does not advance)
//	POST   /v1/deployments/{name}/resume            send again
//	GET    /v1/faults                               the faults in effect per deployment
//	POST   /v1/deployments/{name}/faults            set its faults: a faults section as JSON
//	DELETE /v1/deployments/{name}/faults            back to the config's
//	POST   /v1/faults                               set every deployment's faults
//	DELETE /v1/faults                               back to the config's, everywhere
//	PUT    /v1/deployments/{name}/state             feedback: {"replicas": 3, "ready": 3, "allocation": {"cpu": "750m"}}
//
// A deployment, as GET shows it, is its name, interval, paused, seq, its
// metrics (name, the configured model, the override in force, the last
// value sent as text and number), the faults in effect and where they come
// from ("config", "control"), and its observed state: replicas, ready and
// allocation, each with its value, the source that set it ("config",
// "api" for this API's state PUT, "bus", "kubernetes") and when that
// source observed it.
//
// The GET routes always work. The others change the run, so they answer
// 403 unless Access allows them: the metrics port is often reachable from
// the whole cluster. Access.Mutations (--enable-control) opens every
// mutation; the state PUT also needs Access.StateFeedback (--feedback
// api): the api feedback source is asked for by name, and it changes the
// run like any other mutation.
//
// Mutations answer 204. Errors are JSON {"error": "..."} on one line: 404
// for an unknown deployment or metric, 400 for an invalid body, 413 for a
// body over 64 KiB (a method a route does not take gets the mux's plain
// 405). Overrides,
// faults and states take effect at the next tick. A state PUT is the api
// feedback source: its fields replace those of the observed state (see
// generator.Schedule.Observe) and are recorded as SourceAPI's.
//
// The HTTP server starts before the broker connection and the schedule
// exist (so /healthz and /readyz answer), so the routes steer a Late: until
// its Set, GET lists no deployment and every mutation answers 503 ("the
// schedule has not started yet"); until its SetInjector, the fault routes
// answer 503 and GET shows no faults.
//
// control imports generator of this module and no broker client, transport
// or codec: it steers the schedule through Controller and FaultController,
// which *generator.Schedule and *generator.Injector implement.
package control
