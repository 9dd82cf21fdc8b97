package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labsea/metricsender/app"
)

const (
	previewExample = "../examples/metricsender.yaml"
	previewModels  = "testdata/models.yaml"
)

// preview runs `metricsender preview args...` in-process.
func preview(t *testing.T, stdout *bytes.Buffer, args ...string) (code int, stderr string) {
	t.Helper()
	var errOut bytes.Buffer
	code = app.RunContext(context.Background(), append([]string{"metricsender", "preview"}, args...), stdout, &errOut)
	return code, errOut.String()
}

// previewCSV runs preview with --format csv, fails the test on a non-zero
// exit, and returns the rows without the header.
func previewCSV(t *testing.T, args ...string) [][]string {
	t.Helper()
	var out bytes.Buffer
	if code, stderr := preview(t, &out, append(args, "--format", "csv")...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v", err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], []string{"elapsed", "app", "metric", "value"}) {
		t.Fatalf("header = %q, want elapsed,app,metric,value", rows[:min(1, len(rows))])
	}
	return rows[1:]
}

func TestPreviewCSVExample(t *testing.T) {
	lists := map[string][]string{ // the lists of examples/metricsender.yaml
		"app1/cpu": {"0.5", "0.8", "1.0"}, "app1/memory": {"256", "512", "1024"},
		"app2/cpu": {"0.2", "0.4"}, "app2/gpu": {"0", "1"},
	}
	tests := []struct {
		name     string
		args     []string
		wantTick []string
	}{
		{"config interval", []string{"--duration", "3m"}, []string{"0", "60", "120"}},
		{"--interval 60s", []string{"--duration", "3m", "--interval", "60s"}, []string{"0", "60", "120"}},
		{"--interval 45s", []string{"--duration", "2m", "--interval", "45s"}, []string{"0", "45", "90"}},
		{"--interval 2.5s", []string{"--duration", "6s", "--interval", "2.5s"}, []string{"0", "2.5", "5"}},
		{"duration ends between ticks", []string{"--duration", "61s"}, []string{"0", "60"}},
		{"tick at duration excluded", []string{"--duration", "60s"}, []string{"0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := previewCSV(t, append([]string{"-c", previewExample, "--seed", "1"}, tt.args...)...)
			if want := len(tt.wantTick) * 4; len(rows) != want {
				t.Fatalf("%d rows, want %d ticks * 4 metrics = %d:\n%q", len(rows), len(tt.wantTick), want, rows)
			}
			for i, r := range rows {
				tick, key := tt.wantTick[i/4], r[1]+"/"+r[2]
				if r[0] != tick {
					t.Errorf("row %d elapsed %s, want %s", i, r[0], tick)
				}
				if !slices.Contains(lists[key], r[3]) {
					t.Errorf("row %d: %s = %q, not one of %q", i, key, r[3], lists[key])
				}
			}
			// Within a tick: app1 then app2 (config order), metrics by name.
			var order []string
			for _, r := range rows[:4] {
				order = append(order, r[1]+"/"+r[2])
			}
			if want := []string{"app1/cpu", "app1/memory", "app2/cpu", "app2/gpu"}; !slices.Equal(order, want) {
				t.Errorf("tick order %q, want %q", order, want)
			}
		})
	}
}

// TestPreviewModels checks the time-shaped models end to end, value by value.
func TestPreviewModels(t *testing.T) {
	rows := previewCSV(t, "-c", previewModels, "--duration", "6m", "--seed", "1")
	got := make(map[string]string) // "elapsed app metric" -> value
	for _, r := range rows {
		got[r[0]+" "+r[1]+" "+r[2]] = r[3]
	}
	tests := []struct {
		name string
		at   string // "elapsed app metric"
		want string
	}{
		{"ramp starts at from", "0 scaler replicas", "1"},
		{"ramp at 1m", "60 scaler replicas", "2.8"},
		{"ramp at 2m", "120 scaler replicas", "4.6"},
		{"ramp at 3m", "180 scaler replicas", "6.4"},
		{"ramp at 4m", "240 scaler replicas", "8.2"},
		{"ramp reaches to", "300 scaler replicas", "10"},
		{"ramp holds to", "360 scaler replicas", ""}, // 360 is outside [0, 6m)
		{"sine starts at min", "0 wave qps", "10"},
		{"sine quarter", "60 wave qps", "60"},
		{"sine reaches max", "120 wave qps", "110"},
		{"sine back to min", "240 wave qps", "10"},
		{"spike on its window start", "0 burst cpu", "2"},
		{"spike still on", "20 burst cpu", "2"},
		{"spike off at for", "30 burst cpu", "100m"},
		{"spike off before every", "290 burst cpu", "100m"},
		{"spike again at every", "300 burst cpu", "2"},
		{"spike again, last of window", "320 burst cpu", "2"},
		{"spike off again", "330 burst cpu", "100m"},
		{"walk starts at start", "0 pool load", "500m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := got[tt.at]; v != tt.want {
				t.Errorf("%s = %q, want %q", tt.at, v, tt.want)
			}
		})
	}
	t.Run("row count", func(t *testing.T) {
		// 6 ticks of scaler, wave and pool (2 metrics), 36 of burst (10s).
		if want := 6 + 6 + 6*2 + 36; len(rows) != want {
			t.Errorf("%d rows, want %d", len(rows), want)
		}
	})
	t.Run("walk steps at most step and stays in bounds", func(t *testing.T) {
		prev := 0.5
		for _, r := range rows {
			if r[1] != "pool" || r[2] != "load" {
				continue
			}
			v := milli(t, r[3])
			if v < 0.1-1e-9 || v > 2+1e-9 || v-prev > 0.1+1e-9 || prev-v > 0.1+1e-9 {
				t.Errorf("at %s load %s: out of [100m, 2] or moved more than 100m from %v", r[0], r[3], prev)
			}
			prev = v
		}
	})
}

// milli parses "300m" or "2" (the walk's canonical quantities).
func milli(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	var err error
	if n, ok := strings.CutSuffix(s, "m"); ok {
		err = json.Unmarshal([]byte(n), &v)
		v /= 1000
	} else {
		err = json.Unmarshal([]byte(s), &v)
	}
	if err != nil {
		t.Fatalf("value %q: %v", s, err)
	}
	return v
}

func TestPreviewSeed(t *testing.T) {
	seeded := writeFile(t, "seeded.yaml", "seed: 5\ndeployments:\n  - name: a\n    metrics:\n      cpu: {uniform: {min: 0, max: 1000, step: 1}}\n")
	run := func(t *testing.T, args ...string) (stdout, stderr string) {
		t.Helper()
		var out bytes.Buffer
		code, stderr := preview(t, &out, append(args, "--duration", "30m", "-f", "csv")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return out.String(), stderr
	}
	tests := []struct {
		name      string
		a, b      []string
		wantEqual bool
	}{
		{"same seed twice", []string{"-c", previewExample, "--seed", "7"}, []string{"-c", previewExample, "--seed", "7"}, true},
		{"different seeds", []string{"-c", previewExample, "--seed", "7"}, []string{"-c", previewExample, "--seed", "8"}, false},
		{"config seed is used", []string{"-c", seeded}, []string{"-c", seeded, "--seed", "5"}, true},
		{"--seed overrides the config", []string{"-c", seeded}, []string{"-c", seeded, "--seed", "6"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, errA := run(t, tt.a...)
			b, errB := run(t, tt.b...)
			if (a == b) != tt.wantEqual {
				t.Errorf("outputs equal = %v, want %v\n%s\n---\n%s", a == b, tt.wantEqual, a, b)
			}
			if strings.Contains(errA+errB, "seed:") {
				t.Errorf("a seed was given but stderr names a random one: %s%s", errA, errB)
			}
		})
	}
	t.Run("random seed is printed and replays", func(t *testing.T) {
		out, stderr := run(t, "-c", previewExample)
		seed, ok := strings.CutPrefix(strings.TrimSpace(stderr), "seed: ")
		if !ok {
			t.Fatalf("stderr does not name the seed: %q", stderr)
		}
		again, _ := run(t, "-c", previewExample, "--seed", seed)
		if again != out {
			t.Errorf("--seed %s does not replay the run:\n%s\n---\n%s", seed, out, again)
		}
	})
}

func TestPreviewJSON(t *testing.T) {
	var out bytes.Buffer
	if code, stderr := preview(t, &out, "-c", previewModels, "--duration", "2m", "--seed", "1", "--format", "json"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if want := 2 + 2 + 2*2 + 12; len(lines) != want {
		t.Fatalf("%d lines, want %d", len(lines), want)
	}
	for i, line := range lines {
		t.Run(line, func(t *testing.T) {
			var row map[string]any
			if err := json.Unmarshal([]byte(line), &row); err != nil {
				t.Fatalf("line %d does not parse: %v", i, err)
			}
			if len(row) != 4 {
				t.Errorf("keys %v, want elapsed, app, metric, value", row)
			}
			if _, ok := row["elapsed"].(float64); !ok {
				t.Errorf("elapsed %#v is not a number", row["elapsed"])
			}
			for _, k := range []string{"app", "metric", "value"} {
				if s, ok := row[k].(string); !ok || s == "" {
					t.Errorf("%s %#v is not a non-empty string", k, row[k])
				}
			}
		})
	}
	if want := `{"elapsed":60,"app":"scaler","metric":"replicas","value":"2.8"}`; !slices.Contains(lines, want) {
		t.Errorf("no line %s", want)
	}
}

func TestPreviewTable(t *testing.T) {
	// Spread over 3 deployments: ticks at 3.333333333 s and so on.
	thirds := writeFile(t, "thirds.yaml", "spread: true\ninterval: 10s\ndeployments:\n  - name: a\n    count: 3\n    metrics:\n      cpu: 1\n")
	tests := []struct {
		name string
		args []string
	}{
		{"default format", []string{"-c", previewModels, "--duration", "6m"}},
		{"explicit table", []string{"-c", previewModels, "--duration", "90s", "--format", "table"}},
		{"fractional elapsed", []string{"-c", previewExample, "--duration", "10s", "--interval", "2.5s"}},
		{"spread thirds of a second", []string{"-c", thirds, "--duration", "1000s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if code, stderr := preview(t, &out, append(tt.args, "--seed", "1")...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			header := lines[0]
			if f := strings.Fields(header); !slices.Equal(f, []string{"ELAPSED", "APP", "METRIC", "VALUE"}) {
				t.Fatalf("header %q", header)
			}
			// ELAPSED is right-aligned (numbers), the others left-aligned.
			elapsedEnd := len("ELAPSED") + strings.Index(header, "ELAPSED")
			starts := []int{strings.Index(header, "APP"), strings.Index(header, "METRIC"), strings.Index(header, "VALUE")}
			for _, line := range lines[1:] {
				f := strings.Fields(line)
				if len(f) != 4 {
					t.Fatalf("row %q: %d fields", line, len(f))
				}
				if end := strings.Index(line, f[0]) + len(f[0]); end != elapsedEnd {
					t.Errorf("row %q: elapsed ends at %d, header at %d", line, end, elapsedEnd)
				}
				for i, want := range starts {
					if line[want:want+len(f[i+1])] != f[i+1] || line[want-1] != ' ' {
						t.Errorf("row %q: column %d does not start at %d\n%s", line, i+1, want, header)
					}
				}
			}
		})
	}
}

func TestPreviewPlot(t *testing.T) {
	dir := t.TempDir()
	wide := writeFile(t, "wide.yaml", "deployments:\n  - name: web\n    count: 30\n    metrics:\n      cpu: {uniform: {min: 1, max: 9}}\n")
	tests := []struct {
		name       string
		args       []string
		file       string
		wantStdout bool
		wantStderr []string
	}{
		{"svg", []string{"-c", previewModels}, "p.svg", false, []string{`plot: tier not drawn: not numeric`}},
		{"png", []string{"-c", previewModels}, "p.png", false, nil},
		{"upper-case extension", []string{"-c", previewModels}, "p.PNG", false, nil},
		{"rows too with --format", []string{"-c", previewModels, "--format", "csv"}, "q.svg", true, nil},
		{"lines capped", []string{"-c", wide}, "wide.svg", false, []string{"plot: cpu: drawing 20 of 30 deployments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			var out bytes.Buffer
			code, stderr := preview(t, &out, append(tt.args, "--duration", "10m", "--seed", "1", "--plot", path)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if (out.Len() > 0) != tt.wantStdout {
				t.Errorf("stdout has %d bytes, want rows: %v", out.Len(), tt.wantStdout)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, stderr)
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.EqualFold(filepath.Ext(path), ".png") {
				img, err := png.Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("not a PNG: %v", err)
				}
				if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 400 {
					t.Errorf("image %v, want a readable size", b)
				}
				return
			}
			s := string(data)
			if !strings.HasPrefix(s, "<?xml") && !strings.HasPrefix(s, "<svg") || !strings.Contains(s, "</svg>") {
				t.Fatalf("not an SVG: %.80q", s)
			}
			// Titles are the metric names; tier (not numeric) has no panel.
			for _, title := range []string{">cpu<", ">replicas<", ">qps<"} {
				if tt.file == "p.svg" && !strings.Contains(s, title) {
					t.Errorf("SVG has no %s title", title)
				}
			}
			if tt.file == "p.svg" && strings.Contains(s, ">tier<") {
				t.Errorf("SVG has a panel for the non-numeric tier")
			}
		})
	}
}

func TestPreviewUsageErrors(t *testing.T) {
	words := writeFile(t, "words.yaml", "deployments:\n  - name: a\n    metrics:\n      tier: [gold, silver]\n")
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"no duration", []string{"-c", previewExample}, "--duration is required"},
		{"zero duration", []string{"-c", previewExample, "--duration", "0s"}, "--duration 0s: must be > 0"},
		{"negative duration", []string{"-c", previewExample, "--duration", "-1m"}, "--duration -1m0s: must be > 0"},
		{"bad duration", []string{"-c", previewExample, "--duration", "soon"}, "duration"},
		{"zero interval", []string{"-c", previewExample, "--duration", "1m", "--interval", "0s"}, "--interval 0s: must be > 0"},
		{"bad format", []string{"-c", previewExample, "--duration", "1m", "--format", "xml"}, `--format "xml": must be one of table, csv, json`},
		{"bad plot extension", []string{"-c", previewExample, "--duration", "1m", "--plot", "p.jpg"}, `--plot p.jpg: unknown image format ".jpg"`},
		{"plot without extension", []string{"-c", previewExample, "--duration", "1m", "--plot", "p"}, "--plot p: unknown image format"},
		{"nothing numeric to plot", []string{"-c", words, "--duration", "1m", "--plot", filepath.Join(t.TempDir(), "w.svg")}, "no numeric metric to draw"},
		{"missing config", []string{"-c", "/nonexistent/x.yaml", "--duration", "1m"}, "/nonexistent/x.yaml"},
		{"arguments", []string{"-c", previewExample, "--duration", "1m", "extra"}, "no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code, stderr := preview(t, &out, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2\nstderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, stderr)
			}
		})
	}
}

func TestPreviewEnv(t *testing.T) {
	t.Setenv("METRICSENDER_DURATION", "2m")
	t.Setenv("METRICSENDER_FORMAT", "csv")
	t.Setenv("METRICSENDER_SEED", "3")
	var out bytes.Buffer
	if code, stderr := preview(t, &out, "-c", previewExample); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := strings.Count(out.String(), "\n"); got != 1+2*4 {
		t.Errorf("%d lines, want header + 2 ticks * 4 metrics:\n%s", got, out.String())
	}
}

// failWriter fails every write, like a closed pipe.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestPreviewStreams proves rows are written as they are made: with a
// duration whose rows could never be held in memory (about 1.4 * 10^9), a
// failing stdout still ends the command, with exit 1.
func TestPreviewStreams(t *testing.T) {
	var errOut bytes.Buffer
	code := app.RunContext(context.Background(), []string{"metricsender", "preview", "-c", previewExample,
		"--duration", "100000h", "--interval", "1s", "--seed", "1", "-f", "csv"}, failWriter{}, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "broken pipe") {
		t.Errorf("exit %d, stderr %q; want 1 and the write error", code, errOut.String())
	}
}

// The table format, pinned: elapsed right-aligned, the other columns
// left-aligned, rows in time order then config order, metrics by name.
func Example_preview() {
	app.RunContext(context.Background(), []string{"metricsender", "preview",
		"-c", "testdata/models.yaml", "--duration", "1m", "--seed", "1"}, os.Stdout, os.Stderr)
	// Output:
	// ELAPSED  APP     METRIC    VALUE
	//       0  scaler  replicas  1
	//       0  wave    qps       10
	//       0  burst   cpu       2
	//       0  pool    load      500m
	//       0  pool    tier      gold
	//      10  burst   cpu       2
	//      20  burst   cpu       2
	//      30  burst   cpu       100m
	//      40  burst   cpu       100m
	//      50  burst   cpu       100m
}
