package codec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/generator"
)

// AllocationTopic returns the topic of what was applied to app,
// Allocation.{app}.
func AllocationTopic(app string) string { return AllocationPrefix + app }

// Reserved header names of an Allocation message; every other header is
// an allocation of that name.
const (
	HeaderReplicas = "replicas"
	HeaderReady    = "ready"
)

var (
	// ErrBadValue is returned (wrapped, naming the header) by
	// DecodeAllocation when a header is not a number or a Kubernetes
	// quantity.
	ErrBadValue = errors.New("bad value")
	// ErrNoField is returned by DecodeAllocation for a message with no
	// header at all: it could change nothing.
	ErrNoField = errors.New("no feedback header (replicas, ready or an allocation such as cpu)")
)

// maxValueBytes bounds an Allocation header's text: no number is longer,
// and an error must not quote a whole made-up header.
const maxValueBytes = 64

// Allocation is one Allocation.{app} message (WIRE.md): what an operator
// applied to one app. Values are in base units ("750m" is 0.75).
type Allocation struct {
	// App is the app the message is about (reply_to, else the topic after
	// the prefix).
	App string
	// CorrelationID is the correlation_id of the Metrics.{app} message
	// the operator answers, as sent; empty when there is none.
	CorrelationID string
	// Time is the message's timestamp (milliseconds); zero when it has
	// none.
	Time time.Time
	// Replicas and Ready are the headers replicas and ready; the Has
	// flags say which the message carries.
	Replicas, Ready       float64
	HasReplicas, HasReady bool
	// Resources is every other header, by name: what is applied per
	// metric (the CPU request, say). Nil when there is none.
	Resources map[string]float64
}

// Observation is a as the generator's feedback from source: each field
// a carries, and its correlation id; At is left zero (Observe dates it).
func (a Allocation) Observation(source string) generator.Observation {
	return generator.Observation{Source: source, Replicas: a.Replicas, HasReplicas: a.HasReplicas,
		Ready: a.Ready, HasReady: a.HasReady, Allocation: a.Resources, CorrelationID: a.CorrelationID}
}

// EncodeAllocation returns the wire message of a: topic Allocation.{app},
// reply_to the app, the correlation id when not empty, the timestamp in
// milliseconds when Time is not zero, and the values as string headers
// (replicas, ready, then each resource by name, in plain decimal as
// strconv 'f' writes them), no body. Its UUID is a fresh ULID. The caller
// keeps Resources free of the reserved names and of names a header
// cannot carry; a value outside what DecodeAllocation reads (not finite,
// over 9e15 in magnitude, or so small that its plain decimal text is over
// 64 bytes, below about 1e-48) is sent as written and refused on receipt.
func EncodeAllocation(a Allocation) *message.Message {
	msg := message.NewMessage(watermill.NewULID(), nil)
	md := msg.Metadata
	md.Set(KeyTopic, AllocationTopic(a.App))
	md.Set(KeyReplyTo, a.App)
	if a.CorrelationID != "" {
		md.Set(KeyCorrelationID, a.CorrelationID)
	}
	if !a.Time.IsZero() {
		md.Set(KeyTimestamp, strconv.FormatInt(a.Time.UnixMilli(), 10))
	}
	if a.HasReplicas {
		md.Set(MetricPrefix+HeaderReplicas, formatAllocation(a.Replicas))
	}
	if a.HasReady {
		md.Set(MetricPrefix+HeaderReady, formatAllocation(a.Ready))
	}
	for name, v := range a.Resources {
		md.Set(MetricPrefix+name, formatAllocation(v))
	}
	return msg
}

// formatAllocation is the text of one value: an integer as one ("4"),
// any other in the fewest digits that read back as the same float.
func formatAllocation(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// DecodeAllocation reads an Allocation message: DecodeTopic's rules with
// prefix (AllocationPrefix unless a feedback pattern says otherwise),
// then each header's text parsed once, by generator.ParseNumber (a plain
// decimal or a Kubernetes quantity; finer than 1m, or over 9e15 in
// magnitude, is an error), at most 64 bytes.
//
// It fails with an error wrapping ErrDecode when DecodeTopic would; with
// ErrNoField when the message has no header; with an error wrapping
// ErrBadValue naming every header whose value does not parse. With
// ErrNoField and ErrBadValue, the App, CorrelationID and Time of the
// result are set. Ranges (a negative value, a bad allocation name) are
// the recorder's to check (generator.Schedule.Observe), not this.
// It never panics and is safe for concurrent use.
func DecodeAllocation(msg *message.Message, prefix string) (Allocation, error) {
	rcv, err := decodeTopic(msg, prefix, false)
	if err != nil {
		return Allocation{}, err
	}
	a := Allocation{App: rcv.App, CorrelationID: rcv.CorrelationID, Time: rcv.Time}
	if len(rcv.Metrics) == 0 {
		return a, ErrNoField
	}
	var errs []error
	for _, m := range rcv.Metrics { // sorted by name: errors come in a stable order
		v, err := parseAllocation(m.Value.Text)
		if err != nil {
			errs = append(errs, fmt.Errorf("header %q: %w", clip(m.Name), err))
			continue
		}
		switch m.Name {
		case HeaderReplicas:
			a.Replicas, a.HasReplicas = v, true
		case HeaderReady:
			a.Ready, a.HasReady = v, true
		default:
			if a.Resources == nil {
				a.Resources = make(map[string]float64, len(rcv.Metrics))
			}
			a.Resources[m.Name] = v
		}
	}
	if err := errors.Join(errs...); err != nil {
		return a, fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	return a, nil
}

// parseAllocation is generator.ParseNumber on text of a sane length.
func parseAllocation(text string) (float64, error) {
	if len(text) > maxValueBytes {
		return 0, fmt.Errorf("%d bytes, too long for a number", len(text))
	}
	if strings.TrimSpace(text) == "" {
		return 0, errors.New("empty")
	}
	return generator.ParseNumber(text)
}
