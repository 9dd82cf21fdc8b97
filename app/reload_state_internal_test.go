package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labsea/metricsender/control"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/promtest"
)

// A reload keeps the observed state of deployments that remain (their new
// state: is ignored), and new ones start from the file.
func TestReloadKeepsObservedState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metricsender.yaml")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("deployments:\n  - name: web\n    state: {replicas: 2}\n    metrics:\n      cpu: {expr: \"2.0 / replicas\"}\n")
	cfg, sched := loadSchedule(t, path, generator.ScheduleOptions{Start: time.Unix(0, 0)})
	if err := sched.Observe("web", generator.Observation{Source: control.SourceAPI, Replicas: 4, HasReplicas: true}); err != nil {
		t.Fatal(err)
	}
	write("deployments:\n  - name: web\n    state: {replicas: 8}\n    metrics:\n      cpu: {expr: \"4.0 / replicas\"}\n" +
		"  - name: db\n    state: {replicas: 3}\n    metrics:\n      cpu: [1]\n")
	newReloader(path, cfg, sched, nil, nil).Reload()

	for app, want := range map[string]struct {
		replicas float64
		source   string
	}{"web": {4, control.SourceAPI}, "db": {3, generator.SourceConfig}} {
		st, err := sched.Observed(app)
		if err != nil {
			t.Fatal(err)
		}
		if st.Replicas != want.replicas || st.Sources.Replicas.Name != want.source {
			t.Errorf("%s after reload: replicas %v from %q, want %v from %q", app, st.Replicas, st.Sources.Replicas.Name, want.replicas, want.source)
		}
	}
	if v := promtest.NextValues(t, sched); v["web"]["cpu"] != "1" {
		t.Errorf("web's cpu after reload = %q, want 1: the new expression over the kept replicas 4", v["web"]["cpu"])
	}
}

// loadSchedule loads the config at path and starts its schedule with opts,
// as send does before a reload can happen.
func loadSchedule(t *testing.T, path string, opts generator.ScheduleOptions) (*generator.Config, *generator.Schedule) {
	t.Helper()
	cfg, err := generator.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sched, err := generator.NewSchedule(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, sched
}
