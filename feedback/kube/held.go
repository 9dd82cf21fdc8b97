package kube

import (
	"log/slog"
	"sync"

	"github.com/labsea/metricsender/generator"
)

var _ generator.Recorder = (*Held)(nil)

// Held is a recorder for the source's first list, which comes before the
// schedule exists: it holds the observations and passes them on, in
// order, once Set gives it the recorder; after that it forwards. The zero
// value is ready. Safe for concurrent use.
type Held struct {
	mu   sync.Mutex
	rec  generator.Recorder
	held []heldObservation
}

type heldObservation struct {
	app string
	ob  generator.Observation
}

// Observe implements generator.Recorder: it forwards, or holds until Set.
func (h *Held) Observe(app string, ob generator.Observation) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rec == nil {
		h.held = append(h.held, heldObservation{app, ob})
		return nil
	}
	return h.rec.Observe(app, ob)
}

// Set records what was held into rec (a failure is logged: the source
// already took it as recorded) and forwards from now on.
func (h *Held) Set(rec generator.Recorder, logger *slog.Logger) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, o := range h.held {
		if err := rec.Observe(o.app, o.ob); err != nil {
			logger.Warn("feedback kubernetes: an observation of the first list was not recorded", "app", o.app, "error", err)
		}
	}
	h.rec, h.held = rec, nil
}
