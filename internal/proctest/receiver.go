package proctest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var summaryRE = regexp.MustCompile(`received=(\d+) missing=(\d+) duplicates=(\d+) out_of_order=(\d+) out_of_bounds=(\d+) decode_errors=(\d+)`)

// Summary parses a receiver's --check summary line in stderr, failing the
// test when there is none.
func Summary(t *testing.T, stderr string) map[string]int {
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

var injectedRE = regexp.MustCompile(`injected_(\w+)=(\d+)`)

// Injected parses the injected_* fields of a --check summary in stderr
// (drops, duplicates, delays, stale, corrupt, omits, bursts), failing the
// test when there are none.
func Injected(t *testing.T, stderr string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range injectedRE.FindAllStringSubmatch(stderr, -1) {
		out[m[1]], _ = strconv.Atoi(m[2])
	}
	if len(out) == 0 {
		t.Fatalf("no injected_* fields in:\n%s", stderr)
	}
	return out
}

// Missing lists, per app, the seqs 1..ticks that the JSON lines of a
// receiver's stdout do not hold. A line still being written is skipped.
func Missing(stdout string, apps []string, ticks int) map[string][]uint64 {
	seen := map[string]map[uint64]bool{}
	for _, line := range strings.Split(stdout, "\n") {
		var m struct {
			App string  `json:"app"`
			Seq *uint64 `json:"seq"`
		}
		if line == "" || json.Unmarshal([]byte(line), &m) != nil || m.Seq == nil {
			continue
		}
		if seen[m.App] == nil {
			seen[m.App] = map[uint64]bool{}
		}
		seen[m.App][*m.Seq] = true
	}
	missing := map[string][]uint64{}
	for _, app := range apps {
		for s := uint64(1); s <= uint64(ticks); s++ {
			if !seen[app][s] {
				missing[app] = append(missing[app], s)
			}
		}
	}
	return missing
}

// Drained is what a receiver printed once Drain stopped it.
type Drained struct {
	Code    int                 // its exit status
	Summary map[string]int      // its --check summary (see Summary)
	Missing map[string][]uint64 // the seqs 1..ticks per app it did not print (see Missing)
}

// Drain waits for recv, a `receive --check --output json` whose sender
// has ended, to print every seq 1..ticks of every app, but no longer
// than two minutes, nor once it has printed nothing new for idle: what is
// missing then is lost, not late. Then it stops recv with SIGTERM and
// reads what it printed.
func Drain(t *testing.T, recv *Proc, apps []string, ticks int, idle time.Duration) Drained {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	lines, idleSince := recv.Lines(), time.Now()
	for len(Missing(recv.Stdout.String(), apps, ticks)) > 0 && time.Now().Before(deadline) && time.Since(idleSince) < idle {
		time.Sleep(200 * time.Millisecond)
		if n := recv.Lines(); n != lines {
			lines, idleSince = n, time.Now()
		}
	}
	recv.Terminate(t)
	code := recv.Wait(t, 2*time.Minute)
	return Drained{Code: code, Summary: Summary(t, recv.Stderr.String()), Missing: Missing(recv.Stdout.String(), apps, ticks)}
}

// Check fails the test unless the receiver exited 0 with nothing missing,
// out of bounds or undecodable, by its summary and by what it printed. It
// reports whether nothing was missing from the printed messages.
func (d Drained) Check(t *testing.T) bool {
	t.Helper()
	if d.Code != 0 {
		t.Errorf("receive exit %d, want 0", d.Code)
	}
	if d.Summary["missing"] != 0 || d.Summary["out_of_bounds"] != 0 || d.Summary["decode_errors"] != 0 {
		t.Errorf("receiver summary %v, want missing=0 out_of_bounds=0 decode_errors=0", d.Summary)
	}
	if len(d.Missing) > 0 {
		t.Errorf("never received (app: seqs): %v", d.Missing)
		return false
	}
	return true
}

// WriteConfig writes a config of the given deployments, each with the
// metrics cpu (100m or 200m) and memory (128Mi), after head (top-level
// settings such as faults:, or ""), and returns its path.
func WriteConfig(t *testing.T, head string, apps ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(head)
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
