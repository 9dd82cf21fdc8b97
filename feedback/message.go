package feedback

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// SourceBus names the bus as the source of an observation (see
// generator.Source).
const SourceBus = "bus"

// Reserved header names of a feedback message; every other header is an
// allocation.
const (
	HeaderReplicas = "replicas"
	HeaderReady    = "ready"
)

var (
	// ErrBadValue is returned (wrapped, naming the header) by Parse when a
	// header is not a number or a Kubernetes quantity.
	ErrBadValue = errors.New("bad value")
	// ErrNoField is returned by Parse for a message with no header at all:
	// it could change nothing.
	ErrNoField = errors.New("no feedback header (replicas, ready or an allocation such as cpu)")
)

// maxValueBytes bounds a header value's text: no number is longer, and an
// error must not quote a whole made-up header.
const maxValueBytes = 64

// Feedback is one feedback message as an observation of its app.
type Feedback struct {
	// App is the deployment the message is about (reply_to, else the
	// routing key after the prefix).
	App string
	// CorrelationID is the correlation_id of the Metrics.{app} message the
	// operator answers, as sent; empty when the message has none. The
	// Observation carries it too, for the reaction tracking that matches
	// requests by it.
	CorrelationID string
	// Sent is the message's timestamp; zero when it has none. The
	// observation itself is dated by its receipt ("latest" is the order of
	// receipt).
	Sent time.Time
	// Observation carries the headers: Source is SourceBus and At is zero
	// (Observe dates it).
	Observation generator.Observation
}

// Parse turns a decoded feedback message into an observation of its app:
// the header replicas into Replicas, ready into Ready, any other into
// Allocation under its own name, each parsed by generator.ParseNumber. It
// fails with ErrNoField when there is no header, and with an error
// wrapping ErrBadValue naming every header whose value does not parse.
// Ranges (a negative value, a bad allocation name) are checked by
// generator.Schedule.Observe, not here. Pure, safe for concurrent use.
func Parse(rcv codec.Received) (Feedback, error) {
	fb := Feedback{App: rcv.App, CorrelationID: rcv.CorrelationID, Sent: rcv.Time,
		Observation: generator.Observation{Source: SourceBus, CorrelationID: rcv.CorrelationID}}
	if len(rcv.Metrics) == 0 {
		return fb, ErrNoField
	}
	ob := &fb.Observation
	var errs []error
	for _, m := range rcv.Metrics { // sorted by name: errors come in a stable order
		v, err := parseValue(m.Value.Text)
		if err != nil {
			errs = append(errs, fmt.Errorf("header %q: %w", clip(m.Name), err))
			continue
		}
		switch m.Name {
		case HeaderReplicas:
			ob.Replicas, ob.HasReplicas = v, true
		case HeaderReady:
			ob.Ready, ob.HasReady = v, true
		default:
			if ob.Allocation == nil {
				ob.Allocation = make(map[string]float64, len(rcv.Metrics))
			}
			ob.Allocation[m.Name] = v
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fb, fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	return fb, nil
}

// parseValue is generator.ParseNumber on text of a sane length.
func parseValue(text string) (float64, error) {
	if len(text) > maxValueBytes {
		return 0, fmt.Errorf("%d bytes, too long for a number", len(text))
	}
	if strings.TrimSpace(text) == "" {
		return 0, errors.New("empty")
	}
	return generator.ParseNumber(text)
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
