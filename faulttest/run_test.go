package faulttest_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/proctest"
)

// pipeline is one `send` -> `receive --queue --check` run of two
// deployments, ticks messages each.
type pipeline struct {
	uri   string
	apps  []string
	ticks int
	recv  *proctest.Proc
	send  *proctest.Proc
}

// startPipeline starts the receiver on a fresh durable queue, waits until
// it consumes from the queue (declared and bound), then starts the sender.
func startPipeline(t *testing.T, uri string, ticks int, interval string) *pipeline {
	t.Helper()
	n := time.Now().UnixNano()
	p := &pipeline{uri: uri, ticks: ticks, apps: []string{fmt.Sprintf("fault%da", n), fmt.Sprintf("fault%db", n)}}
	cfg := proctest.WriteConfig(t, "", p.apps...)
	queue := fmt.Sprintf("metricsender-fault-%d", n)
	brokertest.DeleteQueueAtCleanup(t, uri, queue)
	p.recv = proctest.Start(t, binary, "receive", "receive", "--uri", uri, "--queue", queue,
		"--topic", "Metrics."+p.apps[0], "--topic", "Metrics."+p.apps[1],
		"--check", "--config", cfg, "--output", "json")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	brokertest.WaitConsumer(t, ctx, uri, queue)
	p.send = proctest.Start(t, binary, "send", "send", "-c", cfg, "--uri", uri, "--interval", interval,
		"--count", strconv.Itoa(ticks), "--http-addr", "")
	return p
}

// finish waits for the sender to end, then for the receiver to have every
// seq of every app (or a generous limit), stops it with SIGTERM and checks
// that nothing is missing: from the --check summary and from the printed
// messages themselves.
func (p *pipeline) finish(t *testing.T) {
	t.Helper()
	if code := p.send.Wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("send exit %d, want 0:\n%s", code, p.send.Stderr.String())
	}
	want := fmt.Sprintf("published=%d dropped=0 unroutable=0", len(p.apps)*p.ticks)
	if !strings.Contains(p.send.Stderr.String(), want) {
		t.Errorf("sender did not log %s:\n%s", want, p.send.Stderr.String())
	}
	// Wait for the rest, but not once the receiver has printed nothing new
	// for a while: what is missing then is lost, not late.
	d := proctest.Drain(t, p.recv, p.apps, p.ticks, 20*time.Second)
	t.Logf("receiver summary: %v; sender log lines about loss: %q", d.Summary, grepLines(p.send.Stderr.String(), "unroutable", "dropped"))
	if !d.Check(t) {
		if n := stopped(t, p.send.Stderr.String())["unroutable"]; n > 0 {
			t.Errorf("the sender counted %d messages as unroutable: the broker returned them outside "+
				"the rebind window (exchange is is not durable, so a broker restart drops it with every "+
				"binding, and the receiver had not bound its queue again in time)", n)
		}
		if strings.Contains(p.recv.Stderr.String(), "x-delivery-count") {
			t.Errorf("redelivered messages were undecodable: the quorum queue adds an integer " +
				"x-delivery-count header, which the receiver takes for a metric")
		}
	}
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
