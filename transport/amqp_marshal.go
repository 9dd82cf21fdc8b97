package transport

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
)

// wireMarshaler maps a message in its codec form (metadata keys of package
// codec) to AMQP basic properties exactly as is-wire does (see WIRE.md),
// and back. It implements watermill-amqp's Marshaler, so the subscriber and
// our publisher share one mapping. The zero value is ready to use and it is
// safe for concurrent use.
//
// Marshal puts on the wire only what is-wire puts there: reply_to,
// correlation_id, timestamp (milliseconds, in the field AMQP defines in
// seconds), content_type, content_encoding, one string header per metric,
// and the body. It never sets message_id, delivery_mode, priority, type,
// app_id or expiration, and no header other than the metrics.
//
// Unmarshal reads header values as the Python receiver prints them (see
// pythonText). It never fails: what cannot be mapped (a boolean, a table,
// bytes, a timestamp or void as a header) is reported in codec.KeyDecodeError, so the handler counts it instead of
// the subscriber nacking the delivery in a loop.
type wireMarshaler struct{}

// errContentType is returned by Marshal for a content type a Python
// consumer would reject (it raises and loses the message).
var errContentType = errors.New("content type must be empty, " + codec.ContentTypeJSON + " or " + codec.ContentTypeProtobuf)

// Marshal builds the AMQP publishing of msg. It fails when the content type
// is not one is-wire accepts or the timestamp is not an integer.
func (wireMarshaler) Marshal(msg *message.Message) (amqp091.Publishing, error) {
	return marshalWire(msg.Metadata, msg.Payload)
}

// marshalWire is Marshal without the interface: the publisher's hot path.
// It walks the metadata once and allocates only the headers table.
func marshalWire(md message.Metadata, body []byte) (amqp091.Publishing, error) {
	p := amqp091.Publishing{Body: body}
	// Headers are always a non-nil table: is-wire always sends one. (amqp091-go
	// leaves an empty table off the wire; metric messages are never empty.)
	headers := make(amqp091.Table, len(md))
	for k, v := range md {
		switch k {
		case codec.KeyReplyTo:
			p.ReplyTo = v
		case codec.KeyCorrelationID:
			p.CorrelationId = v
		case codec.KeyContentType:
			if !validContentType(v) {
				return amqp091.Publishing{}, fmt.Errorf("marshal %q: %w", v, errContentType)
			}
			p.ContentType = v
		case codec.KeyContentEncoding:
			p.ContentEncoding = v
		case codec.KeyTimestamp:
			if v == "" {
				continue
			}
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return amqp091.Publishing{}, fmt.Errorf("marshal timestamp %q: %w", v, err)
			}
			// amqp091-go writes Timestamp.Unix() (seconds): time.Unix(ms, 0)
			// puts the milliseconds is-wire expects on the wire.
			p.Timestamp = time.Unix(ms, 0)
		default:
			if name, ok := strings.CutPrefix(k, codec.MetricPrefix); ok {
				headers[name] = v
			}
		}
	}
	p.Headers = headers
	return p, nil
}

// checkWire reports what Marshal would reject, without building anything,
// so Publish can refuse a bad call before any of it is sent.
func checkWire(md message.Metadata) error {
	if ct := md[codec.KeyContentType]; !validContentType(ct) {
		return fmt.Errorf("marshal %q: %w", ct, errContentType)
	}
	if ts := md[codec.KeyTimestamp]; ts != "" {
		if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
			return fmt.Errorf("marshal timestamp %q: %w", ts, err)
		}
	}
	return nil
}

func validContentType(ct string) bool {
	return ct == "" || ct == codec.ContentTypeJSON || ct == codec.ContentTypeProtobuf
}

// Unmarshal maps a delivery to the codec form. It never returns an error.
// The message UUID is the correlation id when there is one (the same
// message redelivered keeps its UUID), else consumer tag and delivery tag,
// which are unique within the consumer's lifetime.
func (wireMarshaler) Unmarshal(d amqp091.Delivery) (*message.Message, error) {
	md := make(message.Metadata, 6+len(d.Headers))
	md[codec.KeyTopic] = d.RoutingKey
	setIf(md, codec.KeyReplyTo, d.ReplyTo)
	setIf(md, codec.KeyCorrelationID, d.CorrelationId)
	setIf(md, codec.KeyContentType, d.ContentType)
	setIf(md, codec.KeyContentEncoding, d.ContentEncoding)
	if !d.Timestamp.IsZero() {
		md[codec.KeyTimestamp] = strconv.FormatInt(d.Timestamp.Unix(), 10)
	}
	var (
		bad      string // the first offending header by name, so the text is stable
		foundBad bool
	)
	for k, v := range d.Headers {
		if brokerHeader(k) || k == codec.RPCStatus {
			continue // the broker's annotation or an is-wire reply's status: not a metric
		}
		if text, ok := pythonText(v); ok {
			md[codec.MetricPrefix+k] = text
			continue
		}
		if !foundBad || k < bad {
			bad, foundBad = k, true
		}
	}
	if foundBad {
		md[codec.KeyDecodeError] = fmt.Sprintf("header %q: %s, want a string or a number", bad, headerType(d.Headers[bad]))
	}

	uuid := d.CorrelationId
	switch {
	case uuid != "":
	case d.ConsumerTag != "":
		uuid = d.ConsumerTag + ":" + strconv.FormatUint(d.DeliveryTag, 10)
	default:
		uuid = watermill.NewULID()
	}
	msg := message.NewMessage(uuid, d.Body)
	msg.Metadata = md
	return msg, nil
}

func setIf(md message.Metadata, k, v string) {
	if v != "" {
		md[k] = v
	}
}

// headerType names the AMQP field type of a header value.
func headerType(v any) string {
	switch v.(type) {
	case nil:
		return "void"
	case bool:
		return "bool"
	case amqp091.Table:
		return "table"
	case []any:
		return "array"
	case []byte:
		return "bytes"
	case time.Time:
		return "timestamp"
	case amqp091.Decimal:
		return "decimal"
	default:
		return fmt.Sprintf("%T", v) // int32, int64, float64, ...
	}
}

// brokerHeader reports a header RabbitMQ adds on its own: x-delivery-count
// on every redelivery from a quorum queue (an integer), x-death and
// x-{first,last}-death-* on dead-lettering. They are not metrics, and a
// redelivered message must not turn undecodable because of them.
func brokerHeader(k string) bool {
	return k == "x-delivery-count" || k == "x-death" ||
		strings.HasPrefix(k, "x-first-death-") || strings.HasPrefix(k, "x-last-death-")
}
