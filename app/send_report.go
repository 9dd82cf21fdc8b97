package app

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/live"
	"github.com/labsea/metricsender/telemetry"
	"github.com/labsea/metricsender/transport"
)

// runTotals is the sender's own account of a run, from what the transport
// reports: each message ends in at most one of published, unroutable and
// dropped (the AMQP transport with confirms guarantees it; see
// transport.PublishHooks). Safe for concurrent use; the zero value is ready.
type runTotals struct {
	mu         sync.Mutex
	published  int
	unroutable int
	dropped    map[string]int // by transport.Drop* reason
}

func (t *runTotals) addPublished(n int) {
	t.mu.Lock()
	t.published += n
	t.mu.Unlock()
}

func (t *runTotals) addUnroutable(n int) {
	t.mu.Lock()
	t.unroutable += n
	t.mu.Unlock()
}

func (t *runTotals) addDropped(n int, reason string) {
	t.mu.Lock()
	if t.dropped == nil {
		t.dropped = make(map[string]int)
	}
	t.dropped[reason] += n
	t.mu.Unlock()
}

// sendMetrics is send's telemetry.Send, and beside it the run's own
// account (runTotals) for the stopped line: the transport's hooks tell both.
type sendMetrics struct {
	*telemetry.Send
	totals runTotals
}

var _ transport.PublishHooks = (*sendMetrics)(nil)

// newSendMetrics creates send's metrics and registers them with reg (see
// telemetry.NewSend).
func newSendMetrics(reg prometheus.Registerer, perApp bool) *sendMetrics {
	return &sendMetrics{Send: telemetry.NewSend(reg, perApp)}
}

// Published implements transport.PublishHooks.
func (m *sendMetrics) Published(topic string, n int) {
	m.totals.addPublished(n)
	m.Send.Published(topic, n)
}

// Dropped implements transport.PublishHooks.
func (m *sendMetrics) Dropped(n int, reason string) {
	m.totals.addDropped(n, reason)
	m.Send.Dropped(n, reason)
}

// Unroutable implements transport.PublishHooks.
func (m *sendMetrics) Unroutable(topic string) {
	m.totals.addUnroutable(1)
	m.Send.Unroutable(topic)
}

// runReport is a snapshot of runTotals.
type runReport struct {
	Published, Unroutable, Dropped int
	DroppedBy                      map[string]int
}

func (t *runTotals) report() runReport {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := runReport{Published: t.published, Unroutable: t.unroutable, DroppedBy: make(map[string]int, len(t.dropped))}
	for k, n := range t.dropped {
		r.DroppedBy[k] = n
		r.Dropped += n
	}
	return r
}

// Totals implements live.Readings: the stopped line's numbers so far.
func (m *sendMetrics) Totals() live.Totals {
	r := m.totals.report()
	return live.Totals{Published: r.Published, Dropped: r.Dropped, Unroutable: r.Unroutable}
}

// dropWhy explains each transport.Drop* reason by the flag behind it.
func dropWhy(reason string, o sendOptions) string {
	switch reason {
	case transport.DropBufferFull:
		return fmt.Sprintf("the outage buffer (--buffer %d) overflowed while the broker was unreachable, oldest first", o.buffer)
	case transport.DropShutdown:
		return fmt.Sprintf("still buffered when --shutdown-timeout (%s) ran out", o.shutdownTimeout)
	case transport.DropOutage:
		return fmt.Sprintf("the broker stayed unreachable longer than --connect-timeout (%s) at the end of the run", o.conn.timeout)
	case transport.DropFailed:
		return "a publish failed (see the error above)"
	default:
		return reason
	}
}

// dropLine is the one line that says how many messages a run dropped and
// why ("" when none): "12 messages dropped: 10 because …; 2 because …".
func (r runReport) dropLine(o sendOptions) string {
	if r.Dropped == 0 {
		return ""
	}
	reasons := make([]string, 0, len(r.DroppedBy))
	for k := range r.DroppedBy {
		reasons = append(reasons, k)
	}
	sort.Slice(reasons, func(i, j int) bool { // most first, then by name
		a, b := r.DroppedBy[reasons[i]], r.DroppedBy[reasons[j]]
		return a > b || (a == b && reasons[i] < reasons[j])
	})
	parts := make([]string, len(reasons))
	for i, k := range reasons {
		parts[i] = fmt.Sprintf("%d because %s", r.DroppedBy[k], dropWhy(k, o))
	}
	noun := "messages"
	if r.Dropped == 1 {
		noun = "message"
	}
	return fmt.Sprintf("%d %s dropped: %s", r.Dropped, noun, strings.Join(parts, "; "))
}
