package app_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

const faultsConfig = `seed: 3
interval: 10s
faults:
  drop: {p: 0.2}
  duplicate: {p: 0.1}
  delay: {p: 0.1, by: 25s}
  stale: {p: 0.1}
  corrupt: {p: 0.1, metrics: [cpu], values: ["NaN"]}
  omit: {p: 0.1, metrics: [memory]}
  silence: {every: 2m, for: 20s}
  burst: {p: 0.05, times: 3}
deployments:
  - name: web
    count: 3
    metrics:
      cpu: {sine: {min: 1, max: 4, period: 5m}}
      memory: [128Mi, 256Mi]
`

// previewFaults runs preview --format csv over faultsConfig and returns
// its rows without the header, which must have the fault column.
func previewFaults(t *testing.T, duration string) [][]string {
	t.Helper()
	var out bytes.Buffer
	if code, stderr := preview(t, &out, "-c", writeFile(t, "f.yaml", faultsConfig), "--duration", duration, "--format", "csv"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], []string{"elapsed", "app", "metric", "value", "fault"}) {
		t.Fatalf("header %q, want a fault column", rows[0])
	}
	return rows[1:]
}

func TestPreviewFaults(t *testing.T) {
	rows := previewFaults(t, "20m")
	if again := previewFaults(t, "20m"); !slices.EqualFunc(rows, again, slices.Equal) {
		t.Fatal("the same seed previewed other faults")
	}
	seen := map[string]int{}
	for _, r := range rows {
		elapsed, app, metric, value, fault := r[0], r[1], r[2], r[3], r[4]
		for _, kind := range strings.Split(fault, ",") {
			seen[kind]++
		}
		switch {
		case fault == "drop" || fault == "silence":
			if value != "" {
				t.Errorf("%s %s %s: %s row with value %q, want empty", elapsed, app, metric, fault, value)
			}
			if elapsed == "1190" {
				t.Errorf("%s %s: the last tick was %sped", elapsed, app, fault)
			}
		case strings.Contains(fault, "omit") && metric == "memory":
			if value != "" {
				t.Errorf("omitted memory has value %q", value)
			}
		case strings.Contains(fault, "corrupt") && metric == "cpu":
			if value != "NaN" {
				t.Errorf("corrupt cpu = %q, want NaN", value)
			}
		case fault == "":
			if value == "" {
				t.Errorf("%s %s %s: no fault and no value", elapsed, app, metric)
			}
		}
	}
	for _, kind := range []string{"drop", "duplicate", "delay", "stale", "corrupt", "omit", "silence", "burst"} {
		if seen[kind] == 0 {
			t.Errorf("no %s in 20 minutes of 3 deployments: %v", kind, seen)
		}
	}
	// silence is on during [0, 20s) of every 2 minutes: ticks 0 and 10 of 120 s.
	for _, r := range rows {
		if r[0] == "120" && r[4] != "silence" || r[0] == "130" && r[4] != "silence" {
			t.Errorf("row %q: want silence at 120 and 130 s", r)
		}
	}
}

// A delayed message's row stands at its tick's time, and a copy repeats
// its original's values.
func TestPreviewFaultCopies(t *testing.T) {
	rows := previewFaults(t, "20m")
	for i, r := range rows {
		if r[4] != "duplicate" && r[4] != "burst" {
			continue
		}
		// The original is the nearest earlier row of the same tick, app and metric without a copy fault.
		for j := i - 1; j >= 0; j-- {
			o := rows[j]
			if o[0] == r[0] && o[1] == r[1] && o[2] == r[2] && o[4] != "duplicate" && o[4] != "burst" {
				if o[3] != r[3] {
					t.Errorf("copy %q differs from its original %q", r, o)
				}
				break
			}
		}
	}
}
