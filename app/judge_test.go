package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
)

// waitReady polls http://addr/readyz until it answers 200.
func waitReady(t *testing.T, ctx context.Context, addr string) {
	t.Helper()
	for {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s/readyz never answered 200", addr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var judgeLine = regexp.MustCompile(`requests=(\d+) applied=(\d+) superseded=(\d+) open=(\d+) reaction_p50=(\S+) reaction_p99=(\S+) reaction_max=(\S+) oscillations=(\d+)`)

// judgedRun runs `send --feedback bus` beside `operator --policy follow
// --delay 1s` (with extra operator flags), judged with --max-reaction, on the real RabbitMQ: web's
// replicas step between 1 and 3. It returns send's exit status, its
// summary line's fields, and its --report.
func judgedRun(t *testing.T, maxReaction string, opFlags ...string) (int, []string, map[string]any) {
	t.Helper()
	uri := brokertest.AMQPURI(t)
	app := fmt.Sprintf("judge%d", time.Now().UnixNano())
	cfg := writeFile(t, "loop.yaml", fmt.Sprintf(`interval: 500ms
deployments:
  - name: %s
    metrics:
      replicas: {spike: {base: 1, peak: 3, every: 4s, for: 2s}}
`, app))
	report := filepath.Join(t.TempDir(), "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opCtx, stopOp := context.WithCancel(ctx)
	defer stopOp()
	opAddr := brokertest.FreeAddr(t)
	op := startCLI(t, opCtx, append([]string{"operator", "--uri", uri, "--topic", "Metrics." + app, "--policy", "follow",
		"--delay", "1s", "--seed", "3", "--http-addr", opAddr}, opFlags...)...)
	waitReady(t, ctx, opAddr)
	code, _, stderr := runCLI(t, ctx, "send", "-c", cfg, "--uri", uri, "--count", "16", "--http-addr", "",
		"--feedback", "bus", "--max-reaction", maxReaction, "--report", report)
	stopOp()
	if r := <-op; r.code != 0 {
		t.Errorf("operator exit %d:\n%s", r.code, r.stderr)
	}
	m := judgeLine.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("send exit %d, no judging line:\n%s", code, stderr)
	}
	var rep map[string]any
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("--report: %v\n%s", err, stderr)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("--report is not JSON: %v", err)
	}
	t.Logf("send: %s", m[0])
	return code, m[1:], rep
}

// A follow operator with a 1 s actuation time applies every request;
// reaction times lie between the delay and the delay plus one tick plus
// 2 s; the summary line and the report agree.
func TestJudgeFollowOperator(t *testing.T) {
	code, f, rep := judgedRun(t, "3s")
	if code != 0 {
		t.Fatalf("send exit %d, want 0 (every request applied in time)", code)
	}
	requests, _ := strconv.Atoi(f[0])
	if requests < 3 || f[1] != f[0] || f[2] != "0" || f[3] != "0" {
		t.Errorf("requests=%s applied=%s superseded=%s open=%s: want every request (>= 3) applied", f[0], f[1], f[2], f[3])
	}
	for _, q := range f[4:7] {
		v, err := strconv.ParseFloat(q, 64)
		if err != nil || v < 1 || v > 1+0.5+2 {
			t.Errorf("reaction %s: want within [1, 3.5] s (delay <= reaction <= delay + interval + 2s)", q)
		}
	}
	if rep["requests"] != float64(requests) || rep["applied"] != float64(requests) {
		t.Errorf("report %v disagrees with the line %v", rep, f)
	}
	if f[7] != "0" {
		t.Errorf("oscillations=%s: the replicas followed requests that themselves turn, want 0", f[7])
	}
}

// An operator that misses 9 requests in 10 is caught (each tick repeats
// the request, so it gets several chances): some are left
// open or superseded, and --max-reaction fails the run.
func TestJudgeCatchesAMissingOperator(t *testing.T) {
	code, f, rep := judgedRun(t, "1500ms", "--miss", "0.9") // each value stands 2 s
	if code != 1 {
		t.Errorf("send exit %d, want 1 (--max-reaction 1.5s, requests missed)", code)
	}
	if f[2] == "0" && f[3] == "0" {
		t.Errorf("superseded=%s open=%s: a missing operator left nothing unapplied?", f[2], f[3])
	}
	if rep["late"] == float64(0) {
		t.Errorf("report says nothing was late: %v", rep)
	}
}

// An HPA stand-in on a demand step: cpu = load / replicas with load 4
// against a target of 0.5 per replica. Replicas rise until the value sent
// is within the tolerance of the target, then hold: no oscillation.
func TestJudgeHPAConverges(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	app := fmt.Sprintf("hpa%d", time.Now().UnixNano())
	cfg := writeFile(t, "hpa.yaml", fmt.Sprintf(`interval: 300ms
deployments:
  - name: %s
    metrics:
      cpu: {expr: "load / replicas", vars: {load: 4}, decimals: 3}
`, app))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opCtx, stopOp := context.WithCancel(ctx)
	defer stopOp()
	opAddr := brokertest.FreeAddr(t)
	op := startCLI(t, opCtx, "operator", "--uri", uri, "--topic", "Metrics."+app, "--policy", "hpa", "--metric", "cpu",
		"--target", "0.5", "--max", "20", "--delay", "300ms", "--http-addr", opAddr)
	waitReady(t, ctx, opAddr)
	values := plainConsumer(t, uri, "Metrics."+app)
	code, _, stderr := runCLI(t, ctx, "send", "-c", cfg, "--uri", uri, "--count", "20", "--http-addr", "", "--feedback", "bus")
	stopOp()
	<-op
	if code != 0 {
		t.Fatalf("send exit %d:\n%s", code, stderr)
	}
	var cpu []string
	for len(cpu) < 20 {
		select {
		case d := <-values:
			cpu = append(cpu, fmt.Sprint(d.Headers["cpu"]))
		case <-ctx.Done():
			t.Fatalf("got %d of 20 messages: %v", len(cpu), cpu)
		}
	}
	if cpu[0] != "4" || cpu[len(cpu)-1] != "0.5" {
		t.Errorf("cpu per replica %v: want 4 at first (1 replica), 0.5 (8 replicas) at the end", cpu)
	}
	m := judgeLine.FindStringSubmatch(stderr)
	if m == nil || m[8] != "0" {
		t.Errorf("want oscillations=0 in the judging line:\n%s", stderr)
	}
}
