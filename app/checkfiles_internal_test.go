package app

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/checker"
	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/receiver"
)

// received is one message as a receiver decodes it.
func received(app string, seq uint64, cpu string) codec.Received {
	return codec.Received{App: app, Topic: "Metrics." + app, HasEnvelope: true, Seq: seq, Run: "r1",
		Metrics: []generator.Metric{{Name: "cpu", Value: generator.Value{Text: cpu}}},
		Time:    time.Date(2026, 12, 5, 0, 0, int(seq), 0, time.UTC), CorrelationID: "AB"}
}

// writeLines writes msgs as `receive --output json` prints them.
func writeLines(t *testing.T, name string, msgs []codec.Received) string {
	t.Helper()
	var b bytes.Buffer
	for _, m := range msgs {
		if err := (receiver.JSON{}).Render(&b, m); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// oneReceiver is what a single receiver's --check reports for msgs in order.
func oneReceiver(msgs []codec.Received) string {
	c := checker.New(checker.Config{})
	for _, m := range msgs {
		c.Observe(m)
	}
	return c.Summary(0)
}

func check(t *testing.T, cfg *generator.Config, strict bool, files ...string) (summary string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runCheck(files, checkOptions{cfg: cfg, strict: strict}, &out, &errOut)
	return strings.TrimSpace(out.String()), err
}

// TestCheckTwoReceiversReportWhatOneWould: the messages of one queue split
// between two competing receivers (round robin, as RabbitMQ hands them
// out) are judged as one receiver that got them all.
func TestCheckTwoReceiversReportWhatOneWould(t *testing.T) {
	var all []codec.Received
	for seq := uint64(1); seq <= 100; seq++ {
		for _, app := range []string{"web", "db"} {
			if app == "web" && seq == 50 {
				continue // lost
			}
			all = append(all, received(app, seq, "1"))
			if app == "db" && seq == 70 {
				all = append(all, received(app, seq, "1")) // redelivered
			}
		}
	}
	var a, b []codec.Received
	for i, m := range all {
		if i%2 == 0 {
			a = append(a, m)
		} else {
			b = append(b, m)
		}
	}
	want := oneReceiver(all)
	if !strings.HasPrefix(want, "received=200 missing=1 duplicates=1 out_of_order=0 out_of_bounds=0 decode_errors=0") {
		t.Fatalf("the single receiver's summary is %q: the fixture is off", want)
	}
	got, err := check(t, nil, false, writeLines(t, "a.jsonl", a), writeLines(t, "b.jsonl", b))
	if got != want {
		t.Errorf("check a b = %q, want what one receiver reports: %q", got, want)
	}
	if !errors.Is(err, errCheckFailed) {
		t.Errorf("err = %v, want errCheckFailed (one message missing)", err)
	}
	if got, _ := check(t, nil, false, writeLines(t, "one.jsonl", all)); got != want {
		t.Errorf("check one = %q, want %q", got, want)
	}
}

func TestCheckFiles(t *testing.T) {
	seqs := func(app string, ss ...uint64) []codec.Received {
		var out []codec.Received
		for _, s := range ss {
			out = append(out, received(app, s, "1"))
		}
		return out
	}
	cfg, err := generator.Parse("c.yaml", []byte("deployments:\n  - name: web\n    metrics: {cpu: [\"1\", \"2\"]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		files  [][]codec.Received
		cfg    *generator.Config
		strict bool
		want   string
		fails  bool
	}{
		{"all there", [][]codec.Received{seqs("web", 1, 2, 3)}, nil, false,
			"received=3 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0", false},
		{"out of order within a file", [][]codec.Received{seqs("web", 1, 3, 2)}, nil, false,
			"received=3 missing=0 duplicates=0 out_of_order=1 out_of_bounds=0 decode_errors=0", false},
		{"files interleave in no order", [][]codec.Received{seqs("web", 3, 4), seqs("web", 1, 2)}, nil, false,
			"received=4 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0", false},
		{"a seq in two files is a duplicate", [][]codec.Received{seqs("web", 1, 2), seqs("web", 2, 3)}, nil, false,
			"received=4 missing=0 duplicates=1 out_of_order=0 out_of_bounds=0 decode_errors=0", false},
		{"strict fails on it", [][]codec.Received{seqs("web", 1, 2), seqs("web", 2, 3)}, nil, true,
			"received=4 missing=0 duplicates=1 out_of_order=0 out_of_bounds=0 decode_errors=0", true},
		{"missing between files", [][]codec.Received{seqs("web", 1, 2), seqs("web", 5)}, nil, false,
			"received=3 missing=2 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0", true},
		{"bounds from --config", [][]codec.Received{{received("web", 1, "1"), received("web", 2, "3")}}, cfg, false,
			"received=2 missing=0 duplicates=0 out_of_order=0 out_of_bounds=1 decode_errors=0", true},
		{"an app not in the config", [][]codec.Received{seqs("other", 1, 2)}, cfg, false,
			"received=2 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0", false},
		{"no envelope", [][]codec.Received{{{App: "web", Topic: "Metrics.web", Metrics: []generator.Metric{{Name: "cpu", Value: generator.Value{Text: "2"}}}}}}, cfg, false,
			"received=1 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var files []string
			for i, f := range tt.files {
				files = append(files, writeLines(t, "r"+string(rune('a'+i))+".jsonl", f))
			}
			got, err := check(t, tt.cfg, tt.strict, files...)
			if !strings.HasPrefix(got, tt.want) { // fields a newer checker adds come after decode_errors
				t.Errorf("summary %q, want %q", got, tt.want)
			}
			if failed := errors.Is(err, errCheckFailed); failed != tt.fails || (err != nil && !failed) {
				t.Errorf("err = %v, want failed=%v", err, tt.fails)
			}
		})
	}
}

func TestCheckBadFiles(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "text.out")
	if err := os.WriteFile(text, []byte("========================================\nAplicação: web\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	half := filepath.Join(dir, "half.jsonl")
	if err := os.WriteFile(half, []byte(`{"app":"web","metrics":{},"seq":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, file, want string }{
		{"missing file", filepath.Join(dir, "nope.jsonl"), "nope.jsonl"},
		{"text output", text, "text.out:1: not a line of receive --output json"},
		{"seq without run", half, "half.jsonl:1: seq and run go together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := check(t, nil, false, tt.file)
			var ue *usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want a usage error naming %q", err, tt.want)
			}
		})
	}
}

// TestCheckFilesFaultsAndExpect: injected faults are told from loss as
// receive --check tells them (a copy is no duplicate, seqs dropped on
// purpose are not missing), and --expect counts trailing loss and
// deployments never seen, over all the files.
func TestCheckFilesFaultsAndExpect(t *testing.T) {
	cfg, err := generator.Parse("c.yaml", []byte("deployments:\n  - name: web\n    metrics: {cpu: [\"1\"]}\n  - name: db\n    metrics: {cpu: [\"1\"]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	copyOf := received("web", 1, "1")
	copyOf.Fault = "duplicate"
	afterDrop := received("web", 4, "1")
	afterDrop.Dropped = 2
	faults := [][]codec.Received{{received("web", 1, "1"), afterDrop}, {copyOf, received("web", 5, "1")}}
	tests := []struct {
		name   string
		files  [][]codec.Received
		expect int
		want   string
	}{
		{"faults", faults, 0, "received=4 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0 injected_drops=2 injected_duplicates=1"},
		{"--expect 6: seq 6 of web and all of db missing", faults, 6, "received=4 missing=7 duplicates=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var files []string
			for i, f := range tt.files {
				files = append(files, writeLines(t, "r"+string(rune('a'+i))+".jsonl", f))
			}
			var out, errOut bytes.Buffer
			_ = runCheck(files, checkOptions{cfg: cfg, expect: tt.expect}, &out, &errOut)
			if got := strings.TrimSpace(out.String()); !strings.HasPrefix(got, tt.want) {
				t.Errorf("summary %q, want %q...", got, tt.want)
			}
		})
	}
}
