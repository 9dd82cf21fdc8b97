package app

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/promtest"
	"github.com/labsea/metricsender/internal/syncbuf"
	"github.com/labsea/metricsender/internal/watchfile/watchfiletest"
)

// reloadsOf is metricsender_config_reloads_total{result=result} in reg.
func reloadsOf(t *testing.T, reg prometheus.Gatherer, result string) float64 {
	t.Helper()
	return promtest.SeriesOf(gathered(t, reg), "metricsender_config_reloads_total")["result="+result]
}

// gathered is what reg exports, by family name.
func gathered(t *testing.T, reg prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := make(map[string]*dto.MetricFamily, len(fams))
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	return byName
}

// fakeApplier records what it was given.
type fakeApplier struct {
	applied []*generator.Config
	res     generator.ApplyResult
	err     error
}

func (f *fakeApplier) Apply(cfg *generator.Config) (generator.ApplyResult, error) {
	if f.err != nil {
		return generator.ApplyResult{}, f.err
	}
	f.applied = append(f.applied, cfg)
	return f.res, nil
}

const reloadBase = `connection:
  exchange: is
seed: 1
interval: 10s
deployments:
  - name: app1
    metrics:
      cpu: [100m, 200m]
`

func TestReloader(t *testing.T) {
	tests := []struct {
		name       string
		content    string // "" = no file
		applyErr   error
		wantApply  bool
		wantLevels []string // the log lines' levels, in order
		wantLog    []string // substrings of the log
	}{
		{name: "valid", content: reloadBase + "  - name: app2\n    metrics:\n      cpu: [1]\n", wantApply: true,
			wantLevels: []string{"INFO"}, wantLog: []string{"config reloaded", "added=[app2]", "deployments=2"}},
		{name: "invalid: one line, every problem", wantLevels: []string{"ERROR"},
			content: "intervall: 10s\ndeployments:\n  - name: app1\n    metrics:\n      cpu: []\n",
			wantLog: []string{"config reload failed; the running config stays", "problems=2", "metricsender.yaml:1:1: ", "; ", "metricsender.yaml:5:"}},
		{name: "missing file", wantLevels: []string{"ERROR"}, wantLog: []string{"config reload failed", "no such file"}},
		{name: "schedule refuses it", content: reloadBase, applyErr: errors.New("apply config: boom"),
			wantLevels: []string{"ERROR"}, wantLog: []string{"config reload failed", "boom"}},
		{name: "connection changed", content: strings.Replace(reloadBase, "exchange: is", "exchange: other", 1), wantApply: true,
			wantLevels: []string{"INFO", "WARN"}, wantLog: []string{"connection section changed"}},
		{name: "password in the new connection", wantApply: true,
			content:    strings.Replace(reloadBase, "exchange: is", "uri: amqp://u:s3cret@host/", 1),
			wantLevels: []string{"INFO", "WARN", "WARN"}, wantLog: []string{"connection section changed", "Secret"}},
		{name: "seed changed", content: strings.Replace(reloadBase, "seed: 1", "seed: 2", 1), wantApply: true,
			wantLevels: []string{"INFO", "WARN"}, wantLog: []string{"the seed changed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "metricsender.yaml")
			writeFile(t, path, reloadBase)
			running, err := generator.Load(path)
			if err != nil {
				t.Fatalf("load the running config: %v", err)
			}
			if tt.content == "" {
				path = filepath.Join(dir, "gone.yaml")
			} else {
				writeFile(t, path, tt.content)
			}
			var logs syncbuf.Buffer
			reg := prometheus.NewRegistry()
			m := newSendMetrics(reg, true)
			app := &fakeApplier{err: tt.applyErr, res: generator.ApplyResult{Added: []string{"app2"}}}
			r := newReloader(path, running, app, m, slog.New(slog.NewTextHandler(&logs, nil)))
			r.Reload()

			if got := len(app.applied) == 1; got != tt.wantApply {
				t.Errorf("applied %d configs, want applied=%v", len(app.applied), tt.wantApply)
			}
			ok, failed := reloadsOf(t, reg, "success"), reloadsOf(t, reg, "failure")
			if wantOK := tt.applyErr == nil && tt.content != "" && tt.wantApply; (ok == 1) != wantOK || ok+failed != 1 {
				t.Errorf("reloads success=%v failure=%v, want one %v", ok, failed, map[bool]string{true: "success", false: "failure"}[wantOK])
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			var levels []string
			for _, l := range lines {
				_, rest, _ := strings.Cut(l, "level=")
				level, _, _ := strings.Cut(rest, " ")
				levels = append(levels, level)
			}
			if !slices.Equal(levels, tt.wantLevels) {
				t.Errorf("log levels %v, want %v:\n%s", levels, tt.wantLevels, strings.Join(lines, "\n"))
			}
			all := strings.Join(lines, "\n")
			for _, want := range tt.wantLog {
				if !strings.Contains(all, want) {
					t.Errorf("log lacks %q:\n%s", want, all)
				}
			}
			if strings.Contains(all, "s3cret") {
				t.Errorf("log shows the password:\n%s", all)
			}
		})
	}
}

func TestFirstNames(t *testing.T) {
	many := make([]string, 25)
	for i := range many {
		many[i] = fmt.Sprintf("web-%d", i)
	}
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"none", nil, nil},
		{"few", many[:3], many[:3]},
		{"ten", many[:10], many[:10]},
		{"many", many, append(slices.Clone(many[:10]), "(+15 more)")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := firstNames(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("firstNames = %v, want %v", got, tt.want)
			}
			if len(tt.in) > 10 && tt.in[10] != "web-10" {
				t.Errorf("firstNames changed its input")
			}
		})
	}
}

// TestReloadEndToEnd: a kubelet swap reaches a running Schedule; an invalid
// file then changes nothing; a removed deployment loses its last_value.
func TestReloadEndToEnd(t *testing.T) {
	cm := watchfiletest.NewConfigMapDir(t, reloadBase+"  - name: app2\n    metrics:\n      cpu: [1]\n")
	cfg, err := generator.Load(cm.Path())
	if err != nil {
		t.Fatal(err)
	}
	sched, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := newSendMetrics(reg, true)
	b, _ := sched.Next()
	m.ObserveTick(0, b.Events)
	rl := newReloader(cm.Path(), cfg, sched, m, nil)
	reloaded := make(chan struct{}, 10)
	watchfiletest.Start(t, cm.Path(), func() {
		rl.Reload()
		reloaded <- struct{}{}
	})
	wait := func() {
		t.Helper()
		select {
		case <-reloaded:
		case <-time.After(watchfiletest.WaitLimit):
			t.Fatal("no reload")
		}
	}
	names := func() []string {
		var out []string
		for _, d := range sched.Snapshot() {
			out = append(out, d.Name)
		}
		return out
	}

	cm.Update(reloadBase + "  - name: app3\n    metrics:\n      cpu: [2]\n")
	wait()
	if got := names(); !slices.Equal(got, []string{"app1", "app3"}) {
		t.Errorf("after the swap the schedule runs %v, want [app1 app3]", got)
	}
	if n := lastValueSeries(t, reg); n != 1 {
		t.Errorf("%d last_value series, want 1 (app1's; app2 was removed)", n)
	}

	cm.Update("deployments: []\nbogus: 1\n")
	wait()
	if got := names(); !slices.Equal(got, []string{"app1", "app3"}) {
		t.Errorf("an invalid file changed the schedule to %v", got)
	}
	if ok, failed := reloadsOf(t, reg, "success"), reloadsOf(t, reg, "failure"); ok != 1 || failed != 1 {
		t.Errorf("reloads success=%v failure=%v, want 1 and 1", ok, failed)
	}
}

// lastValueSeries counts the last_value series reg exports.
func lastValueSeries(t *testing.T, reg prometheus.Gatherer) int {
	t.Helper()
	return len(promtest.SeriesOf(gathered(t, reg), "metricsender_last_value"))
}
