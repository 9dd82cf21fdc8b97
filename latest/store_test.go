package latest_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/latest"
)

// t0 is the time of the first message of every test.
var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// clock is a fake clock tests move by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// msg is a decoded message of app at time at with metrics given as
// name=text pairs; a text that does not parse as a number has no Num.
func msg(app string, at time.Time, metrics ...string) codec.Received {
	rcv := codec.Received{App: app, Time: at}
	for _, kv := range metrics {
		name, text, _ := strings.Cut(kv, "=")
		v := generator.Value{Text: text}
		switch text {
		case "0.5":
			v.Num, v.HasNum = 0.5, true
		case "2":
			v.Num, v.HasNum = 2, true
		case "750m":
			v.Num, v.HasNum = 0.75, true
		}
		rcv.Metrics = append(rcv.Metrics, generator.Metric{Name: name, Value: v})
	}
	return rcv
}

// step is one thing a test does: receive a message at a time after t0,
// then look a value up.
type step struct {
	at      time.Duration // clock, after t0, when rcv arrives and the lookup runs
	rcv     *codec.Received
	metric  string
	ns, app string
	want    string // the value's text; "" for absent
	wantAt  time.Time
}

func put(r codec.Received) *codec.Received { return &r }

func TestStoreGet(t *testing.T) {
	tests := []struct {
		name   string
		maxAge time.Duration
		run    string // a config file; "" for none
		steps  []step
	}{
		{"the latest value with its message's timestamp", 0, "", []step{
			{at: 0, rcv: put(msg("web", t0, "cpu=0.5", "memory=2")), metric: "cpu", app: "web", want: "0.5", wantAt: t0},
			{at: time.Second, rcv: put(msg("web", t0.Add(10*time.Second), "cpu=750m")), metric: "cpu", app: "web", want: "750m", wantAt: t0.Add(10 * time.Second)},
			{at: time.Second, metric: "memory", app: "web", want: "2", wantAt: t0},
			{at: time.Second, metric: "cpu", app: "db"},
			{at: time.Second, metric: "gpu", app: "web"},
		}},
		{"absent after three times the interval the app is seen at", 0, "", []step{
			{at: 0, rcv: put(msg("web", t0, "cpu=0.5"))},
			{at: 10 * time.Second, rcv: put(msg("web", t0.Add(10*time.Second), "cpu=2"))},
			{at: 40 * time.Second, metric: "cpu", app: "web", want: "2", wantAt: t0.Add(10 * time.Second)},
			{at: 40*time.Second + time.Millisecond, metric: "cpu", app: "web"},
		}},
		{"before the app advanced once: three default intervals", 0, "", []step{
			{at: 0, rcv: put(msg("web", t0, "cpu=0.5"))},
			{at: 3 * generator.DefaultInterval, metric: "cpu", app: "web", want: "0.5", wantAt: t0},
			{at: 3*generator.DefaultInterval + time.Millisecond, metric: "cpu", app: "web"},
		}},
		{"before the app advanced once: three of the config's intervals", 0,
			"interval: 5s\ndeployments:\n  - name: web\n    metrics:\n      cpu: [1]\n", []step{
				{at: 0, rcv: put(msg("web", t0, "cpu=0.5"))},
				{at: 15 * time.Second, metric: "cpu", app: "web", want: "0.5", wantAt: t0},
				{at: 16 * time.Second, metric: "cpu", app: "web"},
			}},
		{"a measured interval beats the config's", 0,
			"interval: 5s\ndeployments:\n  - name: web\n    metrics:\n      cpu: [1]\n", []step{
				{at: 0, rcv: put(msg("web", t0, "cpu=0.5"))},
				{at: 20 * time.Second, rcv: put(msg("web", t0.Add(20*time.Second), "cpu=2"))},
				{at: 80 * time.Second, metric: "cpu", app: "web", want: "2", wantAt: t0.Add(20 * time.Second)},
			}},
		{"--max-age fixes the age for every app", 4 * time.Second, "", []step{
			{at: 0, rcv: put(msg("web", t0, "cpu=0.5"))},
			{at: 10 * time.Second, rcv: put(msg("web", t0.Add(10*time.Second), "cpu=2"))},
			{at: 14 * time.Second, metric: "cpu", app: "web", want: "2", wantAt: t0.Add(10 * time.Second)},
			{at: 15 * time.Second, metric: "cpu", app: "web"},
		}},
		{"a stale message is the latest value, with its old timestamp, and ages from its receipt", 0, "", []step{
			{at: 0, rcv: put(msg("web", t0, "cpu=0.5"))},
			{at: 10 * time.Second, rcv: put(msg("web", t0.Add(10*time.Second), "cpu=2"))},
			{at: 20 * time.Second, rcv: put(msg("web", t0.Add(-10*time.Minute), "cpu=750m")), metric: "cpu", app: "web", want: "750m", wantAt: t0.Add(-10 * time.Minute)},
			// The stale copy did not shrink the interval: 10 s, so 30 s from its receipt.
			{at: 50 * time.Second, metric: "cpu", app: "web", want: "750m", wantAt: t0.Add(-10 * time.Minute)},
			{at: 51 * time.Second, metric: "cpu", app: "web"},
		}},
		{"a duplicate does not shrink the interval", 0, "", []step{
			{at: 0, rcv: put(msg("web", t0, "cpu=0.5"))},
			{at: 10 * time.Second, rcv: put(msg("web", t0.Add(10*time.Second), "cpu=2"))},
			{at: 10 * time.Second, rcv: put(msg("web", t0.Add(10*time.Second), "cpu=2"))},
			{at: 40 * time.Second, metric: "cpu", app: "web", want: "2", wantAt: t0.Add(10 * time.Second)},
		}},
		{"an omitted metric keeps its value until it ages out", 0, "", []step{
			{at: 0, rcv: put(msg("web", t0, "cpu=0.5", "memory=2"))},
			{at: 10 * time.Second, rcv: put(msg("web", t0.Add(10*time.Second), "cpu=2"))},
			{at: 20 * time.Second, rcv: put(msg("web", t0.Add(20*time.Second), "cpu=2")), metric: "memory", app: "web", want: "2", wantAt: t0},
			{at: 31 * time.Second, metric: "memory", app: "web"},
			{at: 31 * time.Second, metric: "cpu", app: "web", want: "2", wantAt: t0.Add(20 * time.Second)},
		}},
		{"a value that is not a number is not kept", 0, "", []step{
			{at: 0, rcv: put(msg("web", t0, "tier=gold")), metric: "tier", app: "web"},
		}},
		{"a message without a timestamp is stamped when it arrives", 0, "", []step{
			{at: 3 * time.Second, rcv: put(msg("web", time.Time{}, "cpu=0.5")), metric: "cpu", app: "web", want: "0.5", wantAt: t0.Add(3 * time.Second)},
		}},
		{"without a config, every namespace gets the same values", 0, "", []step{
			{at: 0, rcv: put(msg("web", t0, "cpu=0.5")), metric: "cpu", ns: "shop", app: "web", want: "0.5", wantAt: t0},
			{at: 0, metric: "cpu", ns: "default", app: "web", want: "0.5", wantAt: t0},
		}},
		{"an app the config puts in a namespace is served there only; the others everywhere", 0,
			"deployments:\n  - name: web\n    kubernetes: {namespace: shop}\n    metrics:\n      cpu: [1]\n  - name: db\n    metrics:\n      cpu: [1]\n", []step{
				{at: 0, rcv: put(msg("web", t0, "cpu=0.5")), metric: "cpu", ns: "shop", app: "web", want: "0.5", wantAt: t0},
				{at: 0, metric: "cpu", ns: "default", app: "web"},
				{at: 0, rcv: put(msg("db", t0, "cpu=2")), metric: "cpu", ns: "default", app: "db", want: "2", wantAt: t0},
				{at: 0, metric: "cpu", ns: "shop", app: "db", want: "2", wantAt: t0},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{now: t0}
			s, err := latest.New(latest.Config{MaxAge: tt.maxAge, Run: parse(t, tt.run), Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			for i, st := range tt.steps {
				clk.now = t0.Add(st.at)
				if st.rcv != nil {
					s.Put(*st.rcv)
				}
				if st.metric == "" {
					continue
				}
				v, ok := s.Get(st.metric, st.ns, st.app)
				switch {
				case st.want == "" && ok:
					t.Errorf("step %d: Get(%s, %q, %s) = %+v, want absent", i, st.metric, st.ns, st.app, v)
				case st.want != "" && !ok:
					t.Errorf("step %d: Get(%s, %q, %s) absent, want %s", i, st.metric, st.ns, st.app, st.want)
				case ok && (v.Text != st.want || !v.Time.Equal(st.wantAt) || v.App != st.app || v.Metric != st.metric):
					t.Errorf("step %d: Get(%s, %q, %s) = %+v, want %s at %s", i, st.metric, st.ns, st.app, v, st.want, st.wantAt)
				}
			}
		})
	}
}

// parse parses a config file's text; nil for "".
func parse(t *testing.T, text string) *generator.Config {
	t.Helper()
	if text == "" {
		return nil
	}
	cfg, err := generator.Parse("run.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestStoreEach(t *testing.T) {
	clk := &clock{now: t0}
	run := parse(t, "deployments:\n  - name: web\n    kubernetes: {namespace: shop}\n    metrics:\n      cpu: [1]\n  - name: db\n    metrics:\n      cpu: [1]\n  - name: old\n    metrics:\n      cpu: [1]\n")
	s, err := latest.New(latest.Config{MaxAge: time.Minute, Run: run, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.Put(msg("old", t0, "cpu=2"))
	clk.now = t0.Add(2 * time.Minute)
	s.Put(msg("web", clk.now, "cpu=0.5"))
	s.Put(msg("db", clk.now, "cpu=750m", "memory=2"))
	tests := []struct {
		metric, ns string
		want       []string // app=text, sorted
	}{
		{"cpu", "shop", []string{"db=750m", "web=0.5"}},
		{"cpu", "default", []string{"db=750m"}},
		{"memory", "shop", []string{"db=2"}},
		{"gpu", "shop", nil},
	}
	for _, tt := range tests {
		t.Run(tt.metric+" in "+tt.ns, func(t *testing.T) {
			var got []string
			s.Each(tt.metric, tt.ns, func(v latest.Value) bool {
				got = append(got, v.App+"="+v.Text)
				return true
			})
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Each(%s, %s) = %v, want %v", tt.metric, tt.ns, got, tt.want)
			}
		})
	}
	t.Run("stops when fn returns false", func(t *testing.T) {
		n := 0
		s.Each("cpu", "shop", func(latest.Value) bool { n++; return false })
		if n != 1 {
			t.Errorf("fn called %d times, want 1", n)
		}
	})
}

func TestStoreKnown(t *testing.T) {
	s, err := latest.New(latest.Config{Run: parse(t, "deployments:\n  - name: web\n    metrics:\n      cpu: [1]\n")})
	if err != nil {
		t.Fatal(err)
	}
	s.Put(msg("db", time.Now(), "memory=2", "tier=gold"))
	tests := []struct {
		metric string
		want   bool
	}{
		{"cpu", true},    // from the config, no value yet
		{"memory", true}, // received
		{"tier", false},  // received, but never a number
		{"gpu", false},
	}
	for _, tt := range tests {
		t.Run(tt.metric, func(t *testing.T) {
			if got := s.Known(tt.metric); got != tt.want {
				t.Errorf("Known(%s) = %v, want %v", tt.metric, got, tt.want)
			}
		})
	}
	if got, want := s.Metrics(), []string{"cpu", "memory"}; !slices.Equal(got, want) {
		t.Errorf("Metrics() = %v, want %v", got, want)
	}
	if got, want := s.Stats(), (latest.Stats{Apps: 1, Values: 1, Metrics: 2}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestStoreObject(t *testing.T) {
	run := parse(t, "deployments:\n"+
		"  - name: web-sim\n    kubernetes: {name: web, namespace: shop}\n    metrics:\n      cpu: [1]\n"+
		"  - name: cache\n    kubernetes: {kind: StatefulSet, name: redis}\n    metrics:\n      cpu: [1]\n"+
		"  - name: db\n    metrics:\n      cpu: [1]\n")
	s, err := latest.New(latest.Config{Run: run})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ns, kind, name string
		want           string // "" for none
	}{
		{"shop", generator.KindDeployment, "web", "web-sim"},
		{"default", generator.KindDeployment, "web", "web"},     // not web-sim (in shop only): an app named web
		{"default", generator.KindDeployment, "web-sim", ""},    // its own name is in shop only
		{"any", generator.KindStatefulSet, "redis", "cache"},    // mapped, every namespace
		{"any", generator.KindDeployment, "db", "db"},           // by its own name
		{"any", generator.KindDeployment, "unknown", "unknown"}, // a name is an app's, whether it sent yet or not
		{"any", generator.KindStatefulSet, "db", ""},
		{"any", generator.KindDeployment, "cache", ""}, // mapped to a StatefulSet only            // by name only as a Deployment
	}
	for _, tt := range tests {
		t.Run(tt.ns+"/"+tt.kind+"/"+tt.name, func(t *testing.T) {
			if tt.want != "" {
				if kind, name := s.Workload(tt.want); kind != tt.kind || name != tt.name {
					t.Errorf("Workload(%s) = %s %s, want %s %s", tt.want, kind, name, tt.kind, tt.name)
				}
			}
			app, ok := s.Object(tt.ns, tt.kind, tt.name)
			if app != tt.want || ok != (tt.want != "") {
				t.Errorf("Object(%s, %s, %s) = %q, %v, want %q", tt.ns, tt.kind, tt.name, app, ok, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	_, err := latest.New(latest.Config{MaxAge: -time.Second})
	if err == nil || !strings.Contains(err.Error(), "MaxAge -1s: must be >= 0") {
		t.Errorf("New with a negative MaxAge: %v, want an error naming it", err)
	}
}
