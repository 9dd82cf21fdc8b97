package codec

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ThreeDotsLabs/watermill/message"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/labsea/metricsender/generator"
)

// ErrDecode wraps every Decode failure: match it with errors.Is. The
// message says what is wrong in one short line and never dumps the body.
var ErrDecode = errors.New("decode")

// Received is a decoded wire message.
type Received struct {
	// App is reply_to, or the topic after the prefix ("Metrics." for
	// Decode, DecodeTopic's prefix otherwise) when reply_to is empty.
	App string
	// Topic is the routing topic (KeyTopic); empty when the transport did
	// not set it.
	Topic string
	// CorrelationID is the is-wire correlation id as sent (not checked).
	CorrelationID string
	// Metrics come from the metric.* metadata (the AMQP headers), sorted by
	// name, without RPCStatus. Value.Text is the header text; Num and
	// HasNum are set when the text is a finite decimal number or a
	// Kubernetes quantity ("200m" is 0.2, "128Mi" 134217728).
	Metrics []generator.Metric
	// Time is KeyTimestamp (milliseconds), or, without it, the envelope's
	// time, in UTC; zero when neither is there.
	Time time.Time
	// HasEnvelope reports that the body was metricsender's JSON envelope
	// and agreed with the headers.
	HasEnvelope bool
	// Seq and Run come from the envelope; zero and empty without one.
	Seq uint64
	Run string
	// Fault and Dropped come from the envelope: the faults injected into
	// this message ("stale,corrupt"; "duplicate" or "burst" on an extra
	// copy) and the seqs suppressed on purpose just before it.
	Fault   string
	Dropped uint64
	// Mismatch says how the body, shaped like metricsender's envelope,
	// disagrees with the headers; empty when it agrees or is not an
	// envelope. Such a message is read from its headers alone.
	Mismatch string
}

// RPCStatus is the header an is-wire reply carries its status in. is-wire
// takes it out of the metadata, so it is not a metric.
const RPCStatus = "rpc-status"

// Decode reads a wire message as the Python receiver (is-wire-py) reads it:
// the headers are the message, whatever the body. The body is read only
// when it is metricsender's envelope (strict: exactly the known fields with
// their types) and agrees with the headers (same app, same metrics and
// texts, same time); only then does rcv carry Seq and Run. Any other body
// (empty, as the Python sender sent; protobuf; another program's JSON) is
// ignored, and an envelope that disagrees is reported in rcv.Mismatch.
//
// It fails, with an error wrapping ErrDecode, only when is-wire-py would not
// deliver the message either, or it names no app:
//   - KeyDecodeError is set (the transport could not map the delivery: a
//     header of a type is-wire does not print);
//   - the content type is not empty, application/json or
//     application/x-protobuf;
//   - reply_to is empty and the topic is not Metrics.{app} (DecodeTopic:
//     not {prefix}{app});
//   - the app name is not UTF-8;
//   - KeyTimestamp is not a decimal integer;
//   - a metric key is "metric." with no name.
//
// Metadata keys other than the codec's and the metrics are ignored. Decode
// never panics, whatever the message, and is safe for concurrent use.
func Decode(msg *message.Message) (Received, error) {
	return DecodeTopic(msg, TopicPrefix)
}

// DecodeTopic is Decode for a family of topics other than Metrics.*: with
// reply_to empty, the app is the topic after prefix ("Allocation." for the
// feedback messages of Allocation.{app}). Every other rule, and every
// guarantee, is Decode's; Decode is DecodeTopic(msg, TopicPrefix). An empty
// prefix takes the whole topic as the app.
func DecodeTopic(msg *message.Message, prefix string) (Received, error) {
	return decodeTopic(msg, prefix, true)
}

// decodeTopic is DecodeTopic; without numbers it leaves each metric's
// Value.Num unset, for DecodeAllocation, which parses the texts by its
// own rule (so each is parsed once).
func decodeTopic(msg *message.Message, prefix string, numbers bool) (rcv Received, err error) {
	defer func() {
		if p := recover(); p != nil {
			rcv, err = Received{}, fmt.Errorf("%w: internal error: %v", ErrDecode, p)
		}
	}()
	if msg == nil {
		return Received{}, decodeError("nil message")
	}
	md := msg.Metadata
	if text, ok := md[KeyDecodeError]; ok {
		if text == "" {
			text = "transport could not map the delivery"
		}
		return Received{}, decodeError(oneLine(text))
	}
	ct := md[KeyContentType]
	if ct != "" && ct != ContentTypeJSON && ct != ContentTypeProtobuf {
		return Received{}, decodeError(fmt.Sprintf("content type %q: is-wire reads only %s and %s", clip(ct), ContentTypeJSON, ContentTypeProtobuf))
	}

	rcv = Received{
		App:           md[KeyReplyTo],
		Topic:         md[KeyTopic],
		CorrelationID: md[KeyCorrelationID],
	}
	if rcv.App == "" {
		app, ok := strings.CutPrefix(rcv.Topic, prefix)
		if !ok || app == "" {
			return Received{}, decodeError(fmt.Sprintf("no reply_to, and topic %q is not %s{app}", clip(rcv.Topic), prefix))
		}
		rcv.App = app
	}
	if !utf8.ValidString(rcv.App) {
		return Received{}, decodeError(fmt.Sprintf("app name %q is not UTF-8", clip(rcv.App)))
	}
	if rcv.Metrics, err = metricsOf(md, numbers); err != nil {
		return Received{}, err
	}
	hasTimestamp := false
	if ts, ok := md[KeyTimestamp]; ok {
		ms, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return Received{}, decodeError(fmt.Sprintf("timestamp %q: not an integer of milliseconds", clip(ts)))
		}
		rcv.Time, hasTimestamp = time.UnixMilli(ms).UTC(), true
	}

	if len(msg.Payload) == 0 || ct == ContentTypeProtobuf {
		return rcv, nil
	}
	env, err := parseEnvelope(msg.Payload, len(rcv.Metrics))
	if err != nil {
		return rcv, nil // not our envelope: another program's body, read from the headers
	}
	if err := checkEnvelope(env, rcv, hasTimestamp); err != nil {
		rcv.Mismatch = err.Error()
		return rcv, nil
	}
	if !hasTimestamp {
		rcv.Time = env.time.UTC()
	}
	rcv.HasEnvelope, rcv.Seq, rcv.Run = true, env.seq, string(env.run)
	rcv.Fault, rcv.Dropped = string(env.fault), env.dropped
	return rcv, nil
}

// metricsOf collects the metric.* entries of md, sorted by name; with
// numbers, each value's Num is parsed (parseValue).
func metricsOf(md message.Metadata, numbers bool) ([]generator.Metric, error) {
	n := 0 // counted first: a slice of exactly n, not one per header
	for k := range md {
		if strings.HasPrefix(k, MetricPrefix) {
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	ms := make([]generator.Metric, 0, n)
	for k, text := range md {
		name, ok := strings.CutPrefix(k, MetricPrefix)
		if !ok {
			continue
		}
		if name == "" {
			return nil, decodeError("metric with an empty name")
		}
		if name == RPCStatus {
			continue
		}
		v := generator.Value{Text: text}
		if numbers {
			v = parseValue(text)
		}
		ms = append(ms, generator.Metric{Name: name, Value: v})
	}
	slices.SortFunc(ms, func(a, b generator.Metric) int { return strings.Compare(a.Name, b.Name) })
	return ms, nil
}

// parseValue sets Num when text is a finite decimal number (0.5, 1e3) or
// a Kubernetes quantity (200m, 128Mi) in base units. The character check
// first keeps plain numbers off the slower quantity parser.
func parseValue(text string) generator.Value {
	v := generator.Value{Text: text}
	if f, ok := parseDecimal(text); ok {
		v.Num, v.HasNum = f, true
		return v
	}
	q, err := resource.ParseQuantity(text)
	if err != nil {
		return v
	}
	if f := q.AsApproximateFloat64(); !math.IsInf(f, 0) && !math.IsNaN(f) {
		v.Num, v.HasNum = f, true
	}
	return v
}

// parseDecimal parses text when it is made of decimal-number characters
// only, so "NaN", "Inf" and hex floats are not numbers here.
func parseDecimal(text string) (float64, bool) {
	digits := false
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case '0' <= c && c <= '9':
			digits = true
		case c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E':
		default:
			return 0, false
		}
	}
	if !digits {
		return 0, false
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// checkEnvelope says where env disagrees with the metadata in rcv.
func checkEnvelope(env envelope, rcv Received, hasTimestamp bool) error {
	if string(env.app) != rcv.App {
		return fmt.Errorf("envelope app %q differs from app %q", clip(string(env.app)), clip(rcv.App))
	}
	if len(env.metrics) != len(rcv.Metrics) {
		return fmt.Errorf("envelope has %d metrics, headers %d", len(env.metrics), len(rcv.Metrics))
	}
	for i, m := range env.metrics {
		h := rcv.Metrics[i]
		if string(m.name) != h.Name {
			return fmt.Errorf("envelope metrics differ from headers: %q vs %q", clip(string(m.name)), clip(h.Name))
		}
		if string(m.text) != h.Value.Text {
			return fmt.Errorf("envelope metric %q is %q, header %q", clip(h.Name), clip(string(m.text)), clip(h.Value.Text))
		}
	}
	if hasTimestamp && env.time.UnixMilli() != rcv.Time.UnixMilli() {
		return errors.New("envelope time differs from the timestamp")
	}
	return nil
}

func decodeError(what string) error {
	return fmt.Errorf("%w: %s", ErrDecode, what)
}

// oneLine makes a transport's error text fit one short line.
func oneLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return strconv.Quote(clip(s))
		}
	}
	const max = 200
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
