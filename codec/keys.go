package codec

// Metadata keys of a wire message in its watermill form. The codec's own
// keys carry the "iswire." prefix and metrics the "metric." prefix, so a
// metric named reply_to cannot collide with the property of that name.
const (
	// KeyTopic is the routing topic, Metrics.{app}. Publishers send a message
	// to this topic when it is set (see transport.Pair).
	KeyTopic = "iswire.topic"
	// KeyReplyTo is the is-wire reply_to: the app name.
	KeyReplyTo = "iswire.reply_to"
	// KeyCorrelationID is the is-wire correlation id: upper-case hex of a uint64.
	KeyCorrelationID = "iswire.correlation_id"
	// KeyTimestamp is the message time in milliseconds since the Unix epoch,
	// as a decimal string.
	KeyTimestamp = "iswire.timestamp_ms"
	// KeyContentType is the content type: empty, "application/json" or
	// "application/x-protobuf".
	KeyContentType = "iswire.content_type"
	// KeyContentEncoding is the AMQP content_encoding (the Python sender sets utf-8).
	KeyContentEncoding = "iswire.content_encoding"
	// KeyDecodeError is set by a transport's unmarshaler when a delivery
	// could not be mapped (a non-string header, say): Decode then fails with
	// this text, so the handler counts and reports it instead of the
	// transport nacking it in a loop.
	KeyDecodeError = "iswire.decode_error"

	// MetricPrefix prefixes the metadata key of each metric: "metric.cpu".
	MetricPrefix = "metric."

	// TopicPrefix is the first word of every metric topic.
	TopicPrefix = "Metrics."
	// AllocationPrefix is the first word of every Allocation topic: what
	// an operator applied to an app is published on Allocation.{app}.
	AllocationPrefix = "Allocation."

	// ContentTypeJSON is the content type of metricsender's envelope.
	ContentTypeJSON = "application/json"
	// ContentTypeProtobuf is the other content type is-wire knows.
	ContentTypeProtobuf = "application/x-protobuf"
)

// Topic returns the topic of app's messages, Metrics.{app}.
func Topic(app string) string { return TopicPrefix + app }
