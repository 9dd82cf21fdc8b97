package generator_test

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

// pythonConfig is the Python sender's ConfigMap file, as deployed.
const pythonConfig = `connection:
  uri: "amqp://user:pass@rabbitmq-host"
  exchange: is
interval: 60s
deployments:
  - name: app1
    metrics:
      cpu: [0.5, 0.8, 1.0]
      memory: [256, 512, 1024]
  - name: app2
    metrics:
      cpu: [0.2, 0.4]
      gpu: [0, 1]
`

// listTexts returns each deployment's metrics as name -> list texts, for
// configs made of lists only.
func listTexts(t *testing.T, cfg *generator.Config) map[string]map[string][]string {
	t.Helper()
	out := map[string]map[string][]string{}
	for _, d := range cfg.Deployments {
		out[d.Name] = map[string][]string{}
		for _, m := range d.Metrics {
			c, ok := m.Model.(*generator.Choice)
			if !ok {
				t.Fatalf("%s.%s: model %T, want *generator.Choice", d.Name, m.Name, m.Model)
			}
			for _, v := range c.Values {
				out[d.Name][m.Name] = append(out[d.Name][m.Name], v.Text)
			}
		}
	}
	return out
}

func TestParseGoodConfigs(t *testing.T) {
	readme := map[string]map[string][]string{
		"app1": {"cpu": {"0.5", "0.8", "1.0"}, "memory": {"256", "512", "1024"}},
		"app2": {"cpu": {"0.2", "0.4"}, "gpu": {"0", "1"}},
	}
	tests := []struct {
		name, path, data string
		conn             generator.Connection
	}{
		{"python sender file", "metricsender.yaml", pythonConfig, generator.Connection{URI: "amqp://user:pass@rabbitmq-host", Exchange: "is"}},
		{"examples/metricsender.yaml", "../examples/metricsender.yaml", "", generator.Connection{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cfg *generator.Config
			var err error
			if tc.data != "" {
				cfg, err = generator.Parse(tc.path, []byte(tc.data))
			} else {
				cfg, err = generator.Load(tc.path)
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Path != tc.path || cfg.Interval != 60*time.Second || cfg.Seed != nil || cfg.Spread {
				t.Errorf("Path %q Interval %v Seed %v Spread %v, want %q 60s nil false", cfg.Path, cfg.Interval, cfg.Seed, cfg.Spread, tc.path)
			}
			if !cfg.Connection.Equal(tc.conn) {
				t.Errorf("Connection = %+v, want %+v", cfg.Connection, tc.conn)
			}
			if got := listTexts(t, cfg); !reflect.DeepEqual(got, readme) {
				t.Errorf("metrics = %v, want %v", got, readme)
			}
			if names := []string{cfg.Deployments[0].Name, cfg.Deployments[1].Name}; names[0] != "app1" || names[1] != "app2" {
				t.Errorf("deployment order %v, want file order", names)
			}
		})
	}
}

func TestParseDefaultsAndValues(t *testing.T) {
	cfg, err := generator.Parse("c.yaml", []byte("seed: -7\nspread: true\ndeployments:\n  - name: a\n    interval: 10s\n    metrics:\n      z: ['1.0', 200m, 0, gold, \"0.50\"]\n      b: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Interval != generator.DefaultInterval || cfg.Connection.Exchange != "" || cfg.Seed == nil || *cfg.Seed != -7 || !cfg.Spread {
		t.Errorf("got Interval %v Exchange %q Seed %v Spread %v", cfg.Interval, cfg.Connection.Exchange, cfg.Seed, cfg.Spread)
	}
	d := cfg.Deployments[0]
	if d.Interval != 10*time.Second || d.Metrics[0].Name != "b" || d.Metrics[1].Name != "z" {
		t.Fatalf("deployment %+v: want interval 10s, metrics sorted b, z", d)
	}
	want := []generator.Value{{Text: "1.0", Num: 1, HasNum: true}, {Text: "200m", Num: 0.2, HasNum: true},
		{Text: "0", Num: 0, HasNum: true}, {Text: "gold"}, {Text: "0.50", Num: 0.5, HasNum: true}}
	if got := d.Metrics[1].Model.(*generator.Choice).Values; !reflect.DeepEqual(got, want) {
		t.Errorf("values = %+v, want %+v", got, want)
	}
	if got := d.Metrics[0].Model.Next(rand.New(rand.NewPCG(1, 1)), 0); got != (generator.Value{Text: "2", Num: 2, HasNum: true}) {
		t.Errorf("constant = %+v, want 2", got)
	}
	if !reflect.DeepEqual(d.Metrics[0].Spec, "2") || !reflect.DeepEqual(d.Metrics[1].Spec, []string{"1.0", "200m", "0", "gold", "0.50"}) {
		t.Errorf("specs = %#v, %#v", d.Metrics[0].Spec, d.Metrics[1].Spec)
	}
}

func TestParseScenarios(t *testing.T) {
	cfg, err := generator.Load("../examples/scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	names := map[string]bool{}
	for _, d := range cfg.Deployments {
		names[d.Name] = true
		for _, m := range d.Metrics {
			kinds[reflect.TypeOf(m.Model).Elem().Name()] = true
		}
	}
	for _, k := range []string{"Choice", "Weighted", "Constant", "Uniform", "Walk", "Sine", "Ramp", "Spike", "Replay", "Expr"} {
		if !kinds[k] {
			t.Errorf("examples/scenarios.yaml does not use the %s model", k)
		}
	}
	if len(cfg.Deployments) != 20+1+3+1+1+1 || !names["web-0"] || !names["web-19"] || names["web"] {
		t.Errorf("%d deployments (%v): want web-0..web-19 and 6 more", len(cfg.Deployments), names)
	}
}

// TestCountCopiesOwnModels checks that each deployment made by count has
// its own stateful models, and its own copy of a replay's position.
func TestCountCopiesOwnModels(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "t.csv"), []byte("v\n1\n2\n3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := "deployments:\n  - name: w\n    count: 3\n    metrics:\n      walk: {walk: {start: 5, min: 0, max: 10, step: 1}}\n      trace: {replay: {file: t.csv, column: v}}\n"
	cfg, err := generator.Parse(filepath.Join(dir, "c.yaml"), []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Deployments) != 3 || cfg.Deployments[2].Name != "w-2" {
		t.Fatalf("deployments %+v, want w-0..w-2", cfg.Deployments)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 { // move the first copy's models
		for _, m := range cfg.Deployments[0].Metrics {
			m.Model.Next(r, 0)
		}
	}
	for _, d := range cfg.Deployments[1:] {
		if d.Metrics[0].Model == cfg.Deployments[0].Metrics[0].Model {
			t.Fatalf("%s shares its model with w-0", d.Name)
		}
		if got := d.Metrics[0].Model.Next(r, 0).Text; got != "1" {
			t.Errorf("%s trace starts at %q, want the first row", d.Name, got)
		}
		if got := d.Metrics[1].Model.Next(r, 0).Text; got != "5" {
			t.Errorf("%s walk starts at %q, want start 5", d.Name, got)
		}
	}
	clone := cfg.Clone()
	if got := clone.Deployments[0].Metrics[1].Model.Next(r, 0).Text; got != "5" {
		t.Errorf("Config.Clone walk starts at %q, want 5", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := generator.Load(path)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("Load(missing) = %v, want a not-exist error naming %s", err, path)
	}
}

// TestErrorsHidePasswords checks that no error quotes a URI's password.
func TestErrorsHidePasswords(t *testing.T) {
	for _, uri := range []string{"amqp://user:hunter2@host:5672/", "amqp://user:hunter2@[bad", "http://user:hunter2@host", "amqp://u:hunter2%zz@h/", "amqp://u:hun/ter2@h"} {
		t.Run(uri, func(t *testing.T) {
			data := "connection:\n  uri: '" + uri + "'\ndeployments: []\n"
			_, err := generator.Parse("c.yaml", []byte(data))
			if err == nil {
				t.Fatal("want an error (empty deployments)")
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "hun/ter2") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestMaskURI(t *testing.T) {
	for in, want := range map[string]string{
		"amqp://guest:guest@localhost:5672/": "amqp://guest:***@localhost:5672/",
		"amqp://localhost:5672/":             "amqp://localhost:5672/",
		"amqp://user@host/":                  "amqp://user@host/",
		"amqps://u:p@ss@h/v":                 "amqps://u:***@h/v",
		"not a uri":                          "not a uri",
	} {
		t.Run(in, func(t *testing.T) {
			if got := generator.MaskURI(in); got != want {
				t.Errorf("MaskURI(%q) = %q, want %q", in, got, want)
			}
		})
	}
}
