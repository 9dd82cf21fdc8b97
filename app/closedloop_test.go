package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/app"
	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/syncbuf"
)

// TestClosedLoopAPI is the closed loop end to end over gochannel: web
// starts from state replicas 2, so cpu = 2.0 / replicas sends 1; a PUT of
// its state with replicas 4 makes it send 0.5 within two ticks.
func TestClosedLoopAPI(t *testing.T) {
	cfg := writeFile(t, "loop.yaml", "deployments:\n  - name: web\n    state: {replicas: 2}\n    metrics:\n      cpu: {expr: \"2.0 / replicas\"}\n")
	addr := brokertest.FreeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run := startLoop(ctx, "-c", cfg, "--http-addr", addr, "--feedback", "api", "--enable-control")
	lines := run.web
	waitFor := func(what string, ok func() bool) { t.Helper(); run.waitFor(t, ctx, what, ok) }
	waitFor("first message", func() bool { s, _ := lines(); return len(s) > 0 })

	req, err := http.NewRequestWithContext(ctx, "PUT", "http://"+addr+"/v1/deployments/web/state", strings.NewReader(`{"replicas": 4}`))
	if err != nil {
		t.Fatal(err)
	}
	seqsBefore, _ := lines()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT state: %d %s", resp.StatusCode, body)
	}
	atPut := seqsBefore[len(seqsBefore)-1]
	waitFor("0.5", func() bool { _, v := lines(); return len(v) > 0 && v[len(v)-1] == "0.5" })

	seqs, values := lines()
	first := -1
	for i, v := range values {
		switch {
		case first < 0 && v == "1":
		case first < 0 && v == "0.5":
			first = i
		case first >= 0 && v == "0.5":
		default:
			t.Errorf("seq %d sent %q: want 1 until the PUT, then 0.5 (values %q)", seqs[i], v, values)
		}
	}
	if first < 0 || seqs[first] > atPut+2 {
		t.Errorf("the PUT came after seq %d; 0.5 first at seq %d, want within two ticks (values %q)", atPut, seqs[first], values)
	}

	get, err := http.Get("http://" + addr + "/v1/deployments/web")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(get.Body)
	_ = get.Body.Close()
	if !strings.Contains(string(body), `"replicas":{"value":4,"source":"api","at":"`) {
		t.Errorf("GET web: %s\nwant the state's replicas 4 set by api", body)
	}
	metrics, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(metrics.Body)
	_ = metrics.Body.Close()
	if !strings.Contains(string(body), `metricsender_observed_replicas{app="web"} 4`) {
		t.Errorf("/metrics has no observed_replicas of 4 for web")
	}
	cancel()
	if code := <-run.done; code != 0 {
		t.Fatalf("exit %d: %s", code, run.stderr.String())
	}
}

// loopRun is a send in this process over gochannel at a 100 ms interval,
// printing JSON lines, for the closed-loop tests.
type loopRun struct {
	stdout, stderr syncbuf.Buffer
	done           chan int // its exit status
}

// startLoop starts send with args after the common ones; cancel ctx to
// stop it.
func startLoop(ctx context.Context, args ...string) *loopRun {
	r := &loopRun{done: make(chan int, 1)}
	args = append([]string{"metricsender", "send", "-t", "gochannel", "--interval", "100ms", "--output", "json"}, args...)
	go func() { r.done <- app.RunContext(ctx, args, &r.stdout, &r.stderr) }()
	return r
}

// web returns web's cpu values by seq, as printed so far.
func (r *loopRun) web() (seqs []uint64, cpu []string) {
	for _, l := range strings.Split(strings.TrimSpace(r.stdout.String()), "\n") {
		var jl app.JSONLine
		if l == "" || json.Unmarshal([]byte(l), &jl) != nil || jl.App != "web" || jl.Seq == nil {
			continue
		}
		seqs, cpu = append(seqs, *jl.Seq), append(cpu, jl.Metrics["cpu"])
	}
	return seqs, cpu
}

// waitFor polls ok until it holds, failing the test when send exits or
// ctx ends first.
func (r *loopRun) waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case code := <-r.done:
			t.Fatalf("send exited %d while waiting for %s:\n%s", code, what, r.stderr.String())
		case <-ctx.Done():
			t.Fatalf("no %s in time; stdout:\n%s\nstderr:\n%s", what, r.stdout.String(), r.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestSendExprErrors: an expression failing at every tick sends its
// previous value (0 on the first tick, without min), never skips a
// message, and logs once, then one summary at the end of the run.
func TestSendExprErrors(t *testing.T) {
	cfg := writeFile(t, "err.yaml", "deployments:\n  - name: web\n    state: {replicas: 2}\n    metrics:\n      cpu: {expr: \"1.0 / (replicas - 2.0)\"}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, stdout, stderr := runCLI(t, ctx, "send", "-t", "gochannel", "-c", cfg, "--interval", "10ms", "--count", "3",
		"--output", "json", "--http-addr", "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := decodeLines(t, stdout)
	if len(lines) != 3 {
		t.Fatalf("%d messages, want 3:\n%s", len(lines), stdout)
	}
	for _, l := range lines {
		if l.Metrics["cpu"] != "0" {
			t.Errorf("seq %d: cpu %q, want 0 (no previous value, no min)", *l.Seq, l.Metrics["cpu"])
		}
	}
	if n := strings.Count(stderr, `msg="expression failed: the metric sent its previous value"`); n != 1 {
		t.Errorf("%d first-error lines, want 1:\n%s", n, stderr)
	}
	if !regexp.MustCompile(`msg="expression failed: the metric sent its previous value \(summary\)" .*errors=2 metrics=1 example=web.cpu`).MatchString(stderr) {
		t.Errorf("no summary line with errors=2 at the end:\n%s", stderr)
	}
	if !strings.Contains(stderr, `error="expression \"1.0 / (replicas - 2.0)\": result +Inf is not a finite number"`) {
		t.Errorf("the error is not logged with its expression:\n%s", stderr)
	}
}

// preview runs an expr on the config's state and says how many failed.
func TestPreviewExpr(t *testing.T) {
	cfg := writeFile(t, "p.yaml", "interval: 10s\ndeployments:\n  - name: web\n    state: {replicas: 2, allocation: {cpu: 500m}}\n    metrics:\n"+
		"      cpu: {expr: \"allocation.cpu * 4.0 / replicas + tick\"}\n      bad: {expr: \"allocation.gpu\", min: 1}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, stdout, stderr := runCLI(t, ctx, "preview", "-c", cfg, "--duration", "30s", "--seed", "1", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "elapsed,app,metric,value\n0,web,bad,1\n0,web,cpu,1\n10,web,bad,1\n10,web,cpu,2\n20,web,bad,1\n20,web,cpu,3\n"
	if stdout != want {
		t.Errorf("rows:\n%s\nwant:\n%s", stdout, want)
	}
	if !strings.Contains(stderr, `expression errors: 3 (each sent the metric's previous value); the first: web.bad: expression "allocation.gpu": no such key: gpu`) {
		t.Errorf("stderr does not count the 3 errors:\n%s", stderr)
	}
}
