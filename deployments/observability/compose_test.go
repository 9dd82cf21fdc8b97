package observability_test

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const composePath = "../../docker-compose.yml"

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Profiles    []string          `yaml:"profiles"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
}

// mounts maps each bind mount's container path to its host path, relative
// to the repository root.
func (s composeService) mounts() map[string]string {
	m := map[string]string{}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && strings.HasPrefix(parts[0], "./") {
			m[parts[1]] = path.Clean(parts[0])
		}
	}
	return m
}

func readYAML(t *testing.T, p string, v any) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
}

// TestComposeObserveProfile: the observe profile's Prometheus and Grafana
// are pinned, load the very rules.yaml and dashboard.json the component
// uses, and Prometheus scrapes only services that serve /metrics there.
func TestComposeObserveProfile(t *testing.T) {
	var cf composeFile
	readYAML(t, composePath, &cf)
	prom, graf := cf.Services["prometheus"], cf.Services["grafana"]
	for name, s := range map[string]composeService{"prometheus": prom, "grafana": graf} {
		if !slices.Contains(s.Profiles, "observe") {
			t.Errorf("service %s: profiles %v, want observe", name, s.Profiles)
		}
		if !regexp.MustCompile(`:v?\d+\.\d+\.\d+$`).MatchString(s.Image) {
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		}
		for _, host := range s.mounts() {
			if _, err := os.Stat(filepath.Join("..", "..", host)); err != nil {
				t.Errorf("service %s mounts %s: %v", name, host, err)
			}
		}
	}
	if err := samePrometheus(prom.Image); err != nil {
		t.Error(err)
	}

	// Prometheus: its config, and the rules at a path the config loads.
	pm := prom.mounts()
	var pc struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	cfgHost, ok := pm["/etc/prometheus/prometheus.yml"]
	if !ok {
		t.Fatalf("prometheus mounts no /etc/prometheus/prometheus.yml: %v", pm)
	}
	readYAML(t, filepath.Join("..", "..", cfgHost), &pc)
	var rulesMounted bool
	for _, rf := range pc.RuleFiles {
		rulesMounted = rulesMounted || pm[rf] == "deployments/observability/"+rulesPath
	}
	if !rulesMounted {
		t.Errorf("prometheus loads %v, none of them deployments/observability/%s (mounts %v)", pc.RuleFiles, rulesPath, pm)
	}
	var targets int
	for _, sc := range pc.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				targets++
				host, port, _ := strings.Cut(tg, ":")
				s, ok := cf.Services[host]
				if !ok {
					t.Errorf("job %s scrapes %s: no such compose service", sc.JobName, tg)
					continue
				}
				if s.Environment["METRICSENDER_HTTP_ADDR"] != ":"+port {
					t.Errorf("job %s scrapes %s, but the service's METRICSENDER_HTTP_ADDR is %q", sc.JobName, tg, s.Environment["METRICSENDER_HTTP_ADDR"])
				}
			}
		}
	}
	if targets == 0 {
		t.Error("prometheus scrapes nothing")
	}

	// Grafana: the dashboard in the directory its provider reads, and a
	// Prometheus datasource.
	gm := graf.mounts()
	var providers struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	var datasources struct {
		Datasources []struct{ Type string } `yaml:"datasources"`
	}
	var providerFile, datasourceFile string
	for ctr, host := range gm {
		switch path.Dir(ctr) {
		case "/etc/grafana/provisioning/dashboards":
			providerFile = host
		case "/etc/grafana/provisioning/datasources":
			datasourceFile = host
		}
	}
	if providerFile == "" || datasourceFile == "" {
		t.Fatalf("grafana mounts no dashboard provider or datasource provisioning: %v", gm)
	}
	readYAML(t, filepath.Join("..", "..", providerFile), &providers)
	readYAML(t, filepath.Join("..", "..", datasourceFile), &datasources)
	if len(datasources.Datasources) == 0 || datasources.Datasources[0].Type != "prometheus" {
		t.Errorf("%s provisions %+v, want a prometheus datasource", datasourceFile, datasources.Datasources)
	}
	var dashboardMounted bool
	for ctr, host := range gm {
		for _, p := range providers.Providers {
			if host == "deployments/observability/"+dashboardPath && path.Dir(ctr) == path.Clean(p.Options.Path) {
				dashboardMounted = true
			}
		}
	}
	if !dashboardMounted {
		t.Errorf("grafana does not mount deployments/observability/%s where its provider reads (%+v, mounts %v)", dashboardPath, providers.Providers, gm)
	}
}

// samePrometheus checks that image is the Prometheus release of the
// module the tests parse and evaluate with (deployments/go.mod's
// requirement): module v0.3XY.Z is Prometheus v3.XY.Z.
func samePrometheus(image string) error {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/prometheus/prometheus (v0\.3(\d\d)\.(\d+))\b`).FindStringSubmatch(string(b))
	if m == nil {
		return fmt.Errorf("go.mod requires no github.com/prometheus/prometheus v0.3XY.Z")
	}
	if want := fmt.Sprintf("prom/prometheus:v3.%s.%s", strings.TrimLeft(m[2], "0"), m[3]); image != want {
		return fmt.Errorf("compose runs %s, the tests check the rules with module %s: use %s", image, m[1], want)
	}
	return nil
}
