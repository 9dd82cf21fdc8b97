package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/proctest"
)

// faultPrediction is what preview says a faulted run injects: the counts
// send and receive --check must report, and the wire messages it sends.
type faultPrediction struct {
	wire       int
	counts     map[string]int // by kind, as the sender counts them
	tailCopies int            // copies made in the last 3 ticks
}

// predictFaults runs preview over cfg (metrics per message) and counts its
// messages: every metrics rows of one app at one elapsed time, in order.
func predictFaults(t *testing.T, cfg string, duration string, metrics int) faultPrediction {
	t.Helper()
	var out bytes.Buffer
	if code, stderr := preview(t, &out, "-c", cfg, "--duration", duration, "--format", "csv"); code != 0 {
		t.Fatalf("preview exit %d: %s", code, stderr)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	p := faultPrediction{counts: map[string]int{}}
	rows = rows[1:]
	last, _ := strconv.ParseFloat(rows[len(rows)-1][0], 64)
	for i := 0; i < len(rows); i += metrics {
		fault := rows[i][4]
		if at, _ := strconv.ParseFloat(rows[i][0], 64); at > last-0.3 && (fault == "duplicate" || fault == "burst") {
			p.tailCopies++
		}
		if fault != "drop" && fault != "silence" {
			p.wire++
		}
		for _, kind := range strings.Split(fault, ",") {
			if kind != "" {
				p.counts[kind]++
			}
		}
	}
	return p
}

// A run with every kind of fault at once, received on a --queue with
// --check --expect: the receiver tells every injected fault from real loss
// (exit 0, missing=0), and its injected counts, the sender's and
// preview's agree.
func TestSendFaultsEndToEnd(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	suffix := time.Now().UnixNano()
	app := fmt.Sprintf("flt%d", suffix)
	queue := "metricsender-test-" + app
	brokertest.DeleteQueueAtCleanup(t, uri, queue)
	cfg := writeFile(t, "f.yaml", fmt.Sprintf(`seed: 11
interval: 100ms
faults:
  drop: {p: 0.1}
  duplicate: {p: 0.1}
  delay: {p: 0.1, by: 250ms}
  stale: {p: 0.1, by: 10m}
  corrupt: {p: 0.1, metrics: [cpu]}
  omit: {p: 0.1, metrics: [memory]}
  silence: {every: 1s, for: 200ms}
  burst: {p: 0.03, times: 4}
deployments:
  - name: %s
    count: 10
    metrics:
      cpu: {uniform: {min: 100m, max: 2, step: 100m}}
      memory: [128Mi, 256Mi]
`, app))
	const ticks = 30
	want := predictFaults(t, cfg, "3s", 2)
	for _, kind := range []string{"drop", "duplicate", "delay", "stale", "corrupt", "omit", "silence", "burst"} {
		if want.counts[kind] == 0 {
			t.Fatalf("preview predicts no %s: the test would prove nothing (%v)", kind, want.counts)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"receive", "--uri", uri, "--queue", queue, "--check", "--config", cfg,
		"--expect", strconv.Itoa(ticks), "--timeout", "90s", "--output", "json"}
	for i := range 10 {
		args = append(args, "--topic", fmt.Sprintf("Metrics.%s-%d", app, i))
	}
	recv := startCLI(t, ctx, args...)
	brokertest.WaitConsumer(t, ctx, uri, queue)
	code, _, sendErr := runCLI(t, ctx, "send", "-c", cfg, "--uri", uri, "--count", strconv.Itoa(ticks), "--http-addr", "")
	if code != 0 {
		t.Fatalf("send exit %d:\n%s", code, sendErr)
	}
	r := <-recv
	if r.code != 0 {
		t.Fatalf("receive exit %d, want 0 (only injected faults):\n%s", r.code, r.stderr)
	}
	// The receiver stops once every expected seq arrived (the suppressed
	// ones count as accounted for): copies of the last messages may come
	// after it, and a copy the broker or a retried publish delivers twice
	// counts again (at-least-once). The other counts are exact.
	got := proctest.Injected(t, r.stderr)
	exact := map[string]int{"drops": want.counts["drop"] + want.counts["silence"], "delays": want.counts["delay"],
		"stale": want.counts["stale"], "corrupt": want.counts["corrupt"], "omits": want.counts["omit"]}
	for k, w := range exact {
		if got[k] != w {
			t.Errorf("injected_%s=%d, preview predicts %d:\n%s", k, got[k], w, r.stderr)
		}
	}
	copies, wantCopies := got["duplicates"]+got["bursts"], want.counts["duplicate"]+want.counts["burst"]
	if copies < wantCopies-want.tailCopies || copies > wantCopies+wantCopies/10 {
		t.Errorf("injected copies %d, preview predicts %d (%d in the last ticks)", copies, wantCopies, want.tailCopies)
	}
	for _, clean := range []string{" missing=0 ", " out_of_order=0 ", " out_of_bounds=0 ", " decode_errors=0 "} {
		if !strings.Contains(r.stderr, clean) {
			t.Errorf("summary lacks%s:\n%s", clean, r.stderr)
		}
	}
	if got := senderFaultCounts(sendErr); fmt.Sprint(got) != fmt.Sprint(want.counts) {
		t.Errorf("sender counted %v, preview predicts %v", got, want.counts)
	}
}

var faultLine = regexp.MustCompile(`msg="faults injected[^"]*"(.*) kinds=`)

// senderFaultCounts adds up the sender's "faults injected" log lines.
func senderFaultCounts(stderr string) map[string]int {
	counts := map[string]int{}
	for _, m := range faultLine.FindAllStringSubmatch(stderr, -1) {
		for _, kv := range strings.Fields(m[1]) {
			k, v, _ := strings.Cut(kv, "=")
			if k == "run" {
				continue // the run id is hex, all digits now and then
			}
			if n, err := strconv.Atoi(v); err == nil {
				counts[k] += n
			}
		}
	}
	return counts
}
