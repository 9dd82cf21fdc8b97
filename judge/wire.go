package judge

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/labsea/metricsender/generator"
)

// IDs mints the correlation id of every event before faults, so the
// tracker knows which request an answer names, and an injected copy
// shares its original's. Not safe for concurrent use (the schedule's one
// goroutine calls it).
type IDs struct{ r *rand.Rand }

// NewIDs returns an IDs seeded at random.
func NewIDs() IDs { return IDs{rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))} }

// Mint gives every event without an id one (odd, so never 0).
func (g IDs) Mint(events []generator.Event) {
	for i := range events {
		if events[i].ID == 0 {
			events[i].ID = g.r.Uint64() | 1
		}
	}
}

// SentOnWire tells the tracker of the messages that went on the wire at
// at: not the injected copies, nor a message a fault corrupted or
// stripped of a metric (the operator was not meant to act on those).
// Drop and silence put nothing on the wire: such events are Suppressed.
func (t *Tracker) SentOnWire(events []generator.Event, at time.Time) {
	for _, ev := range events {
		if ev.Suppressed || ev.Fault == string(generator.FaultDuplicate) || ev.Fault == string(generator.FaultBurst) ||
			strings.Contains(ev.Fault, string(generator.FaultCorrupt)) || strings.Contains(ev.Fault, string(generator.FaultOmit)) {
			continue
		}
		t.Sent(ev, strings.ToUpper(strconv.FormatUint(ev.ID, 16)), at)
	}
}
