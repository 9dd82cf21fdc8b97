package generator_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/labsea/metricsender/generator"
)

// tb is what both *testing.T and *rapid.T offer the helpers.
type tb interface {
	Helper()
	Fatal(args ...any)
}

// faultRun runs cfg for n ticks on the virtual clock through an Injector
// and returns what it made of every event.
func faultRun(t tb, cfg *generator.Config, seed int64, n int) []generator.Event {
	t.Helper()
	s, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Start: time.Unix(0, 0), Seed: seed, Count: n})
	if err != nil {
		t.Fatal(err)
	}
	in := generator.NewInjector(cfg, seed, n)
	var out []generator.Event
	for {
		b, ok := s.Next()
		if !ok {
			return out
		}
		n := len(out)
		out = in.Apply(b.Events, b.At, nil, out)
		for i := n; i < len(out); i++ { // Next reuses its arrays: keep copies
			out[i].Metrics = append([]generator.Metric(nil), out[i].Metrics...)
		}
	}
}

func mustParse(t tb, yaml string) *generator.Config {
	t.Helper()
	cfg, err := generator.Parse("c.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func withFaults(faults string) string {
	return "interval: 10s\n" + faults + `deployments:
  - name: web
    count: 20
    metrics:
      cpu: {uniform: {min: 0, max: 4, step: 0.001}}
      memory: [128Mi, 256Mi]
`
}

var faultKindCases = []struct {
	kind, params string
	perFire      float64 // faults counted per firing
}{
	{"drop", "", 1}, {"duplicate", ", times: 2", 2}, {"delay", ", by: 30s", 1}, {"stale", ", by: 10m", 1},
	{"corrupt", "", 1}, {"omit", ", metrics: [memory]", 1}, {"silence", "", 1}, {"burst", ", times: 3", 3},
}

// Each kind fires at its rate, within 5 standard deviations over 20
// deployments x 300 ticks, for a few rates and seeds.
func TestFaultRates(t *testing.T) {
	for _, k := range faultKindCases {
		for _, c := range []struct {
			p    float64
			seed int64
		}{{0.01, 1}, {0.2, -7}, {0.5, 1 << 40}} {
			t.Run(fmt.Sprintf("%s p=%g seed=%d", k.kind, c.p, c.seed), func(t *testing.T) {
				cfg := mustParse(t, withFaults(fmt.Sprintf("faults:\n  %s: {p: %g%s}\n", k.kind, c.p, k.params)))
				const ticks = 300
				fired := 0.0
				for _, ev := range faultRun(t, cfg, c.seed, ticks) {
					if strings.Contains(ev.Fault, k.kind) {
						fired++
					}
				}
				n := 20.0 * (ticks - 1) // the last tick is exempt from drop and silence; one tick's worth of slack for the others
				want := n * c.p * k.perFire
				sd := k.perFire * math.Sqrt(n*c.p*(1-c.p))
				if math.Abs(fired-want) > 5*sd+20*k.perFire {
					t.Errorf("%v fired, want %v ± %v", fired, want, 5*sd)
				}
			})
		}
	}
}

// The same seed gives the same faults, for every kind and any rate.
func TestFaultsReproduce(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		k := rapid.SampledFrom(faultKindCases).Draw(rt, "kind")
		p := rapid.Float64Range(0, 1).Draw(rt, "p")
		seed := rapid.Int64().Draw(rt, "seed")
		cfg := mustParse(rt, withFaults(fmt.Sprintf("faults:\n  %s: {p: %g%s}\n", k.kind, p, k.params)))
		a, b := faultRun(rt, cfg, seed, 20), faultRun(rt, cfg, seed, 20)
		for i := range a {
			a[i].ID, b[i].ID = 0, 0 // correlation ids are random, not seeded
		}
		if !reflect.DeepEqual(a, b) {
			rt.Fatalf("the same seed gave other faults")
		}
	})
}

// Adding faults changes no value: every message sent (not a copy, not
// corrupted, not omitting) carries exactly the values of a run without.
func TestFaultsChangeNoValue(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Int64().Draw(rt, "seed")
		plain := faultRun(rt, mustParse(rt, withFaults("")), seed, 50)
		faulty := faultRun(rt, mustParse(rt, withFaults(`faults:
  drop: {p: 0.2}
  duplicate: {p: 0.2}
  delay: {p: 0.2}
  stale: {p: 0.2}
  corrupt: {p: 0.2, metrics: [memory]}
  omit: {p: 0.2, metrics: [memory]}
  silence: {every: 200s, for: 30s}
  burst: {p: 0.05, times: 4}
`)), seed, 50)
		want := map[string][]generator.Metric{}
		for _, ev := range plain {
			want[fmt.Sprintf("%s/%d", ev.App, ev.Seq)] = ev.Metrics
		}
		for _, ev := range faulty {
			if ev.Suppressed {
				continue
			}
			w := want[fmt.Sprintf("%s/%d", ev.App, ev.Seq)]
			if w[0] != ev.Metrics[0] { // cpu: never corrupted or omitted here
				rt.Fatalf("%s seq %d: cpu %v, want %v (fault %q)", ev.App, ev.Seq, ev.Metrics[0], w[0], ev.Fault)
			}
		}
	})
}

func TestInjectorAccounting(t *testing.T) {
	cfg := mustParse(t, withFaults(`faults:
  drop: {p: 0.3}
  silence: {every: 100s, for: 20s}
  duplicate: {p: 0.3}
  burst: {p: 0.1, times: 5}
  corrupt: {p: 0.3, values: ["NaN"]}
  omit: {p: 0.3}
  stale: {p: 0.3, by: 1m}
  delay: {p: 0.3, by: 15s}
`))
	const ticks = 40
	events := faultRun(t, cfg, 7, ticks)
	type key struct {
		app string
		seq uint64
	}
	originals := map[key]generator.Event{}
	lastSent := map[string]uint64{}
	for _, ev := range events {
		k := key{ev.App, ev.Seq}
		switch {
		case ev.Suppressed:
			if ev.Fault != "drop" && ev.Fault != "silence" {
				t.Errorf("suppressed with fault %q", ev.Fault)
			}
			if ev.Seq == ticks {
				t.Errorf("%s: the last tick was %sped", ev.App, ev.Fault)
			}
		case ev.Fault == "duplicate" || ev.Fault == "burst":
			o, ok := originals[k]
			if !ok || o.ID == 0 || o.ID != ev.ID || !reflect.DeepEqual(o.Metrics, ev.Metrics) || ev.Dropped != 0 {
				t.Errorf("copy %+v does not follow its original %+v", ev, o)
			}
		default:
			if _, dup := originals[k]; dup {
				t.Errorf("%v sent twice without a copy fault", k)
			}
			originals[k] = ev
			if want := ev.Seq - lastSent[ev.App] - 1; ev.Dropped != want {
				t.Errorf("%s seq %d: dropped %d, want %d (seqs suppressed since %d)", ev.App, ev.Seq, ev.Dropped, want, lastSent[ev.App])
			}
			lastSent[ev.App] = ev.Seq
			if strings.Contains(ev.Fault, "stale") && ev.Time.Sub(time.Unix(0, 0)) != time.Duration(ev.Seq-1)*10*time.Second-time.Minute {
				t.Errorf("stale %s seq %d at %v", ev.App, ev.Seq, ev.Time)
			}
			if strings.Contains(ev.Fault, "delay") != (ev.Delay == 15*time.Second) {
				t.Errorf("fault %q with delay %v", ev.Fault, ev.Delay)
			}
			if strings.Contains(ev.Fault, "omit") == (len(ev.Metrics) == 2) {
				t.Errorf("fault %q with %d metrics", ev.Fault, len(ev.Metrics))
			}
		}
	}
	for app, seq := range lastSent {
		if seq != ticks {
			t.Errorf("%s: last message sent is seq %d, want %d", app, seq, ticks)
		}
	}
}

func TestInjectorControl(t *testing.T) {
	cfg := mustParse(t, withFaults(""))
	in := generator.NewInjector(cfg, 1, 0)
	ev := []generator.Event{{App: "web-0", Seq: 1, Metrics: []generator.Metric{{Name: "cpu"}}}}
	drop, err := generator.ParseFaults([]byte(`{"drop":{"p":"1"}}`), func(string) bool { return true }, "web-0")
	if err != nil {
		t.Fatal(err)
	}
	in.SetFaults("web-0", drop)
	if out := in.Apply(ev, 0, nil, nil); !out[0].Suppressed {
		t.Fatalf("SetFaults(drop p=1) did not drop: %+v", out[0])
	}
	if f, from := in.Faults("web-0"); f != drop || from != "control" {
		t.Errorf("Faults = %v, %q", f, from)
	}
	in.ClearFaults("web-0")
	ev[0].Seq = 2
	if out := in.Apply(ev, 0, nil, nil); out[0].Suppressed || out[0].Dropped != 1 {
		t.Fatalf("after ClearFaults: %+v, want sent with dropped 1", out[0])
	}
	in.SetAllFaults(drop)
	ev[0].Seq = 3
	if out := in.Apply(ev, 0, nil, nil); !out[0].Suppressed {
		t.Fatalf("SetAllFaults(drop) did not drop")
	}
	in.ClearFaults("")
	if f, _ := in.Faults("web-0"); f != nil {
		t.Errorf("after ClearFaults(\"\") faults %v", f)
	}
	if got := in.Count(generator.FaultDrop); got != 2 {
		t.Errorf("Count(drop) = %d, want 2", got)
	}
}

func TestFaultsConfig(t *testing.T) {
	cfg := mustParse(t, `faults:
  drop: {p: 0.1}
deployments:
  - name: a
    metrics: {cpu: [1]}
  - name: b
    metrics: {cpu: [1]}
    faults: {}
  - name: c
    metrics: {cpu: [1], mem: [2]}
    faults:
      omit: {every: 1m, for: 10s, metrics: [mem]}
      corrupt: {p: 1}
`)
	if !cfg.Deployments[0].Faults.Has(generator.FaultDrop) && cfg.Faults == nil {
		t.Fatal("top-level faults lost")
	}
	if cfg.Deployments[1].Faults == nil || len(cfg.Deployments[1].Faults.Specs) != 0 {
		t.Errorf("b: faults: {} should turn them off, got %+v", cfg.Deployments[1].Faults)
	}
	c := cfg.Deployments[2].Faults
	if len(c.Specs) != 2 || c.Specs[0].Kind != generator.FaultCorrupt || c.Specs[1].Kind != generator.FaultOmit {
		t.Fatalf("c's faults not in FaultKinds order: %+v", c.Specs)
	}
	if !reflect.DeepEqual(c.Specs[0].Values, generator.DefaultCorruptValues) {
		t.Errorf("corrupt values default %q", c.Specs[0].Values)
	}
	if s := c.Specs[1]; s.Every != time.Minute || s.For != 10*time.Second || !reflect.DeepEqual(s.Metrics, []string{"mem"}) {
		t.Errorf("omit %+v", s)
	}
	want := map[string]any{"omit": map[string]any{"every": "1m", "for": "10s", "metrics": []string{"mem"}}, "corrupt": map[string]any{"p": "1"}}
	if !reflect.DeepEqual(c.Spec, want) {
		t.Errorf("Spec = %#v, want %#v", c.Spec, want)
	}
	if !cfg.HasFaults() {
		t.Error("HasFaults() = false")
	}
}

func TestBadFaults(t *testing.T) {
	const deps = "deployments:\n  - name: a\n    metrics: {cpu: [1]}\n"
	tests := []struct{ name, yaml, want string }{
		{"p above 1", "faults:\n  drop: {p: 1.5}\n" + deps, `c.yaml:2:10: faults.drop.p: want a probability in [0, 1], got "1.5"`},
		{"p not a number", "faults:\n  drop: {p: often}\n" + deps, `c.yaml:2:10: faults.drop.p: want a probability in [0, 1], got "often"`},
		{"neither p nor schedule", "faults:\n  drop: {}\n" + deps, "c.yaml:2:3: faults.drop: missing p (a probability per message) or every and for (a schedule)"},
		{"both", "faults:\n  drop: {p: 0.1, every: 1m, for: 1s}\n" + deps, "c.yaml:2:10: faults.drop.p: give p or every and for, not both"},
		{"every without for", "faults:\n  silence: {every: 1h}\n" + deps, "c.yaml:2:3: faults.silence.for: missing: a schedule needs every and for"},
		{"for > every", "faults:\n  silence: {every: 1m, for: 2m}\n" + deps, "c.yaml:2:24: faults.silence.for: must be <= every (1m), got 2m"},
		{"zero duration", "faults:\n  delay: {p: 0.1, by: 0s}\n" + deps, "c.yaml:2:19: faults.delay.by: must be > 0, got 0s"},
		{"times 0", "faults:\n  burst: {p: 0.1, times: 0}\n" + deps, `c.yaml:2:19: faults.burst.times: want an integer between 1 and 10000, got "0"`},
		{"unknown kind", "faults:\n  dorp: {p: 0.1}\n" + deps, `c.yaml:2:3: faults.dorp: unknown key (did you mean "drop"?)`},
		{"p and for", "faults:\n  delay: {p: 0.1, for: 1s, by: 1s}\n" + deps, "c.yaml:2:11: faults.delay.p: give p or every and for, not both"},
		{"key of another kind", "faults:\n  drop: {p: 0.1, times: 2}\n" + deps, `c.yaml:2:18: faults.drop.times: unknown key`},
		{"unknown metric at the top", "faults:\n  omit: {p: 0.1, metrics: [gpu]}\n" + deps, `c.yaml:2:28: faults.omit.metrics[0]: unknown metric "gpu": no metric of any deployment has that name`},
		{"unknown metric of a deployment", "deployments:\n  - name: a\n    metrics: {cpu: [1]}\n    faults: {corrupt: {p: 1, metrics: [mem]}}\n",
			`c.yaml:4:40: deployments[0].faults.corrupt.metrics[0]: unknown metric "mem": no metric of this deployment has that name`},
		{"empty values", "faults:\n  corrupt: {p: 0.1, values: []}\n" + deps, "c.yaml:2:21: faults.corrupt.values: empty list"},
		{"not a mapping", "faults: [drop]\n" + deps, "c.yaml:1:1: faults: want a mapping, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := generator.Parse("c.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
		})
	}
}
