package live

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labsea/metricsender/standin"
)

// Counter is the stand-in operator's standin.Counter, restated so that
// an OperatorView can pass what it is told on.
type Counter interface {
	Request()
	Missed()
	Published()
	PublishFailed()
	Unreadable()
}

// OperatorView is `metricsender operator`'s page: what the stand-in read
// and answered, and the policy's last decisions (a bounded list). It is
// the operator's standin.Counter (passing each call on to next) and its
// Decided hook. Safe for concurrent use.
type OperatorView struct {
	policy string
	next   Counter
	every  time.Duration
	done   chan struct{}
	once   sync.Once

	mu            sync.Mutex
	requests      int
	answered      int
	missed        int
	unreadable    int
	publishFailed int
	decisions     *ring[decisionDoc]
}

// decisionDoc is one decision on the operator's page.
type decisionDoc struct {
	App        string             `json:"app"`
	TMS        int64              `json:"t_ms"`
	Outcome    string             `json:"outcome"`
	Replicas   *float64           `json:"replicas"`
	Allocation map[string]float64 `json:"allocation"`
	DueMS      *int64             `json:"due_ms"`
}

type operatorDoc struct {
	header
	Policy        string        `json:"policy"`
	Requests      int           `json:"requests"`
	Answered      int           `json:"answered"`
	Missed        int           `json:"missed"`
	Unreadable    int           `json:"unreadable"`
	PublishFailed int           `json:"publish_failed"`
	Decisions     []decisionDoc `json:"decisions"`
}

// NewOperatorView returns the page of an operator running policy; next
// (may be nil) gets every Counter call too. every is how often its
// stream sends (0: 1s); the last 50 decisions are kept.
func NewOperatorView(policy string, next Counter, every time.Duration) *OperatorView {
	return &OperatorView{policy: policy, next: next, every: cmpOr(every, time.Second), done: make(chan struct{}),
		decisions: newRing[decisionDoc](50)}
}

var _ standin.Counter = (*OperatorView)(nil)

func (v *OperatorView) count(n *int, pass func(Counter)) {
	v.mu.Lock()
	*n++
	v.mu.Unlock()
	if v.next != nil {
		pass(v.next)
	}
}

// Request implements standin.Counter.
func (v *OperatorView) Request() { v.count(&v.requests, Counter.Request) }

// Missed implements standin.Counter.
func (v *OperatorView) Missed() { v.count(&v.missed, Counter.Missed) }

// Published implements standin.Counter.
func (v *OperatorView) Published() {
	if v.next != nil {
		v.next.Published()
	}
}

// PublishFailed implements standin.Counter.
func (v *OperatorView) PublishFailed() { v.count(&v.publishFailed, Counter.PublishFailed) }

// Unreadable implements standin.Counter.
func (v *OperatorView) Unreadable() { v.count(&v.unreadable, Counter.Unreadable) }

// Decided is the stand-in's Decided hook: it keeps d among the last
// decisions and counts answers.
func (v *OperatorView) Decided(d standin.Decision) {
	doc := decisionDoc{App: d.App, TMS: d.At.UnixMilli(), Outcome: d.Outcome, Allocation: map[string]float64{}}
	if d.HasReplicas {
		r := d.Replicas
		doc.Replicas = &r
	}
	for k, x := range d.Allocation {
		doc.Allocation[k] = x
	}
	if !d.Due.IsZero() {
		ms := d.Due.UnixMilli()
		doc.DueMS = &ms
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if d.Outcome == standin.OutcomeAnswer {
		v.answered++
	}
	v.decisions.push(doc)
}

func (v *OperatorView) doc() operatorDoc {
	v.mu.Lock()
	defer v.mu.Unlock()
	d := operatorDoc{header: head(TypeOperator), Policy: v.policy, Requests: v.requests, Answered: v.answered, Missed: v.missed,
		Unreadable: v.unreadable, PublishFailed: v.publishFailed}
	d.Decisions, _ = v.decisions.since(0, -1)
	return d
}

// Close ends the page's streams (each sends its last numbers first).
// Calling it again does nothing.
func (v *OperatorView) Close() { v.once.Do(func() { close(v.done) }) }

// Routes adds the operator's page to mux: GET / , GET /assets/ and
// GET /v1/events (one event type, operator; docs/live.md).
func (v *OperatorView) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", servePage("operator.html"))
	mux.Handle("GET /assets/", assets())
	mux.HandleFunc("GET /v1/events", v.serveEvents)
}

func (v *OperatorView) serveEvents(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	out := newSSE(w)
	send := func() bool {
		b, err := json.Marshal(v.doc())
		return err == nil && out.event(TypeOperator, b) == nil
	}
	if out.raw(fmt.Sprintf("retry: %d\n\n", retryMS)) != nil || !send() {
		return
	}
	t := time.NewTicker(v.every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if !send() {
				return
			}
		case <-v.done:
			send()
			return
		case <-r.Context().Done():
			return
		}
	}
}
