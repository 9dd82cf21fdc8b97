// Package checker is the delivery checker: it judges what a receiver got
// against what a run sent. It serves `receive --check` (a Checker fed each
// message as it arrives) and `metricsender check` (a Merge of the JSON
// lines several receivers printed). It imports generator and codec (for
// the message types) only: no transport, no broker client, no router.
// Reading the files, printing and exit statuses are the caller's.
//
// # What it counts
//
// The summary line, printed once at the end, is
//
//	received=N missing=N duplicates=N out_of_order=N out_of_bounds=N decode_errors=N injected_drops=N ... injected_bursts=N
//
// and the run fails (Failed) on missing or out-of-bounds messages, and on
// duplicates when strict. What was injected on purpose never fails it.
//
//   - missing, duplicates, out of order: seq is followed per (run, app)
//     from the envelope. Gaps count from the first seq seen per stream, so
//     a receiver that starts late reports nothing missing; a gap filled
//     later turns from missing into out_of_order. A jump too large to
//     remember seq by seq still counts, in bounded memory. Messages
//     without an envelope (the Python sender's form, another is-wire
//     publisher's) carry no seq and are only bounds-checked.
//   - bounds: with the run's config (Config.Run), a value its model does
//     not allow, a metric it does not name, or a message with another
//     number of metrics is out of bounds. Only the config's deployments
//     are judged: an app it does not name is counted as received and
//     nothing else.
//   - expect: with Config.Expect N (`--expect N`, a `send --count N` run),
//     loss the seq gaps cannot see is missing too: seqs before the first
//     and after the last one seen, and N for a deployment never seen.
//     ExpectMet tells when all arrived, so a receiver can stop.
//   - injected faults: the envelope's fault and dropped fields tell them
//     from real loss. Seqs suppressed on purpose are not missing, a
//     delayed message is not out of order, an injected copy is not a
//     duplicate, and a faulted message is not held to the bounds; each is
//     counted in its injected_* field instead.
//
// # Merging files
//
// Merge judges the union of several receivers' lines as one receiver
// that got them all would: competing receivers on one queue, or the
// receivers of a sharded run. missing and duplicates count over all
// files (a seq in two files is a duplicate); out_of_order counts within
// each file, since files interleave in no known order.
package checker
