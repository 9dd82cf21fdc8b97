package pagetest_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/browsertest"
)

// smallConfig is three deployments web-0..web-2 with a cpu wave and a
// replicas list: something to draw, no broker needed.
const smallConfig = `deployments:
  - name: web
    count: 3
    metrics:
      cpu: {sine: {min: 1, max: 6, period: 10s}}
      replicas: [2, 3, 4]
`

// TestPageLoadsWithoutErrors: the page of a plain send (gochannel, no
// control, no feedback) loads, connects, shows the run and a followed
// deployment's chart, and writes no error to the console.
func TestPageLoadsWithoutErrors(t *testing.T) {
	s := startSend(t, "", "-c", writeConfig(t, smallConfig), "--transport", "gochannel", "--interval", "200ms", "--seed", "7")
	b := openPage(t, s, "web-1")
	waitCount(t, b, "three cpu points of web-1", sel("point", metricSVG("web-1", "cpu")), 3)

	// The page reads what /metrics reads (gochannel has no broker: 0).
	broker := "disconnected"
	if _, metrics := s.get("/metrics"); containsAny(metrics, "\nmetricsender_broker_connected 1\n") {
		broker = "connected"
	}
	for id, want := range map[string]string{"run-seed": "7", "run-deployments": "3", "run-broker": broker} {
		if got := mustText(t, b, sel(id)); got != want {
			t.Errorf("%s shows %q, want %q", id, got, want)
		}
	}
	if got := mustText(t, b, sel("run-interval")); !strings.HasPrefix(got, "0.2") {
		t.Errorf("run-interval shows %q, want 0.2 seconds", got)
	}
	if ticks, err := strconv.Atoi(mustText(t, b, sel("run-ticks"))); err != nil || ticks < 3 {
		t.Errorf("run-ticks shows %d (%v) with three points drawn, want >= 3", ticks, err)
	}
	if got := dataset(t, b, sel("judge")); len(got) != 1 || got[0]["judged"] != "false" {
		t.Errorf("judge panel %v, want one with data-judged=false (no --feedback)", got)
	}
	if n := count(t, b, sel("chart")); n != 1 {
		t.Errorf("%d charts, want 1 (web-1 only)", n)
	}
	for _, id := range []string{"pause", "resume", "override-set", "fault-inject"} {
		if n := count(t, b, sel(id)); n != 0 {
			t.Errorf("%d %s controls without --enable-control, want none", n, id)
		}
	}
	if _, metrics := s.get("/metrics"); !containsAny(metrics, "\nmetricsender_live_streams 1\n") {
		t.Errorf("/metrics does not count the page's stream (metricsender_live_streams 1)")
	}
	b.NoErrors(t)
}

// TestSenderRestart: when the sender stops the page says "disconnected";
// when a new one answers on the same address, the page shows its run and
// data again without a reload.
func TestSenderRestart(t *testing.T) {
	addr := brokertest.FreeAddr(t)
	cfg := writeConfig(t, smallConfig)
	args := []string{"-c", cfg, "--transport", "gochannel", "--interval", "200ms"}
	first := startSend(t, addr, append(args, "--seed", "1")...)
	b := openPage(t, first, "web-0")
	points := sel("point", metricSVG("web-0", "cpu"))
	waitCount(t, b, "cpu points of the first run", points, 2)
	firstRun := mustText(t, b, sel("run-id"))
	// A reload would lose this.
	b.Do(t, "mark the page", chromedp.Evaluate[chromedp.Void](`window.pagetestMark = "no reload"`))

	first.Terminate(t)
	if code := first.Wait(t, hang); code != 0 {
		t.Fatalf("the first send exited %d on SIGTERM, want 0", code)
	}
	waitConn(t, b, "disconnected")
	if got := mustText(t, b, sel("conn")); got != "disconnected" {
		t.Errorf("the connection indicator reads %q, want disconnected", got)
	}

	startSend(t, addr, append(args, "--seed", "2")...)
	waitConn(t, b, "connected")
	b.WaitTrue(t, "the second run's id", fmt.Sprintf(`(document.querySelector(%s)?.textContent.trim() ?? %s) !== %s`, js(sel("run-id")), js(firstRun), js(firstRun)), hang)
	waitText(t, b, "the second run's seed", sel("run-seed"), "2")
	waitCount(t, b, "cpu points of the second run", points, 2)
	if mark := browsertest.Eval[string](t, b, `window.pagetestMark ?? "reloaded"`); mark != "no reload" {
		t.Errorf("the page was reloaded (mark %q)", mark)
	}
	// The browser logs each refused reconnect of the stream; nothing else
	// may be an error.
	for _, m := range b.Errors() {
		if !isStreamError(m) {
			t.Errorf("console error other than the stream's refused reconnects: %s (%s)", m, m.URL)
		}
	}
}
