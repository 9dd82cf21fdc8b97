package deployments_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

var update = flag.Bool("update", false, "rewrite deployments/configmap.yaml from examples/metricsender.yaml")

// renderConfigMap renders the ConfigMap manifest holding config verbatim as a
// YAML literal block, so the file stays readable and diffs line by line.
func renderConfigMap(config string) (string, error) {
	if strings.Contains(config, "\r") {
		return "", errors.New("render configmap: the config has a carriage return; save it with LF line ends")
	}
	if strings.HasPrefix(config, " ") {
		return "", errors.New("render configmap: the config starts with a space; a literal block cannot hold that without an indentation indicator")
	}
	// Chomping: "|-" keeps no final newline, "|" exactly one, "|+" all of them.
	header := "|"
	switch {
	case !strings.HasSuffix(config, "\n"):
		header = "|-"
	case strings.HasSuffix(config, "\n\n"):
		header = "|+"
	}
	var b strings.Builder
	b.WriteString(`# Generated from examples/metricsender.yaml, byte for byte; regenerate with
#   go test -C deployments . -run TestConfigMapFile -update
# To change the config of a running sender without a restart, see deployments/README.md.
apiVersion: v1
kind: ConfigMap
metadata:
  name: ` + configMapName + `
data:
  ` + configKey + `: ` + header + "\n")
	for _, line := range strings.SplitAfter(config, "\n") {
		if line == "" {
			continue
		}
		if line != "\n" {
			b.WriteString("    ")
		}
		b.WriteString(line)
	}
	return b.String(), nil
}

func TestConfigMapFile(t *testing.T) {
	example, err := os.ReadFile(filepath.Join(repoRoot, "examples", "metricsender.yaml"))
	if err != nil {
		t.Fatalf("read example config: %v", err)
	}
	tests := []struct {
		name, config string
	}{
		{name: "example", config: string(example)},
		{name: "no final newline", config: "interval: 60s\ndeployments: []"},
		{name: "trailing blank lines", config: "interval: 60s\n\n\n"},
		{name: "blank lines and comments inside", config: "# top\n\ninterval: 60s  # trailing spaces follow  \n\n  # indented\n"},
	}
	dec := newStrictDecoder(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := renderConfigMap(tt.config)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := decodeYAMLObject(dec, []byte(text))
			if err != nil {
				t.Fatalf("rendered configmap: %v\n%s", err, text)
			}
			cm, ok := obj.(*corev1.ConfigMap)
			if !ok {
				t.Fatalf("rendered a %T", obj)
			}
			if got := cm.Data[configKey]; got != tt.config {
				t.Fatalf("round trip changed the config:\n got %q\nwant %q", got, tt.config)
			}
		})
	}
	if *update {
		text, err := renderConfigMap(string(example))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(configMapFile, []byte(text), 0o644); err != nil {
			t.Fatalf("update configmap: %v", err)
		}
	}
}
