package faulttest_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/proctest"
)

// TestInjectedFaultsThroughConnectionCuts: a run with every kind of fault
// at once, and the sender's and receiver's broker connections cut twice
// midway. The receiver still tells injected faults from real loss: it
// finds nothing missing, exits 0 once every expected seq arrived (those
// suppressed on purpose included), and counts exactly the drops, delays,
// stale, corrupt and omitted messages preview predicts for the seed; the
// copies at least as many (a copy the broker redelivers counts again).
func TestInjectedFaultsThroughConnectionCuts(t *testing.T) {
	uri := faultTest(t)
	n := time.Now().UnixNano()
	const ticks, apps = 200, 3
	var names []string
	for i := range apps {
		names = append(names, fmt.Sprintf("faulty%d-%d", n, i))
	}
	path := proctest.WriteConfig(t, `seed: 5
faults:
  drop: {p: 0.05}
  duplicate: {p: 0.05}
  delay: {p: 0.05, by: 300ms}
  stale: {p: 0.05}
  corrupt: {p: 0.05, metrics: [cpu]}
  omit: {p: 0.05, metrics: [memory]}
  silence: {every: 4s, for: 300ms}
  burst: {p: 0.01, times: 5}
`, names...)
	want := predict(t, path, ticks, 100*time.Millisecond)

	queue := fmt.Sprintf("metricsender-fault-faults-%d", n)
	brokertest.DeleteQueueAtCleanup(t, uri, queue)
	args := []string{"receive", "--uri", uri, "--queue", queue, "--check", "--config", path,
		"--expect", strconv.Itoa(ticks), "--timeout", "4m", "--output", "json"}
	for _, a := range names {
		args = append(args, "--topic", "Metrics."+a)
	}
	recv := proctest.Start(t, binary, "receive", args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	brokertest.WaitConsumer(t, ctx, uri, queue)
	send := proctest.Start(t, binary, "send", "send", "-c", path, "--uri", uri, "--interval", "100ms", "--count", strconv.Itoa(ticks), "--http-addr", "")
	for cut := 1; cut <= 2; cut++ {
		send.WaitOutput(t, fmt.Sprintf("%d ticks", 60*cut), 3*time.Minute, true,
			func(s string) bool { return strings.Count(s, "msg=tick") >= 60*cut })
		if got := cutConnections(t, send.PID(), recv.PID()); got < 2 {
			t.Errorf("cut %d closed %d connections, want at least 2", cut, got)
		}
	}
	if code := send.Wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("send exit %d, want 0 (injected faults never fail a run):\n%s", code, send.Stderr.String())
	}
	if code := recv.Wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("receive exit %d, want 0:\n%s", code, recv.Stderr.String())
	}
	got := proctest.Injected(t, recv.Stderr.String())
	sum := proctest.Summary(t, recv.Stderr.String())
	t.Logf("receiver: %v, injected %v; preview predicts %v", sum, got, want)
	if sum["missing"] != 0 || sum["out_of_bounds"] != 0 || sum["decode_errors"] != 0 {
		t.Errorf("summary %v, want missing=0 out_of_bounds=0 decode_errors=0", sum)
	}
	exact := map[string]int{
		"drops": want["drop"] + want["silence"], "delays": want["delay"], "stale": want["stale"],
		"corrupt": want["corrupt"], "omits": want["omit"],
	}
	for k, w := range exact {
		if got[k] != w {
			t.Errorf("injected_%s=%d, preview predicts %d", k, got[k], w)
		}
	}
	// The receiver stops once every expected seq arrived: copies of the
	// last messages to arrive (the last ticks, or a delayed one) may come
	// after it. Redelivered copies count again.
	copies, wantCopies := got["duplicates"]+got["bursts"], want["duplicate"]+want["burst"]
	if copies < wantCopies-want["tail copies"] {
		t.Errorf("injected copies %d, preview predicts %d (%d of them in the last ticks)", copies, wantCopies, want["tail copies"])
	}
}

// predict runs preview over the first ticks of cfg and counts the faults
// of its messages (two metrics each), as the sender counts them, and the
// copies made in the last 4 ticks ("tail copies").
func predict(t *testing.T, cfg string, ticks int, interval time.Duration) map[string]int {
	t.Helper()
	out, err := exec.Command(binary, "preview", "-c", cfg, "--interval", interval.String(),
		"--duration", (time.Duration(ticks) * interval).String(), "--format", "csv").Output()
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	tail := (time.Duration(ticks-4) * interval).Seconds()
	for i := 1; i < len(rows); i += 2 {
		for _, kind := range strings.Split(rows[i][4], ",") {
			if kind != "" {
				counts[kind]++
			}
		}
		if elapsed, _ := strconv.ParseFloat(rows[i][0], 64); elapsed >= tail && (rows[i][4] == "duplicate" || rows[i][4] == "burst") {
			counts["tail copies"]++
		}
	}
	return counts
}
