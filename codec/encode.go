package codec

import (
	"slices"
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
	var stack [256]byte // the strings of one message, usually without a heap buffer
	msg, _ := e.encode(stack[:0], ev, corrID)
	return msg
}

// encoder encodes events. With reuse set (a batch of one tick) it keeps
// what consecutive events share: the formatted time and the metric keys
// (apps usually have the same metric names). Not safe for concurrent use;
// the zero value encodes without reuse.
type encoder struct {
	reuse bool

	timeSet    bool
	timeMs     int64
	timestamp  string // timeMs as decimal text
	quotedTime []byte // the envelope's "time" value, quoted

	names []string // metric names of the previous event
	keys  []string // MetricPrefix+names[i]

	// arena holds the payloads of a batch back to back: one allocation per
	// batch instead of one per message. See reserve.
	arena []byte
}

// reserve makes room in the arena for n bytes of payloads.
func (e *encoder) reserve(n int) {
	if cap(e.arena)-len(e.arena) < n {
		e.arena = make([]byte, 0, n)
	}
}

// encode builds the message of ev. All its new strings (topic, id, and
// when not reused the timestamp and metric keys) are cut from one string,
// built in buf: one allocation instead of up to 3+len(ev.Metrics). It
// returns buf for reuse.
func (e *encoder) encode(buf []byte, ev generator.Event, corrID uint64) (*message.Message, []byte) {
	ms := ev.Time.UnixMilli()
	sameTime := e.reuse && e.timeSet && ms == e.timeMs
	sameKeys := e.reuse && slices.EqualFunc(e.names, ev.Metrics, func(n string, m generator.Metric) bool { return n == m.Name })

	s := append(buf[:0], TopicPrefix...)
	s = append(s, ev.App...)
	topicEnd := len(s)
	s = appendUpperHex(s, corrID)
	idEnd := len(s)
	if !sameTime {
		s = strconv.AppendInt(s, ms, 10)
	}
	tsEnd := len(s)
	if !sameKeys {
		for _, m := range ev.Metrics {
			s = append(s, MetricPrefix...)
			s = append(s, m.Name...)
		}
	}
	str := string(s)
	topic, id := str[:topicEnd], str[topicEnd:idEnd]

	timestamp, quotedTime := e.timestamp, e.quotedTime
	if !sameTime {
		timestamp, quotedTime = str[idEnd:tsEnd], nil
		if e.reuse {
			e.timeSet, e.timeMs, e.timestamp = true, ms, timestamp
			e.quotedTime = appendQuotedTime(e.quotedTime[:0], ev.Time)
			quotedTime = e.quotedTime
		}
	}

	var payload []byte
	if e.reuse {
		// Each payload is capped at its length, so an append to one
		// reallocates instead of overwriting the next.
		e.reserve(envelopeSizeHint(ev))
		start := len(e.arena)
		e.arena = appendEnvelope(e.arena, ev, quotedTime)
		payload = e.arena[start:len(e.arena):len(e.arena)]
	} else {
		payload = appendEnvelope(make([]byte, 0, envelopeSizeHint(ev)), ev, quotedTime)
	}

	msg := message.NewMessage(id, payload)
	// NewMessage's map holds 8 entries without growing; pre-size beyond.
	if n := 5 + len(ev.Metrics); n > 8 {
		msg.Metadata = make(message.Metadata, n)
	}
	md := msg.Metadata
	md[KeyTopic] = topic
	md[KeyReplyTo] = ev.App
	md[KeyCorrelationID] = id
	md[KeyTimestamp] = timestamp
	md[KeyContentType] = ContentTypeJSON
	if sameKeys {
		for i, m := range ev.Metrics {
			md[e.keys[i]] = m.Value.Text
		}
		return msg, s
	}
	if e.reuse {
		e.names, e.keys = e.names[:0], e.keys[:0]
	}
	at := tsEnd
	for _, m := range ev.Metrics {
		end := at + len(MetricPrefix) + len(m.Name)
		key := str[at:end]
		at = end
		md[key] = m.Value.Text
		if e.reuse {
			e.names = append(e.names, m.Name)
			e.keys = append(e.keys, key)
		}
	}
	return msg, s
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
