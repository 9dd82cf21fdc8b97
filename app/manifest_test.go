package app_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

const exampleManifest = "../examples/manifest.yaml"

// A Kubernetes manifest holding the config in a ConfigMap loads wherever a
// config file does; validate says which ConfigMap and key it read.
func TestManifestConfig(t *testing.T) {
	bad := writeFile(t, "bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  metricsender.yaml: |\n"+
		"    deployments:\n      - name: a\n        metrics: {cpu: []}\n---\nkind: Service\n")
	none := writeFile(t, "none.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
	tests := []struct {
		name       string
		args       []string
		env        string // CONFIG_PATH
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring
	}{
		{name: "validate FILE", args: []string{"validate", exampleManifest},
			wantStdout: exampleManifest + ": ConfigMap metricsender-config, key metricsender.yaml: OK: 3 deployments, 14 messages a minute, default interval 10s\n"},
		{name: "validate --config", args: []string{"validate", "--config", exampleManifest},
			wantStdout: "Metrics.worker every 30s: queue=[\"0\",\"10\",\"100\"]\n"},
		{name: "validate, a problem at the manifest's line", args: []string{"validate", bad}, wantCode: 2,
			wantStderr: bad + ":8:19: deployments[0].metrics.cpu: empty list"},
		{name: "validate, no ConfigMap", args: []string{"validate", none}, wantCode: 2,
			wantStderr: none + ":1:1: no ConfigMap in the manifest (found Service s (line 1))"},
		{name: "send with CONFIG_PATH", args: []string{"send", "-t", "gochannel", "--count", "1", "--interval", "1ms", "--http-addr", ""},
			env: exampleManifest, wantStdout: "Aplicação: worker"},
		{name: "send, a problem", args: []string{"send", "-t", "gochannel", "-c", bad}, wantCode: 2,
			wantStderr: bad + ":8:19: deployments[0].metrics.cpu: empty list"},
		{name: "preview", args: []string{"preview", "-c", exampleManifest, "--duration", "20s"}, wantStdout: "worker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("CONFIG_PATH", tt.env)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code, stdout, stderr := runCLI(t, ctx, tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout, tt.wantStdout) || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("exit %d, want %d; stdout:\n%s\nwant %q in it; stderr:\n%s\nwant %q in it",
					code, tt.wantCode, stdout, tt.wantStdout, stderr, tt.wantStderr)
			}
		})
	}
}
