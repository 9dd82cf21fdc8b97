package generator_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labsea/metricsender/generator"
)

// lineEndings are the two ways a manifest may break its lines: every
// manifest test runs with both, and must give the same answer.
var lineEndings = []struct {
	name string
	conv func(string) string
}{
	{"LF", func(s string) string { return s }},
	{"CRLF", func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }},
}

// parseManifest parses text under path with each line ending, calling
// check for each.
func parseManifest(t *testing.T, path, text string, check func(t *testing.T, cfg *generator.Config, err error)) {
	t.Helper()
	for _, le := range lineEndings {
		t.Run(le.name, func(t *testing.T) {
			cfg, err := generator.Parse(path, []byte(le.conv(text)))
			check(t, cfg, err)
		})
	}
}

// fixture reads a manifest of testdata/manifest.
func fixture(t *testing.T, name string) (path, text string) {
	t.Helper()
	path = filepath.Join("testdata", "manifest", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, string(data)
}

// manifestInput is a table case's input: the fixture file when the case
// names one, else text as m.yaml.
func manifestInput(t *testing.T, file, text string) (string, string) {
	t.Helper()
	if file != "" {
		return fixture(t, file)
	}
	return "m.yaml", text
}

func TestParseManifest(t *testing.T) {
	const keep = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: k}\ndata:\n  metricsender.yaml: |+\n    deployments:\n      - name: kept\n        metrics: {cpu: [1]}\n\n\n"
	const indicator = "kind: ConfigMap\nmetadata:\n  name: i\ndata:\n  metricsender.yaml: |2\n      # indented more than the first key\n    deployments:\n      - name: ind\n        metrics: {cpu: [1]}\n"
	const json = `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "data": {"metricsender.yaml": "deployments:\n  - name: js\n    metrics: {cpu: [1]}\n"}}`
	const leading = "---\n# an empty document first\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: l}\ndata:\n  metricsender.yaml: |\n    deployments: [{name: lead, metrics: {cpu: [1]}}]\n"
	tests := []struct {
		name, file, text string // file: a fixture; else text
		source           string
		deployments      []string
	}{
		{name: "the lab's layout: ConfigMap, Deployment, Service; |- block", file: "lab.yaml",
			source: "ConfigMap metricsender-config, key metricsender.yaml", deployments: []string{"web", "api", "worker"}},
		{name: "a ConfigMap alone; | block; other keys ignored", file: "clip.yaml",
			source: "ConfigMap sender, key metricsender.yaml", deployments: []string{"db"}},
		{name: "a metricsender.yaml key wins over a single-key ConfigMap", file: "named-wins.yaml",
			source: "ConfigMap current, key metricsender.yaml", deployments: []string{"current"}},
		{name: "no metricsender.yaml key: the only key that holds a config", file: "only-key.yaml",
			source: "ConfigMap load, key config.yaml", deployments: []string{"web"}},
		{name: "|+ block", text: keep, source: "ConfigMap k, key metricsender.yaml", deployments: []string{"kept"}},
		{name: "indentation indicator", text: indicator, source: "ConfigMap i, key metricsender.yaml", deployments: []string{"ind"}},
		{name: "JSON manifest", text: json, source: "ConfigMap j, key metricsender.yaml", deployments: []string{"js"}},
		{name: "empty documents before the ConfigMap", text: leading, source: "ConfigMap l, key metricsender.yaml", deployments: []string{"lead"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, text := manifestInput(t, tt.file, tt.text)
			parseManifest(t, path, text, func(t *testing.T, cfg *generator.Config, err error) {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				var names []string
				for _, d := range cfg.Deployments {
					names = append(names, d.Name)
				}
				if !slices.Equal(names, tt.deployments) {
					t.Errorf("deployments %v, want %v", names, tt.deployments)
				}
				if cfg.Source != tt.source || cfg.Path != path {
					t.Errorf("Path %q, Source %q; want %q, %q", cfg.Path, cfg.Source, path, tt.source)
				}
			})
		})
	}
}

func TestParseManifestMatchesConfig(t *testing.T) {
	// The lab's embedded config, loaded as a plain file, is the same config.
	path, text := fixture(t, "lab.yaml")
	_, block, _ := strings.Cut(text, "metricsender.yaml: |-\n")
	block, _, _ = strings.Cut(block, "---\n")
	var plain strings.Builder
	for line := range strings.Lines(block) {
		plain.WriteString(strings.TrimPrefix(line, "    "))
	}
	want, err := generator.Parse(path, []byte(plain.String()))
	if err != nil {
		t.Fatalf("the embedded config alone: %v", err)
	}
	got, err := generator.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if want.Source != "" || got.Source == "" {
		t.Errorf("Source: plain %q, manifest %q", want.Source, got.Source)
	}
	got.Source = ""
	if len(got.Deployments) != len(want.Deployments) || got.Interval != want.Interval {
		t.Errorf("manifest config %+v, want %+v", got, want)
	}
	for i := range want.Deployments {
		g, w := got.Deployments[i], want.Deployments[i]
		if g.Name != w.Name || g.Interval != w.Interval || len(g.Metrics) != len(w.Metrics) {
			t.Errorf("deployment %d: %+v, want %+v", i, g, w)
		}
	}
}

func TestParseManifestErrors(t *testing.T) {
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n"
	tests := []struct {
		name, file, text string // file: a fixture; else text, named m.yaml
		want             []string
	}{
		{name: "problems inside the embedded config, at the manifest's lines", file: "bad.yaml", want: []string{
			`testdata/manifest/bad.yaml:7:5: intervall: unknown key (did you mean "interval"?)`,
			`testdata/manifest/bad.yaml:11:11: deployments[0].metrics.cpu: empty list`,
			`testdata/manifest/bad.yaml:12:9: deployments[1].name: duplicate name "web" (deployments[0] has it too)`,
		}},
		{name: "two ConfigMaps with a metricsender.yaml key", file: "two.yaml", want: []string{
			`testdata/manifest/two.yaml:16:3: ConfigMap sender-a (line 6) and ConfigMap sender-b (line 16) each have a metricsender.yaml key: want exactly one`,
		}},
		{name: "no ConfigMap", file: "none.yaml", want: []string{
			`testdata/manifest/none.yaml:1:1: no ConfigMap in the manifest (found Deployment metricsender (line 1), Service metricsender (line 8)): want a ConfigMap with the config under a metricsender.yaml key`,
		}},
		{name: "no usable key", file: "nokey.yaml", want: []string{
			`testdata/manifest/nokey.yaml:1:1: no ConfigMap with a usable key: ConfigMap settings (line 1) has keys a.yaml, b.yaml and no metricsender.yaml; ` +
				`ConfigMap nginx (line 9) has one key, nginx.conf, which holds no config (no top-level deployments key); ConfigMap empty (line 17) has no data; ` +
				`want a metricsender.yaml key, or one ConfigMap whose only key holds the config`,
		}},
		{name: "a quoted config: at the string, with the position inside it", file: "quoted.yaml", want: []string{
			`testdata/manifest/quoted.yaml:8:22: deployments[0].metrics.cpu: empty list (line 4, column 7 of the text of ConfigMap metricsender-config, key metricsender.yaml)`,
		}},
		{name: "two single-key ConfigMaps holding a config",
			text: cm + "  a.yaml: |\n    deployments: []\n---\n" + cm + "  b.yaml: |\n    deployments: []\n",
			want: []string{`m.yaml:14:3: ConfigMap c (key a.yaml, line 6) and ConfigMap c (key b.yaml, line 14) each hold a config under their only key: name the one to use metricsender.yaml`}},
		{name: "YAML syntax error inside the block", text: cm + "  metricsender.yaml: |-\n    deployments:\n      - name: a\n        metrics: {cpu: [1}\n",
			want: []string{`m.yaml:9:5: YAML syntax: did not find expected ',' or ']'`}},
		{name: "YAML syntax error in the manifest", text: cm + "  metricsender.yaml: |\n    deployments: []\n---\nkind: Service\nspec: [\n",
			want: []string{`m.yaml:11:1: YAML syntax: did not find expected node content`}},
		{name: "the key holds a mapping, not text", text: cm + "  metricsender.yaml:\n    deployments: []\n",
			want: []string{`m.yaml:6:3: ConfigMap c, key metricsender.yaml: want the config as text (a block: metricsender.yaml: |), got a mapping`}},
		{name: "the key is empty", text: cm + "  metricsender.yaml: \"\"\n",
			want: []string{`m.yaml:6:3: ConfigMap c, key metricsender.yaml: empty: want the config`}},
		{name: "a problem of the whole embedded document", text: cm + "  metricsender.yaml: |\n    interval: 1s\n",
			want: []string{`m.yaml:7:5: deployments: missing: the file must list deployments`}},
		{name: "indentation indicator", text: cm + "  metricsender.yaml: |4\n        # more indented than the keys\n      intervall: 1s\n      deployments: [{name: a, metrics: {cpu: [1]}}]\n",
			want: []string{`m.yaml:8:7: intervall: unknown key (did you mean "interval"?)`}},
		{name: "a plain config's second document is still one too many", text: "deployments: [{name: a, metrics: {cpu: [1]}}]\n---\ninterval: 1s\n",
			want: []string{`m.yaml:2:1: a second YAML document: want exactly one`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, text := manifestInput(t, tt.file, tt.text)
			parseManifest(t, path, text, func(t *testing.T, cfg *generator.Config, err error) {
				if cfg != nil || err == nil {
					t.Fatalf("Parse gave a config, want %d problems", len(tt.want))
				}
				var got []string
				for _, fe := range generator.FieldErrors(err) {
					got = append(got, fe.Error())
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			})
		})
	}
}
