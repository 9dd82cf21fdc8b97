//go:build kubeapiserver

package realhpa_test

import (
	"bytes"
	"encoding/csv"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// standIn runs `metricsender preview --operator SPEC` on config over
// duration and returns app's replica decisions. A tick's rows show the
// replicas that tick saw, and the stand-in's decision on a message is
// seen from the app's next tick: a change at a row is the decision of the
// app's previous row, timed at that row's tick. It also returns the value
// of metric each tick sent (NaN for none: a silenced tick).
func standIn(t *testing.T, config, app, metric, spec string, duration time.Duration) (decisions []change, sent []sample) {
	t.Helper()
	cmd := exec.Command(sender, "preview", "-c", config, "--duration", duration.String(),
		"--format", "csv", "--seed", "1", "--operator", spec)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("preview --operator %s: %v\n%s", spec, err, stderr.String())
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("preview csv: %v\n%s", err, out)
	}
	col := func(name string) int {
		i := slices.Index(rows[0], name)
		if i < 0 {
			t.Fatalf("preview csv: no column %q in %v", name, rows[0])
		}
		return i
	}
	elapsedCol, appCol, metricCol, valueCol, replicasCol := col("elapsed"), col("app"), col("metric"), col("value"), col("replicas")
	var prevAt time.Duration
	var prev string
	for _, r := range rows[1:] {
		if r[appCol] != app {
			continue
		}
		sec, err := strconv.ParseFloat(r[elapsedCol], 64)
		if err != nil {
			t.Fatalf("preview csv: elapsed %q: %v", r[elapsedCol], err)
		}
		at := time.Duration(sec * float64(time.Second))
		if r[metricCol] == metric {
			v, err := strconv.ParseFloat(r[valueCol], 64)
			if err != nil {
				v = math.NaN()
			}
			sent = append(sent, sample{at, v})
		}
		if at == prevAt && prev != "" {
			continue // another metric's row of the same tick
		}
		if prev != "" && r[replicasCol] != prev {
			n, err := strconv.Atoi(r[replicasCol])
			if err != nil {
				t.Fatalf("preview csv: replicas %q: %v", r[replicasCol], err)
			}
			decisions = append(decisions, change{at: prevAt, replicas: int32(n)})
		}
		prev, prevAt = r[replicasCol], at
	}
	return decisions, sent
}

// sample is a value at a time of the run.
type sample struct {
	at time.Duration
	v  float64
}
