package app_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/app"
)

// shardConfig has n deployments of random models, spread over the interval.
func shardConfig(t *testing.T, n int) string {
	t.Helper()
	return writeFile(t, "shards.yaml", fmt.Sprintf(`interval: 10s
spread: true
seed: 42
deployments:
  - name: web
    count: %d
    metrics:
      cpu: {uniform: {min: 100m, max: 2, step: 10m}}
      memory: [256Mi, 512Mi, 1Gi]
  - name: batch
    interval: 15s
    metrics:
      cpu: {sine: {min: 0, max: 4, period: 1m}}
`, n))
}

// previewRows is preview's csv rows (no header) as "elapsed,app,metric,value".
func previewRows(t *testing.T, args ...string) []string {
	t.Helper()
	var rows []string
	for _, r := range previewCSV(t, args...) {
		rows = append(rows, strings.Join(r, ","))
	}
	return rows
}

// appsOf is the set of apps in preview rows.
func appsOf(rows []string) map[string]bool {
	apps := map[string]bool{}
	for _, r := range rows {
		apps[strings.Split(r, ",")[1]] = true
	}
	return apps
}

func TestPreviewShardsUnionIsOneRun(t *testing.T) {
	cfg := shardConfig(t, 400)
	whole := previewRows(t, "-c", cfg, "--duration", "1m")
	slices.Sort(whole)
	var union []string
	owner := map[string]int{}
	for i := range 4 {
		part := previewRows(t, "-c", cfg, "--duration", "1m", "--shard", fmt.Sprintf("%d/4", i))
		if len(part) == 0 {
			t.Fatalf("shard %d/4 previewed nothing", i)
		}
		for a := range appsOf(part) {
			if prev, ok := owner[a]; ok {
				t.Fatalf("%s is in shards %d and %d", a, prev, i)
			}
			owner[a] = i
		}
		union = append(union, part...)
	}
	slices.Sort(union)
	if !slices.Equal(union, whole) {
		t.Fatalf("the sorted union of 4 shards' rows (%d) differs from one unsharded run's (%d)", len(union), len(whole))
	}

	// A 5th shard takes about 1/5 of the deployments, from all four.
	moved := 0
	for i := range 5 {
		for a := range appsOf(previewRows(t, "-c", cfg, "--duration", "10s", "--shard", fmt.Sprintf("%d/5", i))) {
			if owner[a] != i {
				moved++
				if i != 4 {
					t.Errorf("%s moved from shard %d/4 to %d/5, not to the new shard", a, owner[a], i)
				}
			}
		}
	}
	if share := float64(moved) / float64(len(owner)); share < 0.13 || share > 0.27 {
		t.Errorf("a 5th shard moved %d of %d deployments (%.2f), want about 1/5", moved, len(owner), share)
	}
}

func TestShardUsageErrors(t *testing.T) {
	cfg := shardConfig(t, 4)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"index out of range", nil, []string{"send", "--shard", "4/4"}, "--shard"},
		{"not i/N", nil, []string{"send", "--shard", "two"}, "--shard"},
		{"env", map[string]string{"METRICSENDER_SHARD": "1/0"}, []string{"send"}, "--shard"},
		{"shards < 1", nil, []string{"send", "--shards", "0"}, "--shards"},
		{"disagree", nil, []string{"send", "--shard", "1/4", "--shards", "3"}, "--shards 3"},
		{"hostname without ordinal", map[string]string{"HOSTNAME": "sender", "JOB_COMPLETION_INDEX": ""}, []string{"send", "--shards", "3"}, `HOSTNAME "sender" has no ordinal`},
		{"ordinal too big", map[string]string{"HOSTNAME": "sender-3", "JOB_COMPLETION_INDEX": ""}, []string{"send", "--shards", "3"}, "ordinal 3"},
		{"bad job index", map[string]string{"JOB_COMPLETION_INDEX": "7"}, []string{"send", "--shards", "3"}, "JOB_COMPLETION_INDEX"},
		{"preview", nil, []string{"preview", "--duration", "1m", "--shard", "3/2"}, "--shard"},
		{"validate", nil, []string{"validate", "--shards", "-1"}, "--shards"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			code, _, stderr := runCLI(t, ctx, append(tt.args, "-c", cfg, "--http-addr", "")...)
			if tt.args[0] == "validate" || tt.args[0] == "preview" {
				code, _, stderr = runCLI(t, ctx, append(tt.args, "-c", cfg)...)
			}
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 naming %q", code, stderr, tt.want)
			}
		})
	}
}

// TestSendShardFromThePod: the index comes from --shard, else
// JOB_COMPLETION_INDEX, else the HOSTNAME ordinal; the log shows it and
// only that shard's deployments are sent.
func TestSendShardFromThePod(t *testing.T) {
	cfg := shardConfig(t, 40)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"hostname ordinal", map[string]string{"HOSTNAME": "metricsender-2", "JOB_COMPLETION_INDEX": ""}, []string{"--shards", "4"}, "2/4"},
		{"job index wins over hostname", map[string]string{"HOSTNAME": "metricsender-2", "JOB_COMPLETION_INDEX": "1"}, []string{"--shards", "4"}, "1/4"},
		{"--shard wins over both", map[string]string{"HOSTNAME": "metricsender-2", "JOB_COMPLETION_INDEX": "1"}, []string{"--shard", "3/4", "--shards", "4"}, "3/4"},
		{"env", map[string]string{"METRICSENDER_SHARD": "0/4"}, nil, "0/4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append([]string{"send", "-t", "gochannel", "-c", cfg, "--interval", "10ms", "--count", "1",
				"--output", "json", "--http-addr", ""}, tt.args...)
			code, stdout, stderr := runCLI(t, ctx, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, "msg=tick") || !strings.Contains(stderr, "shard="+tt.want) {
				t.Errorf("the log does not show shard=%s on its tick lines:\n%s", tt.want, stderr)
			}
			var want []string
			for _, r := range previewRows(t, "-c", cfg, "--duration", "15s", "--shard", tt.want) {
				want = append(want, strings.Split(r, ",")[1])
			}
			var got []string
			for _, l := range decodeLines(t, stdout) {
				got = append(got, l.App)
			}
			slices.Sort(got)
			want = slices.Compact(slices.Sorted(slices.Values(want)))
			if !slices.Equal(got, want) {
				t.Errorf("sent %v, want shard %s's deployments %v", got, tt.want, want)
			}
		})
	}
}

func TestValidateShards(t *testing.T) {
	cfg := shardConfig(t, 99)
	code, stdout, stderr := runCLI(t, context.Background(), "validate", "-c", cfg, "--shards", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	total := 0
	for i := range 3 {
		var n int
		var perMin float64
		prefix := fmt.Sprintf("shard %d/3: ", i)
		k := strings.Index(stdout, prefix)
		if k < 0 {
			t.Fatalf("no %q line:\n%s", prefix, stdout)
		}
		if _, err := fmt.Sscanf(stdout[k+len(prefix):], "%d deployments, %g messages a minute", &n, &perMin); err != nil {
			t.Fatalf("line %q: %v", stdout[k:], err)
		}
		total += n
	}
	if total != 100 {
		t.Errorf("the shards hold %d deployments, want all 100", total)
	}
	_ = app.JSONLine{}
}

func TestPreviewShardPlotsOnlyItsDeployments(t *testing.T) {
	cfg := shardConfig(t, 12)
	plot := t.TempDir() + "/p.svg"
	rows := previewRows(t, "-c", cfg, "--duration", "30s", "--shard", "1/3", "--plot", plot)
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	svg, err := os.ReadFile(plot)
	if err != nil {
		t.Fatal(err)
	}
	owned := strings.Split(rows[0], ",")[1]
	if !strings.Contains(string(svg), ">"+owned+"<") {
		t.Fatalf("the plot does not name %s, a deployment of the shard: the check below would prove nothing", owned)
	}
	for _, r := range previewRows(t, "-c", cfg, "--duration", "30s") {
		a := strings.Split(r, ",")[1]
		if !appsOf(rows)[a] && strings.Contains(string(svg), ">"+a+"<") {
			t.Errorf("the plot of shard 1/3 names %s, another shard's deployment", a)
		}
	}
}
