package app

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/syncbuf"
	"github.com/labsea/metricsender/internal/watchfile/watchfiletest"
)

// labManifest is a lab's manifest: the config's deployments (one per name)
// in a ConfigMap's |- block, then a Deployment and a Service. The first
// deployment's cpu list is on line 12.
func labManifest(cpu, replicas string, names ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: metricsender-config\ndata:\n  metricsender.yaml: |-\n")
	b.WriteString("    seed: 1\n    interval: 10s\n    deployments:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "      - name: %s\n        metrics:\n          cpu: %s\n", n, cpu)
	}
	fmt.Fprintf(&b, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: metricsender\nspec:\n  replicas: %s\n", replicas)
	b.WriteString("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: metricsender\n")
	return b.String()
}

// TestReloadManifest: hot reload watches and hashes a manifest like any
// config file. A change of the embedded config reaches the schedule; a
// problem in it is logged at the manifest's line and changes nothing; a
// change elsewhere in the file reloads to the same deployments; the same
// bytes written again do not reload.
func TestReloadManifest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metricsender.yaml")
	writeFile(t, path, labManifest("[1]", "1", "app1", "app2"))
	cfg, sched := loadSchedule(t, path, generator.ScheduleOptions{Seed: 1})
	var logs syncbuf.Buffer
	reg := prometheus.NewRegistry()
	m := newSendMetrics(reg, true)
	rl := newReloader(path, cfg, sched, m, slog.New(slog.NewTextHandler(&logs, nil)))
	reloads := 0
	settled := watchfiletest.Start(t, path, func() { rl.Reload(); reloads++ })

	steps := []struct {
		name, content string
		wantReload    bool
		wantNames     []string
		wantOK        float64 // successful reloads so far
		wantFailed    float64 // failed reloads so far
		wantLog       string
	}{
		{name: "a deployment replaced", content: labManifest("[1]", "1", "app1", "app3"), wantReload: true,
			wantNames: []string{"app1", "app3"}, wantOK: 1, wantLog: "added=[app3] removed=[app2]"},
		{name: "the same bytes again", content: labManifest("[1]", "1", "app1", "app3"),
			wantNames: []string{"app1", "app3"}, wantOK: 1},
		{name: "a problem in the embedded config", content: labManifest("[]", "1", "app1", "app3"), wantReload: true,
			wantNames: []string{"app1", "app3"}, wantOK: 1, wantFailed: 1,
			wantLog: path + ":12:11: deployments[0].metrics.cpu: empty list"},
		{name: "fixed, with CRLF line endings", content: strings.ReplaceAll(labManifest("[2]", "1", "app1", "app3"), "\n", "\r\n"), wantReload: true,
			wantNames: []string{"app1", "app3"}, wantOK: 2, wantFailed: 1, wantLog: `changed="[app1 app3]"`},
		{name: "only the Deployment changed", content: strings.ReplaceAll(labManifest("[2]", "2", "app1", "app3"), "\n", "\r\n"), wantReload: true,
			wantNames: []string{"app1", "app3"}, wantOK: 3, wantFailed: 1, wantLog: "added=[] removed=[] changed=[]"},
	}
	for _, st := range steps {
		// Steps share the watcher, so they run in order, each in its own
		// t.Run for its name.
		t.Run(st.name, func(t *testing.T) {
			before, logged := reloads, len(logs.String())
			// Renamed over, as an editor saves: the watcher sees the whole
			// new content at once.
			writeFile(t, path+".swp", st.content)
			if err := os.Rename(path+".swp", path); err != nil {
				t.Fatal(err)
			}
			for done := false; !done; {
				select {
				case changed := <-settled:
					// A burst may settle in parts; the change is in one of them.
					done = changed || !st.wantReload
				case <-time.After(watchfiletest.WaitLimit):
					t.Fatal("the change was never looked at")
				}
			}
			if got := reloads > before; got != st.wantReload {
				t.Errorf("reloaded %d times, want a reload: %v", reloads-before, st.wantReload)
			}
			var names []string
			for _, d := range sched.Snapshot() {
				names = append(names, d.Name)
			}
			if !slices.Equal(names, st.wantNames) {
				t.Errorf("the schedule runs %v, want %v", names, st.wantNames)
			}
			ok, failed := reloadsOf(t, reg, "success"), reloadsOf(t, reg, "failure")
			if ok != st.wantOK || failed != st.wantFailed {
				t.Errorf("reloads success=%v failure=%v, want %v and %v", ok, failed, st.wantOK, st.wantFailed)
			}
			if log := logs.String()[logged:]; !strings.Contains(log, st.wantLog) {
				t.Errorf("log lacks %q:\n%s", st.wantLog, log)
			}
		})
	}
}
