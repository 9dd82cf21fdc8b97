// Package livetest reads the live page's event stream (GET /v1/events,
// docs/events.md) in tests: it checks each event's framing and version
// and hands the events over in order.
package livetest

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// version is the "v" every document must carry (live.Version; restated
// so that this package imports nothing of ours).
const version = 1

// Event is one server-sent event: its type and its JSON document.
type Event struct {
	Type string
	Doc  map[string]any
	Raw  string
}

// Stream is one open /v1/events stream. Events is closed when the
// stream ends.
type Stream struct {
	Events <-chan Event
	Cancel context.CancelFunc
}

// Open connects to base+"/v1/events?"+query (base: http://host:port) and
// reads it until the server ends it or the test ends. Every event must
// have one data line holding a JSON object with "v":1 and its own type as
// "type"; the test fails otherwise.
func Open(t testing.TB, base, query string) *Stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/events?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		_ = resp.Body.Close()
		t.Fatalf("GET /v1/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan Event, 10000)
	go func() {
		defer close(events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev Event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.Type = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if ev.Raw != "" {
					t.Errorf("event %s: two data lines", ev.Type)
				}
				ev.Raw = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.Type != "":
				if err := json.Unmarshal([]byte(ev.Raw), &ev.Doc); err != nil {
					t.Errorf("event %s: %v: %s", ev.Type, err, ev.Raw)
				} else if ev.Doc["v"] != float64(version) || ev.Doc["type"] != ev.Type {
					t.Errorf("event %s: want v %d and type %q in %s", ev.Type, version, ev.Type, ev.Raw)
				}
				events <- ev
				ev = Event{}
			}
		}
	}()
	return &Stream{Events: events, Cancel: cancel}
}

// Next returns the next event of type typ, skipping others; it fails the
// test when the stream ends or nothing comes for 10 s.
func (s *Stream) Next(t testing.TB, typ string) Event {
	t.Helper()
	return s.Until(t, typ, func(Event) bool { return true })
}

// Until returns the first event of type typ that ok accepts, skipping
// the others.
func (s *Stream) Until(t testing.TB, typ string, ok func(Event) bool) Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, open := <-s.Events:
			if !open {
				t.Fatalf("the stream ended before a %s event", typ)
			}
			if ev.Type == typ && ok(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event within 10 s", typ)
		}
	}
}

// Last reads the stream to its end and returns the last event of each
// type.
func (s *Stream) Last() map[string]Event {
	last := map[string]Event{}
	for ev := range s.Events {
		last[ev.Type] = ev
	}
	return last
}
