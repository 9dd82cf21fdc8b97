package live_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/live"
)

// event is one server-sent event: its type and its document.
type event struct {
	typ string
	doc map[string]any
	raw string
}

// sseClient reads one /v1/events stream.
type sseClient struct {
	events chan event
	cancel context.CancelFunc
}

// openStream connects to srv's /v1/events?query and checks the framing
// of every event: one data line, a JSON object with "v":1 and its own
// type as "type".
func openStream(t *testing.T, url, query string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/v1/events?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("GET /v1/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{events: make(chan event, 1000), cancel: cancel}
	t.Cleanup(cancel)
	go func() {
		defer close(c.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.typ = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if ev.raw != "" {
					t.Errorf("event %s: two data lines", ev.typ)
				}
				ev.raw = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.typ != "":
				if err := json.Unmarshal([]byte(ev.raw), &ev.doc); err != nil {
					t.Errorf("event %s: %v: %s", ev.typ, err, ev.raw)
				} else if ev.doc["v"] != float64(live.Version) || ev.doc["type"] != ev.typ {
					t.Errorf("event %s: want v %d and type %q in %s", ev.typ, live.Version, ev.typ, ev.raw)
				}
				c.events <- ev
				ev = event{}
			}
		}
	}()
	return c
}

// next returns the next event of type typ, skipping others; it fails
// when the stream ends or nothing comes for 10 s.
func (c *sseClient) next(t *testing.T, typ string) event {
	t.Helper()
	return c.until(t, typ, func(event) bool { return true })
}

// until returns the first event of type typ that ok accepts.
func (c *sseClient) until(t *testing.T, typ string, ok func(event) bool) event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, open := <-c.events:
			if !open {
				t.Fatalf("the stream ended before a %s event", typ)
			}
			if ev.typ == typ && ok(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event within 10 s", typ)
		}
	}
}

// testConfig has web-0..web-2 (replicas and a listed cpu, state replicas 2).
func testConfig(t *testing.T) (*generator.Config, *generator.Schedule) {
	t.Helper()
	cfg, err := generator.Parse("live.yaml", []byte(`interval: 2s
deployments:
  - name: web
    count: 3
    state: {replicas: 2}
    metrics:
      replicas: [1, 2, 3]
      cpu: [500m]
`))
	if err != nil {
		t.Fatal(err)
	}
	sched, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Seed: 1, Start: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, sched
}

// newHub returns a Hub that streams every 10 ms and a server of its routes.
func newHub(t *testing.T, cfg live.Config) (*live.Hub, *httptest.Server) {
	t.Helper()
	cfg.Every = 10 * time.Millisecond
	h, err := live.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close) // before srv.Close: streams end
	return h, srv
}

// sent is one message of app with seq and metrics as name, text pairs.
func sent(app string, seq uint64, kv ...string) generator.Event {
	ev := generator.Event{App: app, Seq: seq}
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Metrics = append(ev.Metrics, generator.Metric{Name: kv[i], Value: generator.Value{Text: kv[i+1]}})
	}
	return ev
}
