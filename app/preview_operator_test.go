package app_test

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of the tests that have one")

// preview --operator on a demand step: the golden CSV pins the loop, and
// the rows show an HPA converging: per-replica cpu back at the 0.5 target
// after each step, replicas rising as fast as the real controller lets an
// HPA without behavior (to at most max(2 x current, 4) per sync: 1 -> 4 ->
// 8, and 2 -> 4 -> 8) and falling only after the stabilization window.
func TestPreviewOperatorGolden(t *testing.T) {
	var out bytes.Buffer
	args := []string{"-c", "testdata/operator.yaml", "--duration", "25m", "--format", "csv",
		"--operator", "hpa:metric=cpu,target=0.5,delay=30s,stabilization=2m"}
	if code, stderr := preview(t, &out, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	const golden = "testdata/operator.golden.csv"
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("rows differ from %s (go test ./app -run TestPreviewOperatorGolden -update rewrites it):\n%s", golden, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if lines[0] != "elapsed,app,metric,value,replicas" {
		t.Fatalf("header %q, want the replicas column", lines[0])
	}
	// The step to 4 at 0 s: 4 replicas from the tick after the 30 s delay
	// (the scale-up limit of 1 replica), 8 a minute later, and the demand
	// per replica at the target; the same from 2 replicas at 1200 s.
	for _, want := range []string{"60,web,cpu,1,4", "120,web,cpu,0.5,8", "1170,web,cpu,0.5,2", "1260,web,cpu,1,4", "1320,web,cpu,0.5,8"} {
		if !strings.Contains(out.String(), "\n"+want+"\n") {
			t.Errorf("no row %q", want)
		}
	}
}

func TestPreviewOperatorUsage(t *testing.T) {
	for _, tt := range []struct{ op, want string }{
		{"vpa", `unknown policy "vpa"`},
		{"hpa:metric=cpu", "target: must be > 0"},
	} {
		var out bytes.Buffer
		code, stderr := preview(t, &out, "-c", "testdata/operator.yaml", "--duration", "1m", "--operator", tt.op)
		if code != 2 || !strings.Contains(stderr, "--operator") || !strings.Contains(stderr, tt.want) {
			t.Errorf("--operator %s: exit %d, stderr %q; want 2 naming the flag and %q", tt.op, code, stderr, tt.want)
		}
	}
}
