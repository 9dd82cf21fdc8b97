package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
)

// neverAnsweredConfig asks for another replicas value every tick (a ramp
// at a 100 ms interval), so the last tick opens a request that nobody
// answers: the natural end waits --max-reaction for it, then judges it.
const neverAnsweredConfig = `interval: 100ms
deployments:
  - name: %s
    metrics:
      replicas: {ramp: {from: 2, to: 200, over: 10s}}
`

// checkLate asserts that a judged send exited 1 because the operator was
// late, with the open request counted.
func checkLate(t *testing.T, code int, stderr string) {
	t.Helper()
	m := judgeLine.FindStringSubmatch(stderr)
	if code != 1 || m == nil || m[4] == "0" || !strings.Contains(stderr, "the operator was late") {
		t.Errorf("send exit %d, want 1 with a request still open and late:\n%s", code, stderr)
	}
}

// TestJudgeNeverAnsweredIsLate: with nothing answering (the in-process
// equivalent of `operator --miss 1`), send --feedback bus --max-reaction
// exits 1 every time. It used to pass some runs: the request left open at
// the end had waited D plus a hair, which rounded to D and was not > D.
// Twenty short runs, two at a time; run it under CPU load too.
func TestJudgeNeverAnsweredIsLate(t *testing.T) {
	for i := range 20 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cfg := writeFile(t, "loop.yaml", fmt.Sprintf(neverAnsweredConfig, "web"))
			code, _, stderr := runCLI(t, ctx, "send", "-t", "gochannel", "-c", cfg, "--count", "3", "--http-addr", "",
				"--feedback", "bus", "--max-reaction", "300ms")
			checkLate(t, code, stderr)
		})
	}
}

// TestJudgeNeverAnsweringOperator is the same against the stand-in
// operator that reads every request and answers none (--miss 1), on the
// real broker.
func TestJudgeNeverAnsweringOperator(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	app := fmt.Sprintf("never%d", time.Now().UnixNano())
	cfg := writeFile(t, "loop.yaml", fmt.Sprintf(neverAnsweredConfig, app))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opCtx, stopOp := context.WithCancel(ctx)
	defer stopOp()
	opAddr := brokertest.FreeAddr(t)
	op := startCLI(t, opCtx, "operator", "--uri", uri, "--topic", "Metrics."+app, "--policy", "follow",
		"--delay", "1s", "--miss", "1", "--http-addr", opAddr)
	waitReady(t, ctx, opAddr)
	for i := range 3 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			code, _, stderr := runCLI(t, ctx, "send", "-c", cfg, "--uri", uri, "--count", "3", "--http-addr", "",
				"--feedback", "bus", "--max-reaction", "300ms")
			checkLate(t, code, stderr)
		})
	}
	stopOp()
	if r := <-op; r.code != 0 {
		t.Errorf("operator exit %d:\n%s", r.code, r.stderr)
	}
}
