package faulttest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
)

// pipeline is one `send` -> `receive --queue --check` run of two
// deployments, ticks messages each.
type pipeline struct {
	uri   string
	apps  []string
	ticks int
	recv  *proc
	send  *proc
}

// startPipeline starts the receiver on a fresh durable queue, waits until
// it consumes from the queue (declared and bound), then starts the sender.
func startPipeline(t *testing.T, uri string, ticks int, interval string) *pipeline {
	t.Helper()
	n := time.Now().UnixNano()
	p := &pipeline{uri: uri, ticks: ticks, apps: []string{fmt.Sprintf("fault%da", n), fmt.Sprintf("fault%db", n)}}
	cfg := writeConfig(t, p.apps...)
	queue := fmt.Sprintf("metricsender-fault-%d", n)
	brokertest.DeleteQueueAtCleanup(t, uri, queue)
	p.recv = start(t, "receive", "receive", "--uri", uri, "--queue", queue,
		"--topic", "Metrics."+p.apps[0], "--topic", "Metrics."+p.apps[1],
		"--check", "--config", cfg, "--output", "json")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	brokertest.WaitConsumer(t, ctx, uri, queue)
	p.send = start(t, "send", "send", "-c", cfg, "--uri", uri, "--interval", interval,
		"--count", strconv.Itoa(ticks), "--http-addr", "")
	return p
}

// waitReceived waits until the receiver printed at least n lines.
func (p *pipeline) waitReceived(t *testing.T, n int) {
	t.Helper()
	p.recv.waitOutput(t, fmt.Sprintf("%d messages", n), 3*time.Minute, false,
		func(s string) bool { return strings.Count(s, "\n") >= n })
}

// finish waits for the sender to end, then for the receiver to have every
// seq of every app (or a generous limit), stops it with SIGTERM and checks
// that nothing is missing: from the --check summary and from the printed
// messages themselves.
func (p *pipeline) finish(t *testing.T) {
	t.Helper()
	if code := p.send.wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("send exit %d, want 0:\n%s", code, p.send.stderr.String())
	}
	want := fmt.Sprintf("published=%d dropped=0 unroutable=0", len(p.apps)*p.ticks)
	if !strings.Contains(p.send.stderr.String(), want) {
		t.Errorf("sender did not log %s:\n%s", want, p.send.stderr.String())
	}
	// Wait for the rest, but not once the receiver has printed nothing new
	// for a while: what is missing then is lost, not late.
	deadline := time.Now().Add(2 * time.Minute)
	lines, idleSince := p.recv.lines(), time.Now()
	for len(p.missing(t)) > 0 && time.Now().Before(deadline) && time.Since(idleSince) < 20*time.Second {
		time.Sleep(200 * time.Millisecond)
		if n := p.recv.lines(); n != lines {
			lines, idleSince = n, time.Now()
		}
	}
	p.recv.terminate(t)
	code := p.recv.wait(t, 2*time.Minute)
	sum := summary(t, p.recv.stderr.String())
	t.Logf("receiver summary: %v; sender log lines about loss: %q", sum, grepLines(p.send.stderr.String(), "unroutable", "dropped"))
	if code != 0 {
		t.Errorf("receive exit %d, want 0", code)
	}
	if sum["missing"] != 0 || sum["out_of_bounds"] != 0 || sum["decode_errors"] != 0 {
		t.Errorf("receiver summary %v, want missing=0 out_of_bounds=0 decode_errors=0", sum)
	}
	if m := p.missing(t); len(m) > 0 {
		t.Errorf("never received (app: seqs): %v", m)
		if n := stopped(t, p.send.stderr.String())["unroutable"]; n > 0 {
			t.Errorf("the sender counted %d messages as unroutable: the broker returned them outside "+
				"the rebind window (exchange is is not durable, so a broker restart drops it with every "+
				"binding, and the receiver had not bound its queue again in time)", n)
		}
		if strings.Contains(p.recv.stderr.String(), "x-delivery-count") {
			t.Errorf("redelivered messages were undecodable: the quorum queue adds an integer " +
				"x-delivery-count header, which the receiver takes for a metric")
		}
	}
}

// missing lists, per app, the seqs 1..ticks not printed by the receiver.
func (p *pipeline) missing(t *testing.T) map[string][]uint64 {
	t.Helper()
	seen := map[string]map[uint64]bool{}
	for _, line := range strings.Split(p.recv.stdout.String(), "\n") {
		var m struct {
			App string  `json:"app"`
			Seq *uint64 `json:"seq"`
		}
		if line == "" || json.Unmarshal([]byte(line), &m) != nil || m.Seq == nil {
			continue // a line still being written
		}
		if seen[m.App] == nil {
			seen[m.App] = map[uint64]bool{}
		}
		seen[m.App][*m.Seq] = true
	}
	missing := map[string][]uint64{}
	for _, app := range p.apps {
		for s := uint64(1); s <= uint64(p.ticks); s++ {
			if !seen[app][s] {
				missing[app] = append(missing[app], s)
			}
		}
	}
	return missing
}

var summaryRE = regexp.MustCompile(`received=(\d+) missing=(\d+) duplicates=(\d+) out_of_order=(\d+) out_of_bounds=(\d+) decode_errors=(\d+)`)

// summary parses the receiver's --check summary line.
func summary(t *testing.T, stderr string) map[string]int {
	t.Helper()
	m := summaryRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no --check summary line in:\n%s", stderr)
	}
	out := map[string]int{}
	for i, k := range []string{"received", "missing", "duplicates", "out_of_order", "out_of_bounds", "decode_errors"} {
		out[k], _ = strconv.Atoi(m[i+1])
	}
	return out
}

// grepLines returns the lines of s that contain any of words.
func grepLines(s string, words ...string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// writeConfig writes a config of the given deployments, each with two
// metrics, and returns its path.
func writeConfig(t *testing.T, apps ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("deployments:\n")
	for _, a := range apps {
		fmt.Fprintf(&b, "  - name: %s\n    metrics: {cpu: [100m, 200m], memory: [128Mi]}\n", a)
	}
	path := filepath.Join(t.TempDir(), "metricsender.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
