// Package preview is `metricsender preview`: every message a config would
// send over a duration, made on a virtual clock (no broker, no waiting),
// written as rows and, optionally, drawn.
//
// It owns:
//   - the virtual-clock run (Run): the config's schedule from time 0 to
//     Options.Duration, with the config's faults applied as `send` would
//     apply them (the last tick of a deployment is never dropped or
//     silenced, as in a `send --count` run);
//   - the rows, one per metric of each message, in one of Formats: table
//     (aligned for a terminal), csv or json (elapsed, app, metric, value,
//     then replicas with an operator and fault when the config has
//     faults). Rows stream as they are made: a long preview holds no rows
//     in memory;
//   - the plot (gonum): one panel per numeric metric, one line per
//     deployment, thinned to about a point per pixel, with fault marks and,
//     with an operator, a panel of the observed replicas; .svg or .png;
//   - the operator on the virtual clock (Options.Operator): a policy
//     (follow, HPA) reads each message as sent and what it decides is
//     observed by the app Spec.Delay later, closing the loop that the
//     real operator closes, in a preview.
//
// The command line maps flags to Options; nothing else is its. Run is
// deterministic: the same Options (Seed included) give the same bytes of
// rows and plot. Notes (what the plot leaves out, how many expressions
// failed) go to the stderr writer; the order of the plot's notes is not
// promised. Errors that come from the options or the config are an
// *InputError, whose text names the option as its flag does (`--format`,
// `--plot`), since Options are the flags of `metricsender preview`.
//
// preview imports policy and generator of this module, and no broker
// client, transport or codec: rows are written with encoding/csv and
// encoding/json.
package preview
