package codec

import (
	"strconv"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/generator"
)

// Encode returns the wire message of ev (see the package doc for the
// mapping). corrID becomes the is-wire correlation id in upper-case hex
// without padding ("9F3A0C11D2E4B577"), which is also the message UUID.
//
// Metadata holds exactly KeyTopic, KeyReplyTo, KeyCorrelationID,
// KeyTimestamp (ev.Time in milliseconds), KeyContentType
// (application/json) and one MetricPrefix+name entry per metric; the
// payload is AppendEnvelope's JSON. Encode is pure (no randomness, no
// clock) and does not validate ev: the config loader guarantees valid app
// and metric names. The message shares no memory with ev's slices.
func Encode(ev generator.Event, corrID uint64) *message.Message {
	var e encoder
	return e.encode(ev, corrID)
}

// encoder encodes events one after another, reusing what consecutive
// events of one tick share: the formatted time and the metric keys (apps
// usually have the same metric names). Not safe for concurrent use; the
// zero value is ready.
type encoder struct {
	timeMs     int64
	timeSet    bool
	timestamp  string // timeMs as decimal text
	quotedTime []byte // the envelope's "time" value, quoted

	names []string // metric names seen last, by position
	keys  []string // MetricPrefix+names[i]

	scratch []byte // builds the strings of one message
}

func (e *encoder) encode(ev generator.Event, corrID uint64) *message.Message {
	e.setTime(ev)

	// One string holds the topic and the correlation id of the message:
	// one allocation instead of two.
	s := e.scratch[:0]
	s = append(s, TopicPrefix...)
	s = append(s, ev.App...)
	topicEnd := len(s)
	s = appendUpperHex(s, corrID)
	e.scratch = s
	str := string(s)
	topic, id := str[:topicEnd], str[topicEnd:]

	payload := make([]byte, 0, envelopeSizeHint(ev))
	payload = appendEnvelope(payload, ev, e.quotedTime)

	msg := message.NewMessage(id, payload)
	// NewMessage's map holds 8 entries without growing; pre-size beyond.
	if n := 5 + len(ev.Metrics); n > 8 {
		msg.Metadata = make(message.Metadata, n)
	}
	md := msg.Metadata
	md[KeyTopic] = topic
	md[KeyReplyTo] = ev.App
	md[KeyCorrelationID] = id
	md[KeyTimestamp] = e.timestamp
	md[KeyContentType] = ContentTypeJSON
	for i, m := range ev.Metrics {
		md[e.metricKey(i, m.Name)] = m.Value.Text
	}
	return msg
}

// setTime formats ev.Time unless it is the time of the previous event.
func (e *encoder) setTime(ev generator.Event) {
	ms := ev.Time.UnixMilli()
	if e.timeSet && ms == e.timeMs {
		return
	}
	e.timeMs, e.timeSet = ms, true
	e.timestamp = strconv.FormatInt(ms, 10)
	e.quotedTime = appendQuotedTime(e.quotedTime[:0], ev.Time)
}

// metricKey returns MetricPrefix+name, reusing the key of the previous
// event's i-th metric when the name is the same.
func (e *encoder) metricKey(i int, name string) string {
	if i < len(e.names) {
		if e.names[i] == name {
			return e.keys[i]
		}
		e.names[i], e.keys[i] = name, MetricPrefix+name
		return e.keys[i]
	}
	key := MetricPrefix + name
	e.names = append(e.names, name)
	e.keys = append(e.keys, key)
	return key
}

const upperHex = "0123456789ABCDEF"

// appendUpperHex appends v as upper-case hex without padding, like fmt's %X.
func appendUpperHex(dst []byte, v uint64) []byte {
	var buf [16]byte
	i := len(buf)
	for {
		i--
		buf[i] = upperHex[v&0xf]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}
