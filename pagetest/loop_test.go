package pagetest_test

import (
	"fmt"
	"github.com/chromedp/chromedp"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/browsertest"
	"github.com/labsea/metricsender/internal/proctest"
)

// loopConfig: replicas asked for wander, cpu reads the replicas the
// operator applied: requests that get applied, superseded and left open.
const loopConfig = `deployments:
  - name: web
    count: 3
    state: {replicas: 2}
    metrics:
      replicas: {walk: {start: 2, min: 1, max: 8, step: 1}}
      cpu:
        expr: "load / replicas"
        vars:
          load: {sine: {min: 1, max: 6, period: 20s}}
        decimals: 3
`

// summaryLine is send's exit summary line of the operator judge.
var summaryLine = regexp.MustCompile(`(?m)^requests=(\d+) applied=(\d+) superseded=(\d+) open=(\d+) reaction_p50=(\S+) reaction_p99=(\S+) reaction_max=(\S+) oscillations=(\d+)$`)

// closedLoop starts the stand-in operator (with its page) and send
// --feedback bus on an exchange of t's own, and send's page following
// names.
func closedLoop(t *testing.T, cfg, interval string, names ...string) (s, op *sender, b *browsertest.Browser) {
	t.Helper()
	browsertest.Chromium(t)
	uri := brokertest.AMQPURI(t)
	exchange := exchangeFor(t, uri)
	// Ready once subscribed: from then on it reads every request.
	opAddr := brokertest.FreeAddr(t)
	op = &sender{addr: opAddr, Proc: proctest.Start(t, binary, "operator", "operator", "--uri", uri, "--exchange", exchange,
		"--delay", "300ms", "--jitter", "600ms", "--miss", "0.1", "--seed", "3", "--http-addr", opAddr)}
	op.waitHTTP(t, "/readyz")
	s = startSend(t, "", "-c", cfg, "--uri", uri, "--exchange", exchange, "--interval", interval,
		"--feedback", "bus", "--enable-control", "--seed", "5")
	return s, op, openPage(t, s, names...)
}

// TestJudgePanelEqualsExitSummary: in a closed loop with the stand-in
// operator, the judge panel shows, number for number, the summary line
// send prints at exit.
func TestJudgePanelEqualsExitSummary(t *testing.T) {
	s, _, b := closedLoop(t, writeConfig(t, loopConfig), "300ms", "web-0")
	// Enough for every kind of fate, then stop as a person would.
	b.WaitTrue(t, "requests applied and superseded", fmt.Sprintf(
		`+document.querySelector(%s)?.textContent >= 3 && +document.querySelector(%s)?.textContent >= 1`,
		js(sel("judge-applied")), js(sel("judge-superseded"))), hang)
	s.Terminate(t)
	if code := s.Wait(t, hang); code != 0 {
		t.Fatalf("send exited %d on SIGTERM, want 0", code)
	}
	m := summaryLine.FindStringSubmatch(s.Stderr.String())
	if m == nil {
		t.Fatalf("no summary line in send's stderr:\n%s", s.Stderr.String())
	}
	waitText(t, b, "the exit summary line", sel("judge-line"), m[0])
	for i, id := range []string{"judge-requests", "judge-applied", "judge-superseded", "judge-open", "judge-p50", "judge-p99", "judge-max", "judge-oscillations"} {
		if got := mustText(t, b, sel(id)); got != m[i+1] {
			t.Errorf("%s shows %q, the summary line says %q", id, got, m[i+1])
		}
	}
	if n, _ := strconv.Atoi(m[1]); n == 0 {
		t.Errorf("the loop judged no request: %s", m[0])
	}
	for _, e := range b.Errors() {
		if !isStreamError(e) {
			t.Errorf("console error: %s", e)
		}
	}
}

// operatorStopped is the stand-in operator's last log line's account.
var operatorStopped = regexp.MustCompile(`msg=stopped requests=(\d+) answered=(\d+) missed=(\d+)`)

// TestOperatorPage: the stand-in operator's own page, in a closed loop,
// shows its policy, counts and last decisions with no console error, and
// once it stops, the account of its stopped line.
func TestOperatorPage(t *testing.T) {
	s, op, _ := closedLoop(t, writeConfig(t, loopConfig), "300ms")
	b := browsertest.Start(t)
	b.Navigate(t, "http://"+op.addr+"/")
	waitConn(t, b, "connected")
	waitText(t, b, "the policy", sel("op-policy"), "follow")
	b.WaitTrue(t, "five requests seen", `+document.querySelector(`+js(sel("op-requests"))+`)?.textContent >= 5`, hang)
	waitCount(t, b, "its decisions", sel("decision"), 1)
	for _, d := range dataset(t, b, sel("decision")) {
		if !containsAny(d["outcome"], "answer", "none", "missed") || !containsAny(d["app"], "web-") {
			t.Errorf("a decision row %v: want app web-N and outcome answer, none or missed", d)
		}
	}
	b.NoErrors(t)

	s.Terminate(t)
	s.Wait(t, hang)
	op.Terminate(t)
	if code := op.Wait(t, hang); code != 0 {
		t.Fatalf("operator exited %d on SIGTERM, want 0", code)
	}
	m := operatorStopped.FindStringSubmatch(op.Stderr.String())
	if m == nil {
		t.Fatalf("no stopped line in the operator's stderr:\n%s", op.Stderr.String())
	}
	for i, id := range []string{"op-requests", "op-answered", "op-missed"} {
		waitText(t, b, id+" as the stopped line says", sel(id), m[i+1])
	}
	for _, e := range b.Errors() {
		if !isStreamError(e) {
			t.Errorf("console error: %s", e)
		}
	}
}

// TestScreenshot writes a PNG of a closed-loop run (examples/live.yaml,
// two deployments followed, 20 ticks) to $METRICSENDER_SCREENSHOT: the
// README's docs/live.png. Without it, it skips.
func TestScreenshot(t *testing.T) {
	path := os.Getenv("METRICSENDER_SCREENSHOT")
	if path == "" {
		t.Skip("METRICSENDER_SCREENSHOT names no file; write docs/live.png with: " +
			browsertest.GateEnv + "=1 METRICSENDER_SCREENSHOT=$PWD/docs/live.png go test -count=1 -run TestScreenshot ./pagetest/")
	}
	_, _, b := closedLoop(t, "../examples/live.yaml", "1s", "web-0", "api-0")
	// Tall enough for both charts' first metric.
	b.Do(t, "size the viewport", chromedp.EmulateViewport(1280, 1280))
	b.WaitTrue(t, "20 ticks", `+document.querySelector(`+js(sel("run-ticks"))+`)?.textContent >= 20`, hang)
	b.Screenshot(t, path)
	b.NoErrors(t)
	t.Logf("wrote %s", path)
}
