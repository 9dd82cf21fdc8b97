package codec

import (
	"strconv"
	"time"

	"github.com/labsea/metricsender/generator"
)

// AppendEnvelope appends the JSON envelope of ev to dst and returns the
// extended slice:
//
//	{"app":"app1","metrics":{"cpu":"0.5","memory":"512"},"seq":17,"run":"6f1c2a9e","time":"2026-11-25T17:30:00.000Z"}
//
// Metrics appear in the order of ev.Metrics (the generator keeps them sorted
// by name). Strings are escaped as valid JSON: '"', '\\' and control
// characters are escaped, U+2028 and U+2029 too (for JavaScript consumers),
// and invalid UTF-8 bytes become U+FFFD, as encoding/json does. HTML
// characters (<, >, &) are not escaped. The time is ev.Time in UTC with
// millisecond precision (truncated) and a Z suffix. An event a fault
// changed adds "fault" (ev.Fault) and, after suppressed seqs, "dropped"
// (ev.Dropped), after "time"; other events never carry them. It is pure
// and allocates only when dst lacks capacity.
func AppendEnvelope(dst []byte, ev generator.Event) []byte {
	return appendEnvelope(dst, ev, nil)
}

// appendEnvelope is AppendEnvelope with an optional pre-formatted time
// (the quoted JSON string), so a batch of one tick formats it once.
func appendEnvelope(dst []byte, ev generator.Event, quotedTime []byte) []byte {
	dst = append(dst, `{"app":`...)
	dst = appendJSONString(dst, ev.App)
	dst = append(dst, `,"metrics":`...)
	dst = appendMetrics(dst, ev.Metrics, false)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, ev.Seq, 10)
	dst = append(dst, `,"run":`...)
	dst = appendJSONString(dst, ev.Run)
	dst = append(dst, `,"time":`...)
	if quotedTime != nil {
		dst = append(dst, quotedTime...)
	} else {
		dst = appendQuotedTime(dst, ev.Time)
	}
	dst = appendFault(dst, ev.Fault, ev.Dropped, false)
	return append(dst, '}')
}

// appendMetrics appends metrics as a JSON object of name: text, in their
// order, quoted in the envelope's form or (asEncodingJSON) encoding/json's.
func appendMetrics(dst []byte, metrics []generator.Metric, asEncodingJSON bool) []byte {
	dst = append(dst, '{')
	for i, m := range metrics {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendQuoted(dst, m.Name, asEncodingJSON)
		dst = append(dst, ':')
		dst = appendQuoted(dst, m.Value.Text, asEncodingJSON)
	}
	return append(dst, '}')
}

// appendFault appends the ,"fault" and ,"dropped" fields, each only when
// set, quoted as appendMetrics quotes.
func appendFault(dst []byte, fault string, dropped uint64, asEncodingJSON bool) []byte {
	if fault != "" {
		dst = append(dst, `,"fault":`...)
		dst = appendQuoted(dst, fault, asEncodingJSON)
	}
	if dropped > 0 {
		dst = append(dst, `,"dropped":`...)
		dst = strconv.AppendUint(dst, dropped, 10)
	}
	return dst
}

// envelopeSizeHint estimates the envelope's length without escaping, so a
// buffer of this size usually needs no growth.
func envelopeSizeHint(ev generator.Event) int {
	n := len(`{"app":"","metrics":{},"seq":,"run":"","time":"2006-01-02T15:04:05.000Z"}`) + 20
	n += len(ev.App) + len(ev.Run) + len(ev.Fault)
	if ev.Fault != "" || ev.Dropped > 0 {
		n += len(`,"fault":"","dropped":`) + 20
	}
	for _, m := range ev.Metrics {
		n += len(m.Name) + len(m.Value.Text) + len(`"":"",`)
	}
	return n
}

// appendQuotedTime appends t as "2006-01-02T15:04:05.000Z" (UTC, millis).
func appendQuotedTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		// Not representable in RFC 3339; let the time package say what it can.
		dst = append(dst, '"')
		dst = t.AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
		return append(dst, '"')
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	dst = append(dst, '"')
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, ms, 3)
	return append(dst, 'Z', '"')
}

// appendDigits appends v (0 <= v < 10^width) zero-padded to width digits.
func appendDigits(dst []byte, v, width int) []byte {
	var buf [4]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[:width]...)
}
