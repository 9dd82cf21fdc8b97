package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/app"
	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/livetest"
	"github.com/labsea/metricsender/internal/syncbuf"
)

// send's HTTP address serves the live page; its buttons are there only
// with --enable-control, and the control routes answer as they always
// did. Its judge panel ends on send's exit summary line.
func TestLivePage(t *testing.T) {
	cfg := writeFile(t, "live.yaml", "deployments:\n  - name: web\n    state: {replicas: 2}\n    metrics:\n      replicas: [1, 3]\n")
	tests := []struct {
		name    string
		control bool
		pause   int // POST pause's status
	}{
		{"without --enable-control", false, http.StatusForbidden},
		{"with --enable-control", true, http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := brokertest.FreeAddr(t)
			base := "http://" + addr
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			args := []string{"metricsender", "send", "-t", "gochannel", "-c", cfg, "--interval", "50ms", "--count", "30",
				"--seed", "1", "--feedback", "api", "--http-addr", addr}
			if tt.control {
				args = append(args, "--enable-control")
			}
			var stdout, stderr syncbuf.Buffer
			done := make(chan int, 1)
			go func() { done <- app.RunContext(ctx, args, &stdout, &stderr) }()

			page := waitGet(t, ctx, base+"/")
			if !strings.Contains(page, `data-testid="judge-line"`) {
				t.Errorf("GET /: not the live page:\n%.300s", page)
			}
			s := livetest.Open(t, base, "select=web")
			if hello := s.Until(t, "hello", func(e livetest.Event) bool { return e.Doc["started"] == true }); hello.Doc["control"] != tt.control {
				t.Errorf("hello: %s; want control %v", hello.Raw, tt.control)
			}
			resp, err := http.Post(base+"/v1/deployments/web/pause", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tt.pause {
				t.Errorf("POST pause: %d, want %d", resp.StatusCode, tt.pause)
			}
			if tt.control {
				s.Until(t, "deployment", func(e livetest.Event) bool { return e.Doc["paused"] == true })
				if resp, err := http.Post(base+"/v1/deployments/web/resume", "", nil); err != nil || resp.StatusCode != http.StatusNoContent {
					t.Fatalf("POST resume: %v %v", resp, err)
				}
			}

			last := s.Last()
			if code := <-done; code != 0 {
				t.Fatalf("exit %d:\n%s", code, stderr.String())
			}
			if _, ok := last["end"]; !ok {
				t.Errorf("the stream ended without an end event")
			}
			var line string
			for _, l := range strings.Split(stderr.String(), "\n") {
				if strings.HasPrefix(l, "requests=") {
					line = l
				}
			}
			if line == "" || last["judge"].Doc["line"] != line {
				t.Errorf("the last judge event's line:\n%v\nsend's summary line:\n%s", last["judge"].Doc["line"], line)
			}
			if run := last["run"].Doc; run["ended"] != true || run["published"] != 30.0 {
				t.Errorf("the last run event: %s; want ended, 30 published", last["run"].Raw)
			}
		})
	}
}

// waitGet polls url until it answers 200 and returns the body.
func waitGet(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	for {
		if resp, err := http.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b)
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GET %s: no answer in time", url)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
