package deployments_test

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/transport"
)

const image = "labsea/metricsender"

// composeFile is the part of the Compose specification docker-compose.yml
// uses. Decoding is strict: a key outside it fails the test, so a typo
// (depends_on.rabbitmq.conditon) cannot pass silently.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       string            `yaml:"build"`
	Command     []string          `yaml:"command"`
	Profiles    []string          `yaml:"profiles"`
	Hostname    string            `yaml:"hostname"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		Retries     int      `yaml:"retries"`
		StartPeriod string   `yaml:"start_period"`
	} `yaml:"healthcheck"`
	Restart string `yaml:"restart"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	decodeStrictYAML(t, filepath.Join(repoRoot, "docker-compose.yml"), &c)
	return c
}

// interpolationRe matches ${VAR:-default}, which compose replaces by the
// variable's value or the default.
var interpolationRe = regexp.MustCompile(`\$\{[A-Z0-9_]+:-([^}]*)\}`)

// defaultValue is the value compose uses when the environment sets nothing.
func defaultValue(v string) string {
	return interpolationRe.ReplaceAllString(v, "$1")
}

// containerPorts lists the container side of "host:container" port entries.
func containerPorts(s composeService) []string {
	var out []string
	for _, p := range s.Ports {
		out = append(out, p[strings.LastIndex(p, ":")+1:])
	}
	return out
}

func TestCompose(t *testing.T) {
	c := loadCompose(t)
	t.Run("rabbitmq with management and a healthcheck", func(t *testing.T) {
		r, ok := c.Services["rabbitmq"]
		if !ok {
			t.Fatal("no rabbitmq service")
		}
		if !strings.HasSuffix(r.Image, "-management") {
			t.Errorf("image %s: want the management variant", r.Image)
		}
		for _, p := range []string{"5672:5672", "15672:15672"} {
			if !slices.Contains(r.Ports, p) {
				t.Errorf("ports %v lack %s", r.Ports, p)
			}
		}
		hc := r.Healthcheck
		if hc == nil || !slices.Contains(hc.Test, "rabbitmq-diagnostics") || !slices.Contains(hc.Test, "ping") {
			t.Fatalf("healthcheck %+v: want rabbitmq-diagnostics ping", hc)
		}
		for _, d := range []string{hc.Interval, hc.Timeout} {
			if v, err := time.ParseDuration(d); err != nil || v <= 0 {
				t.Errorf("healthcheck duration %q: %v", d, err)
			}
		}
		if hc.Retries <= 0 {
			t.Errorf("healthcheck retries = %d", hc.Retries)
		}
	})
	for _, name := range []string{"sender", "receiver"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("no %s service", name)
		}
	}
	for name, s := range c.Services {
		if s.Image != image {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if s.Build != "." {
				t.Errorf("build %q: want \".\" (the Dockerfile at the root)", s.Build)
			}
			if len(s.Command) == 0 || !slices.Contains([]string{"send", "receive", "operator"}, s.Command[0]) {
				t.Errorf("command %q: want send, receive or operator", s.Command)
			}
			if s.Command[0] != "operator" { // the stand-in operator reads no config
				checkComposeConfigMount(t, s)
			}
			checkComposeBroker(t, c, s)
			if addr, ok := s.Environment["METRICSENDER_HTTP_ADDR"]; ok {
				_, port, err := net.SplitHostPort(addr)
				if err != nil || !slices.Contains(containerPorts(s), port) {
					t.Errorf("METRICSENDER_HTTP_ADDR %q is not a published port %v (%v)", addr, s.Ports, err)
				}
			}
		})
	}
}

// TestComposeCluster: the cluster profile's nodes find each other by classic
// config peer discovery under the names their hostnames give them, share
// one Erlang cookie, and the sender and receiver are given every node.
func TestComposeCluster(t *testing.T) {
	c := loadCompose(t)
	conf, err := os.ReadFile(filepath.Join(repoRoot, "deployments", "compose", "rabbitmq-cluster.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conf), "cluster_formation.peer_discovery_backend = classic_config") {
		t.Errorf("rabbitmq-cluster.conf does not use classic config peer discovery:\n%s", conf)
	}
	listed := regexp.MustCompile(`(?m)^cluster_formation\.classic_config\.nodes\.\d+ = rabbit@(\S+)$`).FindAllStringSubmatch(string(conf), -1)
	var nodes []string
	cookie := ""
	for name, s := range c.Services {
		if !slices.Contains(s.Profiles, "cluster") || s.Image == image {
			continue
		}
		nodes = append(nodes, name)
		if s.Hostname != name {
			t.Errorf("%s: hostname %q, want %q (the node is rabbit@HOSTNAME)", name, s.Hostname, name)
		}
		if v := s.Environment["RABBITMQ_ERLANG_COOKIE"]; v == "" || cookie != "" && v != cookie {
			t.Errorf("%s: RABBITMQ_ERLANG_COOKIE %q: every node needs the same one", name, v)
		} else {
			cookie = v
		}
		if !slices.Contains(s.Volumes, "./deployments/compose/rabbitmq-cluster.conf:/etc/rabbitmq/conf.d/20-cluster.conf:ro") {
			t.Errorf("%s: volumes %q lack the cluster config", name, s.Volumes)
		}
	}
	slices.Sort(nodes)
	var want []string
	for _, m := range listed {
		want = append(want, m[1])
	}
	slices.Sort(want)
	if len(nodes) != 3 || !slices.Equal(nodes, want) {
		t.Errorf("cluster nodes %v, the config lists %v: want the same three", nodes, want)
	}
	for _, name := range []string{"sender-cluster", "receiver-cluster"} {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("no %s service", name)
			continue
		}
		uris := transport.SplitURIs(s.Environment[uriEnv])
		if err := transport.CheckURIList(uris); err != nil || len(uris) != len(nodes) {
			t.Errorf("%s: %s = %q: want one URI per node (%v)", name, uriEnv, s.Environment[uriEnv], err)
		}
	}
	if q := c.Services["receiver-cluster"].Environment["METRICSENDER_QUEUE"]; q == "" {
		t.Error("receiver-cluster has no METRICSENDER_QUEUE: without a (quorum) queue a node loss loses messages")
	}
}

func checkComposeConfigMount(t *testing.T, s composeService) {
	t.Helper()
	target := ":" + configMount + "/" + configKey + ":ro"
	for _, v := range s.Volumes {
		src, ok := strings.CutSuffix(v, target)
		if !ok || !strings.HasPrefix(src, "./examples/") {
			continue
		}
		if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
			t.Errorf("mounted config: %v", err)
		}
		return
	}
	t.Errorf("volumes %q: want an ./examples/ config mounted read-only at %s/%s (the default --config)", s.Volumes, configMount, configKey)
}

// checkComposeBroker checks that the URI (each URI of a list) names a
// broker service of the file that runs in the same profiles, is waited
// for, and healthy first when it has a healthcheck.
func checkComposeBroker(t *testing.T, c composeFile, s composeService) {
	t.Helper()
	raw, ok := s.Environment[uriEnv]
	if !ok {
		t.Fatalf("no %s in environment", uriEnv)
	}
	for _, one := range transport.SplitURIs(defaultValue(raw)) {
		checkComposeBrokerURI(t, c, s, one)
	}
}

func checkComposeBrokerURI(t *testing.T, c composeFile, s composeService, raw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		t.Fatalf("%s = %q: not a URI with a host (%v)", uriEnv, raw, err)
	}
	broker, ok := c.Services[u.Hostname()]
	if !ok {
		t.Fatalf("%s host %s is not a service of the file", uriEnv, u.Hostname())
	}
	if !slices.Contains(containerPorts(broker), u.Port()) {
		t.Errorf("broker port %s is not one of %s's ports %v", u.Port(), u.Hostname(), broker.Ports)
	}
	for _, p := range broker.Profiles {
		if !slices.Contains(s.Profiles, p) {
			t.Errorf("broker %s runs only under profile %s, the service under %v", u.Hostname(), p, s.Profiles)
		}
	}
	dep, ok := s.DependsOn[u.Hostname()]
	switch {
	case !ok:
		t.Errorf("does not depend on its broker %s", u.Hostname())
	case broker.Healthcheck != nil && dep.Condition != "service_healthy":
		t.Errorf("depends_on %s condition %q, want service_healthy", u.Hostname(), dep.Condition)
	case broker.Healthcheck == nil && dep.Condition == "service_healthy":
		t.Errorf("depends_on %s service_healthy, but it has no healthcheck", u.Hostname())
	}
}
