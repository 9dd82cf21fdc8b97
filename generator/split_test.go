package generator_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

// sameConfig fails the test unless a and b describe the same run: same
// settings, deployments, metrics and specs, and models that draw the same
// values from the same random stream.
func sameConfig(t *testing.T, a, b *generator.Config) {
	t.Helper()
	if a.Path != b.Path || !a.Connection.Equal(b.Connection) || a.Interval != b.Interval || a.Spread != b.Spread ||
		(a.Seed == nil) != (b.Seed == nil) || a.Seed != nil && *a.Seed != *b.Seed {
		t.Fatalf("settings differ:\n%+v\n%+v", a, b)
	}
	if len(a.Deployments) != len(b.Deployments) {
		t.Fatalf("%d deployments, want %d", len(a.Deployments), len(b.Deployments))
	}
	for i := range a.Deployments {
		da, db := a.Deployments[i], b.Deployments[i]
		if da.Name != db.Name || da.Interval != db.Interval || len(da.Metrics) != len(db.Metrics) || !reflect.DeepEqual(da.State, db.State) {
			t.Fatalf("deployment %d: %s/%v/%d metrics, want %s/%v/%d", i,
				da.Name, da.Interval, len(da.Metrics), db.Name, db.Interval, len(db.Metrics))
		}
		for j := range da.Metrics {
			if i > 50 && j > 0 {
				break // count may make 100k copies of the same specs
			}
			ma, mb := da.Metrics[j], db.Metrics[j]
			if ma.Name != mb.Name || !reflect.DeepEqual(ma.Spec, mb.Spec) || reflect.TypeOf(ma.Model) != reflect.TypeOf(mb.Model) {
				t.Fatalf("%s.%s: spec %#v (%T), want %s %#v (%T)", da.Name, ma.Name, ma.Spec, ma.Model, mb.Name, mb.Spec, mb.Model)
			}
			ra, rb := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
			for k := range 5 {
				at := generator.DefaultInterval * 7 * time.Duration(k)
				if va, vb := ma.Model.Next(ra, at), mb.Model.Next(rb, at); va != vb {
					t.Fatalf("%s.%s: value %d is %+v, want %+v", da.Name, ma.Name, k, va, vb)
				}
			}
		}
	}
}

// parseBothWays parses data as Parse does and as the whole document, and
// fails unless they agree (the same config, or the same error).
func parseBothWays(t *testing.T, data string) (*generator.Config, error) {
	t.Helper()
	cfg, err := generator.Parse("testdata/split.yaml", []byte(data))
	whole, werr := generator.ParseWhole("testdata/split.yaml", []byte(data))
	switch {
	case (err == nil) != (werr == nil):
		t.Fatalf("Parse error %v, whole-document parse error %v", err, werr)
	case err != nil:
		if err.Error() != werr.Error() {
			t.Fatalf("Parse error:\n%v\nwhole-document parse error:\n%v", err, werr)
		}
	default:
		sameConfig(t, cfg, whole)
	}
	return cfg, err
}

func TestSplitMatchesWholeOnExamples(t *testing.T) {
	for _, path := range []string{"../examples/metricsender.yaml", "../examples/scenarios.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		split := generator.ParseSplit(path, data)
		if split == nil {
			t.Fatalf("%s: the item-by-item parse did not take the file", path)
		}
		whole, err := generator.ParseWhole(path, data)
		if err != nil {
			t.Fatal(err)
		}
		sameConfig(t, split, whole)
	}
}

func TestSplitShapes(t *testing.T) {
	const item = "  - name: a\n    metrics:\n      cpu: [1, 2]\n"
	tests := []struct {
		name  string
		data  string
		split bool // whether the item-by-item parse takes the file
	}{
		{"plain", "interval: 10s\ndeployments:\n" + item + "  - name: b\n    metrics: {cpu: 1}\n", true},
		{"items at column 0", "deployments:\n- name: a\n  metrics: {cpu: 1}\n- name: b\n  metrics: {cpu: 2}\nseed: 3\n", true},
		{"keys after the list", "deployments:\n" + item + "seed: 4\nspread: true\n", true},
		{"comments and blanks everywhere", "# top\ndeployments: # the apps\n\n# at column 0\n" + item + "# between\n\n  # indented\n  - name: b # c\n    metrics:\n# odd\n      cpu: [3]\n", true},
		{"CRLF", strings.ReplaceAll("interval: 5s\ndeployments:\n"+item+"  - name: b\n    metrics: {cpu: 1}\n", "\n", "\r\n"), true},
		{"BOM and document start", "\uFEFF---\ndeployments:\n" + item, true},
		{"document end", "deployments:\n" + item + "...\n", true},
		{"no final newline", "deployments:\n  - name: a\n    metrics: {cpu: 1}", true},
		{"block scalar in an item", "deployments:\n  - name: a\n    metrics:\n      cpu: |-\n        7\n", true},
		{"count", "deployments:\n  - name: web\n    count: 3\n    metrics: {cpu: [1, 2]}\n", true},
		{"anchor used by a later item", "deployments:\n  - name: a\n    metrics: &m {cpu: [1, 2]}\n  - name: b\n    metrics: *m\n", false},
		{"anchor above the list", "x: &m {cpu: 1}\ndeployments:\n  - name: a\n    metrics: *m\n", false},
		{"flow list", "deployments: [{name: a, metrics: {cpu: 1}}]\n", false},
		{"value on the key's line", "deployments: &d\n" + item, false},
		{"duplicate key", "deployments:\n" + item + "deployments:\n" + item, false},
		{"second document", "deployments:\n" + item + "---\ndeployments:\n" + item, false},
		{"directive", "%YAML 1.1\n---\ndeployments:\n" + item, false},
		{"quoted string across items", "deployments:\n  - name: \"a\n  - b\"\n    metrics: {cpu: 1}\n", false},
		{"mapping at the items' column", "deployments:\n" + item + "  seed: 1\n", false},
		{"nested deployments key (unknown there)", "connection:\n  deployments:\n  - x\ndeployments:\n" + item, false},
		{"error in an item", "deployments:\n" + item + "  - name: b\n    metrics: {cpu: {walk: {}}}\n", false},
		{"duplicate names", "deployments:\n" + item + item, false},
		{"unknown top-level key", "deployments:\n" + item + "intervall: 5s\n", false},
		{"empty", "", false},
		{"key without a list", "deployments:\ninterval: 5s\n", false},
		{"lone CR in a comment hides an item", "deployments:\n# c\r- name: x\r  metrics: {cpu: 1}\n- name: a\n  metrics: {cpu: 1}\n", false},
		{"lone CR after the key", "deployments: # c\rseed: 1\n  - name: a\n    metrics: {cpu: 1}\n", false},
		{"U+2028 in a comment", "deployments:\n  # c\u2028  - name: x\n    metrics: {cpu: 1}\n  - name: a\n    metrics: {cpu: 1}\n", false},
		{"U+0085 and U+2029", "deployments:\n  - name: a\n    metrics: {cpu: 1} # \u0085\u2029\n", false},
	}
	var many strings.Builder
	many.WriteString("deployments:\n")
	for i := range 700 { // several batches
		fmt.Fprintf(&many, "  # app %d\n  - name: app-%d\n    interval: %ds\n    metrics:\n      cpu: {uniform: {min: 0, max: %d}}\n", i, i, i%7+1, i+1)
	}
	tests = append(tests, struct {
		name  string
		data  string
		split bool
	}{"700 items", many.String() + "seed: 9\n", true})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := generator.ParseSplit("testdata/split.yaml", []byte(tc.data)) != nil; got != tc.split {
				t.Errorf("item-by-item parse took the file: %v, want %v", got, tc.split)
			}
			parseBothWays(t, tc.data)
		})
	}
}

// FuzzSplitMatchesWhole: whatever the file, Parse (which tries the
// item-by-item parse first) and the whole-document parse agree.
func FuzzSplitMatchesWhole(f *testing.F) {
	f.Add("deployments:\n  - name: a\n    metrics:\n      cpu: [1, 2]\n  - name: b\n    metrics: {cpu: 1}\nseed: 2\n")
	f.Add("deployments:\n- name: a\n  metrics: {cpu: \"1\"}\n# c\n- name: b\n  metrics:\n    m: |\n      x\n")
	f.Add("interval: 1s\ndeployments: # x\n  - name: a\n    count: 2\n    interval: 2s\n    metrics: {cpu: {walk: {start: 1, min: 0, max: 2, step: 1}}}\n")
	f.Add("deployments:\n# c\r- name: x\r  metrics: {cpu: 1}\n- name: a\n  metrics: {cpu: 1}\n")
	f.Add("deployments:\n  # c\u2028  - name: x\n    metrics: {cpu: 1}\n  - name: a\n    metrics: {cpu: 1}\n")
	f.Add("deployments:\n  - name: a\n    state: {replicas: 2, allocation: {cpu: 500m}}\n    metrics:\n      cpu: {expr: \"x / replicas\", vars: {x: [1, 2]}, min: 0.1}\n")
	f.Add("kubernetes: {allocation: limits, resources: {gpu: amd.com/gpu}}\ndeployments:\n  - name: a\n    kubernetes: {kind: StatefulSet, name: db, resources: {ssd: x.io/ssd}}\n    metrics: {cpu: 1}\n  - name: b\n    count: 2\n    metrics: {cpu: 1}\n")
	f.Fuzz(func(t *testing.T, data string) {
		parseBothWays(t, data)
	})
}
