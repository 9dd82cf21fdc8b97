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
