package live

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// retryMS is what the stream tells EventSource to wait before it
// reconnects (a sender restart).
const retryMS = 2000

// writeTimeout bounds each write to a stream: a browser that stopped
// reading is dropped (its selection freed) instead of holding a
// goroutine and its rings until the run ends.
const writeTimeout = 10 * time.Second

// stream is one connected client of /v1/events.
type stream struct {
	h        *Hub
	out      sse
	points   int
	asked    []string
	selected []string
	refused  []refusal
	cursors  map[string]*cursor
	last     map[string][]byte // the last document sent per key, to send only changes
}

// cursor is where a stream is in one followed deployment's rings.
type cursor struct {
	points, states, fates uint64
	sent                  bool // the first points document (reset) went out
}

// serveEvents is GET /v1/events (docs/events.md).
func (h *Hub) serveEvents(w http.ResponseWriter, r *http.Request) {
	select {
	case <-h.done:
		http.Error(w, "the run has ended", http.StatusServiceUnavailable)
		return
	default:
	}
	q := r.URL.Query()
	s := &stream{h: h, out: newSSE(w), points: h.cfg.Points, asked: q["select"],
		cursors: map[string]*cursor{}, last: map[string][]byte{}}
	if n, err := strconv.Atoi(q.Get("points")); err == nil && n > 0 && n <= h.cfg.MaxPoints {
		s.points = n
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // a proxy in front must not hold events back
	w.WriteHeader(http.StatusOK)
	h.connect()
	defer h.disconnect()
	if err := s.out.raw(fmt.Sprintf("retry: %d\n\n", retryMS)); err != nil {
		return
	}
	if err := s.run(r); err != nil {
		h.logger.Debug("event stream ended", "error", err)
	}
}

// run sends the stream until the client leaves (nil) or the Hub closes
// (the last numbers, then end); it returns a write error.
func (s *stream) run(r *http.Request) error {
	h := s.h
	var early []string // followed before the start, so the first tick's points are kept
	if h.run.Load() == nil {
		early = s.early()
		h.follow(early, s.points)
		if err := s.send(TypeHello, s.hello(nil)); err != nil {
			h.unfollow(early)
			return err
		}
		select {
		case <-h.started:
		case <-h.done:
			h.unfollow(early)
			return s.end()
		case <-r.Context().Done():
			h.unfollow(early)
			return nil
		}
	}
	run := h.run.Load()
	s.choose(run.Schedule)
	made := h.follow(s.selected, s.points)
	h.unfollow(early) // after following the chosen ones: their series live on
	if run.Judge != nil {
		for _, name := range made { // outside the Hub's lock: the judge calls Fate with its own held
			h.openBefore(name, run.Judge.OpenOf(name))
		}
	}
	defer h.unfollow(s.selected)
	if err := s.send(TypeHello, s.hello(run)); err != nil {
		return err
	}
	if err := s.update(run, false); err != nil {
		return err
	}
	t := time.NewTicker(h.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := s.update(run, false); err != nil {
				return err
			}
		case <-h.done:
			if err := s.update(run, true); err != nil {
				return err
			}
			return s.end()
		case <-r.Context().Done():
			return nil
		}
	}
}

// early is what the stream asked for, without repeats, at most
// MaxSelected: what it follows until the schedule exists to tell which
// names are known.
func (s *stream) early() []string {
	var out []string
	for _, name := range s.asked {
		if len(out) < s.h.cfg.MaxSelected && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// choose picks the deployments the stream follows from what it asked:
// known, not repeated, at most MaxSelected.
func (s *stream) choose(sched Schedule) {
	seen := map[string]bool{}
	for _, name := range s.asked {
		switch _, known := sched.SnapshotOf(name); {
		case seen[name]:
			s.refused = append(s.refused, refusal{name, "repeated"})
		case !known:
			s.refused = append(s.refused, refusal{name, "unknown deployment"})
		case len(s.selected) >= s.h.cfg.MaxSelected:
			s.refused = append(s.refused, refusal{name, fmt.Sprintf("too many (at most %d)", s.h.cfg.MaxSelected)})
		default:
			s.selected = append(s.selected, name)
		}
		seen[name] = true
	}
}

func (s *stream) hello(run *Run) helloDoc {
	info := s.h.cfg.Info
	d := helloDoc{header: head(TypeHello), Run: info.Run, Seed: info.Seed, Interval: info.Interval.Seconds(),
		Deployments: info.Deployments, Control: info.Control, Points: s.points,
		Selected: append([]string{}, s.selected...), Refused: append([]refusal{}, s.refused...)}
	if info.Shard.Sharded() {
		d.Shard = info.Shard.String()
	}
	if run != nil {
		d.Started, d.StartMS, d.Judged = true, run.Start.UnixMilli(), run.Judge != nil
	}
	return d
}

// update sends the run's numbers, and what changed of the judge, the
// faults and each followed deployment; final marks the last one.
func (s *stream) update(run *Run, final bool) error {
	h := s.h
	now := time.Now()
	if err := s.send(TypeRun, h.runDoc(run, now, final)); err != nil {
		return err
	}
	if err := s.sendChanged(TypeJudge, TypeJudge, h.judgeDoc(run, now, final)); err != nil {
		return err
	}
	if err := s.sendChanged(TypeFaults, TypeFaults, h.faultsDoc(run)); err != nil {
		return err
	}
	for _, name := range s.selected {
		d, ok := h.deploymentDoc(run, name, now)
		if ok {
			if err := s.sendChanged("deployment\x00"+name, TypeDeployment, d); err != nil {
				return err
			}
		}
		if err := s.sendPoints(name); err != nil {
			return err
		}
	}
	return nil
}

// sendPoints sends what the rings of name got since the last time (all
// of them, the first time), when there is anything.
func (s *stream) sendPoints(name string) error {
	c := s.cursors[name]
	if c == nil {
		c = &cursor{}
		s.cursors[name] = c
	}
	d := pointsDoc{header: head(TypePoints), Name: name, Reset: !c.sent}
	h := s.h
	h.mu.Lock()
	if sr := h.series[name]; sr != nil {
		d.Points, c.points = sr.points.since(c.points, s.points)
		d.States, c.states = sr.states.since(c.states, s.points)
		d.Fates, c.fates = sr.fates.since(c.fates, s.points)
	}
	h.mu.Unlock()
	if c.sent && len(d.Points) == 0 && len(d.States) == 0 && len(d.Fates) == 0 {
		return nil
	}
	c.sent = true
	return s.send(TypePoints, d)
}

func (s *stream) end() error {
	return s.send(TypeEnd, endDoc{header: head(TypeEnd), Reason: "stopped"})
}

// sendChanged sends doc unless it is what was last sent under key.
func (s *stream) sendChanged(key, typ string, doc any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode %s: %w", typ, err)
	}
	if bytes.Equal(s.last[key], b) {
		return nil
	}
	s.last[key] = b
	return s.write(typ, b)
}

func (s *stream) send(typ string, doc any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode %s: %w", typ, err)
	}
	return s.write(typ, b)
}

// write sends one event.
func (s *stream) write(typ string, data []byte) error { return s.out.event(typ, data) }

// sse writes server-sent events to one response.
type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func newSSE(w http.ResponseWriter) sse { return sse{w: w, rc: http.NewResponseController(w)} }

// event sends one event: its type and one data line (JSON has no raw
// newline).
func (s sse) event(typ string, data []byte) error {
	return s.raw("event: " + typ + "\ndata: " + string(data) + "\n\n")
}

// raw sends text and flushes it, within writeTimeout.
func (s sse) raw(text string) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // not every ResponseWriter can; then no bound
	if _, err := io.WriteString(s.w, text); err != nil {
		return err
	}
	return s.rc.Flush()
}
