package codec

import "strconv"

// How a receiver prints a Received: `receive --output text` is the block
// the Python receiver (is-wire-py's metricreceiver.py) prints, and
// `receive --output json` one JSON object a line, which `metricsender
// check` reads back (package checker). Both are pure and append to dst.

// textRule frames the Python receiver's block.
const textRule = "========================================"

// AppendText appends r as the Python receiver prints it:
//
//	========================================
//	Aplicação: app1
//	Recursos recebidos:
//	  - cpu: 0.5
//	========================================
//
// one line a metric, in r's order (Decode sorts them by name).
func AppendText(dst []byte, r Received) []byte {
	dst = append(dst, textRule+"\nAplicação: "...)
	dst = append(dst, r.App...)
	dst = append(dst, "\nRecursos recebidos:\n"...)
	for _, m := range r.Metrics {
		dst = append(dst, "  - "...)
		dst = append(dst, m.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, m.Value.Text...)
		dst = append(dst, '\n')
	}
	return append(dst, textRule+"\n"...)
}

// AppendJSONLine appends r as one line of JSON, newline included:
//
//	{"app":"app1","topic":"Metrics.app1","metrics":{"cpu":"0.5"},"seq":17,"run":"6f1c2a9e","time":"2026-11-25T17:30:00.000Z","correlation_id":"9F3A"}
//
// It prints what encoding/json.Marshal prints of a struct of these fields
// (hand-written: reflection, a map and its key sort would cost more than
// the rest of the receive path): metrics in r's order; seq and run only
// with an envelope, and then fault and dropped when set; time (UTC,
// milliseconds, as the envelope writes it) unless zero.
func AppendJSONLine(dst []byte, r Received) []byte {
	dst = append(dst, `{"app":`...)
	dst = AppendJSONString(dst, r.App)
	dst = append(dst, `,"topic":`...)
	dst = AppendJSONString(dst, r.Topic)
	dst = append(dst, `,"metrics":`...)
	dst = appendMetrics(dst, r.Metrics, true)
	if r.HasEnvelope {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, r.Seq, 10)
		dst = append(dst, `,"run":`...)
		dst = AppendJSONString(dst, r.Run)
		dst = appendFault(dst, r.Fault, r.Dropped, true)
	}
	if !r.Time.IsZero() {
		dst = append(dst, `,"time":`...)
		dst = appendQuotedTime(dst, r.Time)
	}
	dst = append(dst, `,"correlation_id":`...)
	dst = AppendJSONString(dst, r.CorrelationID)
	return append(dst, '}', '\n')
}
