package checker

import (
	"strings"
	"testing"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// noInjected is the summary's tail when nothing was injected.
const noInjected = " injected_drops=0 injected_duplicates=0 injected_delays=0 injected_stale=0 injected_corrupt=0 injected_omits=0 injected_bursts=0"

func TestChecker(t *testing.T) {
	msg := func(app, run string, seq uint64, metrics ...string) codec.Received {
		r := codec.Received{App: app, Run: run, Seq: seq, HasEnvelope: seq > 0}
		for i := 0; i+1 < len(metrics); i += 2 {
			r.Metrics = append(r.Metrics, generator.Metric{Name: metrics[i], Value: generator.Value{Text: metrics[i+1]}})
		}
		return r
	}
	cfg := &generator.Config{Deployments: []generator.Deployment{{
		Name: "app1",
		Metrics: []generator.MetricSpec{{Name: "cpu", Model: &generator.Choice{Values: []generator.Value{
			{Text: "0.5", Num: 0.5, HasNum: true}, {Text: "0.8", Num: 0.8, HasNum: true}}}}},
	}}}
	type checkerCase struct {
		name    string
		cfg     *generator.Config
		seqs    []codec.Received
		strict  bool
		want    string
		failed  bool
		problem string // a substring of some reported problem; "" for none at all
	}
	tests := []checkerCase{
		{"in order", nil, []codec.Received{msg("a", "r", 1), msg("a", "r", 2), msg("a", "r", 3)}, false,
			"received=3 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0" + noInjected, false, ""},
		{"late start is not missing", nil, []codec.Received{msg("a", "r", 41), msg("a", "r", 42)}, false,
			"received=2 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0" + noInjected, false, ""},
		{"gap", nil, []codec.Received{msg("a", "r", 1), msg("a", "r", 4)}, false,
			"received=2 missing=2 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0" + noInjected, true, "seq jumped to 4"},
		{"gap filled late", nil, []codec.Received{msg("a", "r", 1), msg("a", "r", 3), msg("a", "r", 2)}, false,
			"received=3 missing=0 duplicates=0 out_of_order=1 out_of_bounds=0 decode_errors=0" + noInjected, false, "out of order"},
		{"duplicate passes", nil, []codec.Received{msg("a", "r", 1), msg("a", "r", 2), msg("a", "r", 2)}, false,
			"received=3 missing=0 duplicates=1 out_of_order=0 out_of_bounds=0 decode_errors=0" + noInjected, false, "duplicate"},
		{"duplicate fails when strict", nil, []codec.Received{msg("a", "r", 1), msg("a", "r", 1)}, true,
			"received=2 missing=0 duplicates=1 out_of_order=0 out_of_bounds=0 decode_errors=0" + noInjected, true, "duplicate"},
		{"runs and apps are separate streams", nil, []codec.Received{msg("a", "r1", 5), msg("a", "r2", 1), msg("b", "r1", 9), msg("a", "r1", 6)}, false,
			"received=4 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0" + noInjected, false, ""},
		{"no envelope is not seq-checked", nil, []codec.Received{msg("a", "", 0), msg("a", "", 0)}, false,
			"received=2 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0" + noInjected, false, ""},
		{"within bounds", cfg, []codec.Received{msg("app1", "r", 1, "cpu", "0.8"), msg("app1", "r", 2, "cpu", "0.50")}, false,
			"received=2 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0" + noInjected, false, ""},
		{"value out of bounds", cfg, []codec.Received{msg("app1", "r", 1, "cpu", "0.9")}, false,
			"received=1 missing=0 duplicates=0 out_of_order=0 out_of_bounds=1 decode_errors=0" + noInjected, true, "cpu=0.9 is outside"},
		{"an app not in the config is only received", cfg, []codec.Received{msg("other", "r", 1, "cpu", "9"), msg("other", "", 0, "x", "y")}, false,
			"received=2 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0" + noInjected, false, ""},
		{"a foreign message of a config app is bounds-checked", cfg, []codec.Received{msg("app1", "", 0, "cpu", "0.9")}, false,
			"received=1 missing=0 duplicates=0 out_of_order=0 out_of_bounds=1 decode_errors=0" + noInjected, true, "cpu=0.9 is outside"},
		{"foreign messages between ours leave seq alone", cfg, []codec.Received{msg("app1", "r", 1, "cpu", "0.5"),
			msg("app1", "", 0, "cpu", "0.8"), msg("model", "", 0, "cpu", "7"), msg("app1", "r", 2, "cpu", "0.8")}, false,
			"received=4 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0" + noInjected, false, ""},
		{"unknown metric", cfg, []codec.Received{msg("app1", "r", 1, "cpu", "0.5", "gpu", "1")}, false,
			"received=1 missing=0 duplicates=0 out_of_order=0 out_of_bounds=2 decode_errors=0" + noInjected, true, `metric "gpu"`},
	}
	faulted := func(r codec.Received, fault string, dropped uint64) codec.Received {
		r.Fault, r.Dropped = fault, dropped
		return r
	}
	tests = append(tests, []checkerCase{
		{"dropped seqs are not missing", nil, []codec.Received{msg("a", "r", 1), faulted(msg("a", "r", 4), "", 2)}, false,
			"received=2 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0 injected_drops=2 injected_duplicates=0 injected_delays=0 injected_stale=0 injected_corrupt=0 injected_omits=0 injected_bursts=0", false, ""},
		{"a real loss beside a drop is missing", nil, []codec.Received{msg("a", "r", 1), faulted(msg("a", "r", 5), "", 2)}, false,
			"received=2 missing=1 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0 injected_drops=2 injected_duplicates=0 injected_delays=0 injected_stale=0 injected_corrupt=0 injected_omits=0 injected_bursts=0", true, "1 missing"},
		{"copies are not duplicates", nil, []codec.Received{msg("a", "r", 1), faulted(msg("a", "r", 1), "duplicate", 0), faulted(msg("a", "r", 1), "burst", 0), faulted(msg("a", "r", 1), "burst", 0)}, true,
			"received=4 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0 injected_drops=0 injected_duplicates=1 injected_delays=0 injected_stale=0 injected_corrupt=0 injected_omits=0 injected_bursts=2", false, ""},
		{"a delayed message is not out of order", nil, []codec.Received{msg("a", "r", 1), msg("a", "r", 3), faulted(msg("a", "r", 2), "delay,stale", 0)}, false,
			"received=3 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0 injected_drops=0 injected_duplicates=0 injected_delays=1 injected_stale=1 injected_corrupt=0 injected_omits=0 injected_bursts=0", false, "seq jumped"},
		{"a delayed message reports the drop before it", nil, []codec.Received{msg("a", "r", 1), msg("a", "r", 4), faulted(msg("a", "r", 3), "delay", 1)}, false,
			"received=3 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0 injected_drops=1 injected_duplicates=0 injected_delays=1 injected_stale=0 injected_corrupt=0 injected_omits=0 injected_bursts=0", false, "seq jumped"},
		{"corrupt and omitted values are off limits", cfg, []codec.Received{faulted(msg("app1", "r", 1, "cpu", "NaN"), "corrupt", 0), faulted(msg("app1", "r", 2), "omit", 0)}, false,
			"received=2 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0 injected_drops=0 injected_duplicates=0 injected_delays=0 injected_stale=0 injected_corrupt=1 injected_omits=1 injected_bursts=0", false, ""},
		{"delayed messages before the first one seen", nil, []codec.Received{msg("a", "r", 5), faulted(msg("a", "r", 3), "delay", 2), msg("a", "r", 6), faulted(msg("a", "r", 4), "delay", 0)}, false,
			"received=4 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0 injected_drops=2 injected_duplicates=0 injected_delays=2 injected_stale=0 injected_corrupt=0 injected_omits=0 injected_bursts=0", false, ""},
		{"a delayed message before the first one seen opens the gap to it", nil, []codec.Received{msg("a", "r", 5), faulted(msg("a", "r", 3), "delay", 0)}, false,
			"received=2 missing=1 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0 injected_drops=0 injected_duplicates=0 injected_delays=1 injected_stale=0 injected_corrupt=0 injected_omits=0 injected_bursts=0", true, ""},
		{"a redelivery's faults count once", nil, []codec.Received{msg("a", "r", 1), faulted(msg("a", "r", 3), "stale", 1), faulted(msg("a", "r", 3), "stale", 1)}, false,
			"received=3 missing=0 duplicates=1 out_of_order=0 out_of_bounds=0 decode_errors=0 injected_drops=1 injected_duplicates=0 injected_delays=0 injected_stale=1 injected_corrupt=0 injected_omits=0 injected_bursts=0", false, "duplicate"},
		{"a huge made-up dropped stays cheap", nil, []codec.Received{msg("a", "r", 1), msg("a", "r", 3), faulted(msg("a", "r", 4), "", 1<<62)}, false,
			"received=3 missing=0 duplicates=0 out_of_order=0 out_of_bounds=0 decode_errors=0 injected_drops=2147483648 injected_duplicates=0 injected_delays=0 injected_stale=0 injected_corrupt=0 injected_omits=0 injected_bursts=0", false, "seq jumped"},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{Run: tt.cfg})
			var problems []string
			for _, r := range tt.seqs {
				problems = append(problems, c.Observe(r)...)
			}
			if got := c.Summary(0); got != tt.want {
				t.Errorf("summary\n got %s\nwant %s", got, tt.want)
			}
			if got := c.Failed(tt.strict); got != tt.failed {
				t.Errorf("failed = %v, want %v", got, tt.failed)
			}
			all := strings.Join(problems, "\n")
			if tt.problem == "" && all != "" {
				t.Errorf("unexpected problems:\n%s", all)
			}
			if !strings.Contains(all, tt.problem) {
				t.Errorf("problems %q do not mention %q", all, tt.problem)
			}
		})
	}
}

func TestCheckerHugeGapStaysBounded(t *testing.T) {
	c := New(Config{})
	c.Observe(codec.Received{App: "a", Run: "r", Seq: 1, HasEnvelope: true})
	c.Observe(codec.Received{App: "a", Run: "r", Seq: 1<<40 + 2, HasEnvelope: true})
	if got, want := c.Missing(), 1<<40; got != want {
		t.Fatalf("missing = %d, want %d", got, want)
	}
	if n := len(c.streams[streamKey{"r", "a"}].gaps); n > maxTrackedGap {
		t.Fatalf("%d gaps remembered, want at most %d", n, maxTrackedGap)
	}
}

func TestCheckerExpect(t *testing.T) {
	msg := func(app, run string, seq uint64) codec.Received {
		return codec.Received{App: app, Run: run, Seq: seq, HasEnvelope: true,
			Metrics: []generator.Metric{{Name: "cpu", Value: generator.Value{Text: "0.5"}}}}
	}
	cpu := []generator.MetricSpec{{Name: "cpu", Model: &generator.Choice{Values: []generator.Value{{Text: "0.5", Num: 0.5, HasNum: true}}}}}
	cfg := &generator.Config{Deployments: []generator.Deployment{{Name: "a", Metrics: cpu}, {Name: "b", Metrics: cpu}}}
	tests := []struct {
		name    string
		expect  int
		msgs    []codec.Received
		missing int
		met     bool
	}{
		{"all arrived", 3, []codec.Received{msg("a", "r", 1), msg("a", "r", 2), msg("a", "r", 3), msg("b", "r", 1), msg("b", "r", 2), msg("b", "r", 3)}, 0, true},
		{"trailing loss counts", 3, []codec.Received{msg("a", "r", 1), msg("a", "r", 2), msg("a", "r", 3), msg("b", "r", 1)}, 2, false},
		{"a deployment never seen counts whole", 3, []codec.Received{msg("a", "r", 1), msg("a", "r", 2), msg("a", "r", 3)}, 3, false},
		{"nothing at all", 4, nil, 8, false},
		{"leading loss counts", 3, []codec.Received{msg("a", "r", 3), msg("b", "r", 1), msg("b", "r", 2), msg("b", "r", 3)}, 2, false},
		{"late arrivals fill the lead", 2, []codec.Received{msg("a", "r", 2), msg("a", "r", 1), msg("b", "r", 2), msg("b", "r", 1)}, 0, true},
		{"duplicates do not count twice", 2, []codec.Received{msg("a", "r", 1), msg("a", "r", 1), msg("b", "r", 1), msg("b", "r", 2)}, 1, false},
		{"gap in the middle", 3, []codec.Received{msg("a", "r", 1), msg("a", "r", 3), msg("b", "r", 1), msg("b", "r", 2), msg("b", "r", 3)}, 1, false},
		{"a second run must be complete too", 2, []codec.Received{msg("a", "r", 1), msg("a", "r", 2), msg("b", "r", 1), msg("b", "r", 2), msg("a", "s", 1)}, 1, false},
		{"seqs beyond N are not expected", 2, []codec.Received{msg("a", "r", 1), msg("a", "r", 2), msg("a", "r", 3), msg("b", "r", 1), msg("b", "r", 2)}, 0, true},
		{"an app not in the config is not expected", 1, []codec.Received{msg("a", "r", 1), msg("b", "r", 1), msg("x", "r", 5)}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{Run: cfg, Expect: tt.expect})
			for _, r := range tt.msgs {
				c.Observe(r)
			}
			if got := c.Missing(); got != tt.missing {
				t.Errorf("missing = %d, want %d (%s)", got, tt.missing, c.Summary(0))
			}
			if got := c.ExpectMet(); got != tt.met {
				t.Errorf("expectMet = %v, want %v", got, tt.met)
			}
			if want := tt.missing > 0 || c.counts.outOfBounds > 0; c.Failed(false) != want {
				t.Errorf("failed = %v, want %v", !want, want)
			}
		})
	}
}

func TestCheckerWithoutExpectIgnoresTrailingLoss(t *testing.T) {
	c := New(Config{Expect: 5}) // no config: nothing to expect
	c.Observe(codec.Received{App: "a", Run: "r", Seq: 2, HasEnvelope: true})
	if got := c.Missing(); got != 0 {
		t.Fatalf("missing = %d, want 0", got)
	}
	if c.ExpectMet() {
		t.Fatal("expectMet without --expect")
	}
}
