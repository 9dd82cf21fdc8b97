package app

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/delay"
)

// faultLog writes one line when faults first fire, then at most one a
// minute while they go on, with the counts since the last line.
type faultLog struct {
	inj    *generator.Injector
	logger *slog.Logger
	every  time.Duration

	mu     sync.Mutex
	last   []uint64 // counts at the last line, in FaultKinds order
	logged time.Time
}

func newFaultLog(inj *generator.Injector, logger *slog.Logger) *faultLog {
	return &faultLog{inj: inj, logger: logger, every: time.Minute, last: make([]uint64, len(generator.FaultKinds))}
}

// tick is called after each batch; flush at the end logs what is left.
func (l *faultLog) tick(now time.Time) { l.log(now, false) }
func (l *faultLog) flush()             { l.log(time.Now(), true) }

func (l *faultLog) log(now time.Time, force bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !force && !l.logged.IsZero() && now.Sub(l.logged) < l.every {
		return
	}
	attrs := []any{}
	var parts []string
	for i, kind := range generator.FaultKinds {
		n := l.inj.Count(kind)
		if d := n - l.last[i]; d > 0 {
			attrs = append(attrs, string(kind), d)
			parts = append(parts, string(kind))
		}
		l.last[i] = n
	}
	if len(parts) == 0 {
		return
	}
	msg := "faults injected"
	if !l.logged.IsZero() {
		msg += " since the last line"
	}
	l.logged = now
	l.logger.Info(msg, append(attrs, "kinds", strings.Join(parts, ","))...)
}

// sendNow returns the events of a faulted batch to send at once, in
// place: suppressed events (drop, silence) are left out and delayed ones
// handed to delays, due at tickTime plus their delay.
func sendNow(events []generator.Event, delays *delay.Queue[generator.Event], tickTime time.Time) []generator.Event {
	now := events[:0]
	for _, ev := range events {
		switch {
		case ev.Suppressed:
		case ev.Delay > 0:
			ev.Metrics = slices.Clone(ev.Metrics) // the schedule reuses its arrays
			delays.Hold(ev, tickTime.Add(ev.Delay))
		default:
			now = append(now, ev)
		}
	}
	return now
}

// waitDelays waits for the delay queue to send what it held: without a bound
// at a natural end (each at its time), at most timeout after a signal.
// It returns how many delayed messages the queue emitted in all.
func waitDelays(delays *delay.Queue[generator.Event], done <-chan error, signalled bool, timeout time.Duration, logger *slog.Logger) int {
	var expire <-chan time.Time
	if signalled {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	select {
	case err := <-done:
		if err != nil {
			logger.Warn("sending delayed messages failed", "error", err)
		}
	case <-expire:
		logger.Warn("delayed messages not sent within --shutdown-timeout", "held", delays.Len())
	}
	return delays.Sent()
}
