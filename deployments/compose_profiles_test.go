package deployments_test

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labsea/metricsender/transport"
)

// composeMustHave is, for each profile of docker-compose.yml, the services
// it must enable on top of the default ones (the "" row).
var composeMustHave = map[string][]string{
	"":        {"rabbitmq", "sender", "receiver"},
	"nats":    {"nats", "sender-nats", "receiver-nats"},
	"cluster": {"rabbitmq-1", "rabbitmq-2", "rabbitmq-3", "sender-cluster", "receiver-cluster"},
	"loop":    {"loop-sender", "loop-operator", "loop-receiver"},
}

// TestComposeProfiles loads docker-compose.yml with compose-go with no
// profile, with each profile the file names (composeMustHave's and any
// other) and with all of them, and checks each project: the services the
// profile must have, no service of another profile, and the invariants of
// checkComposeServices.
func TestComposeProfiles(t *testing.T) {
	named := map[string]bool{}
	for _, s := range loadCompose(t, allProfiles).Services {
		for _, p := range s.Profiles {
			named[p] = true
		}
	}
	for p := range composeMustHave {
		if p != "" && !named[p] {
			t.Errorf("profile %q: no service of docker-compose.yml has it", p)
		}
	}
	profiles := append([]string{"", allProfiles}, slices.Sorted(maps.Keys(named))...)
	for _, profile := range profiles {
		t.Run("profile="+profile, func(t *testing.T) {
			var active []string
			if profile != "" {
				active = []string{profile}
			}
			p := loadCompose(t, active...)
			want := slices.Clone(composeMustHave[""])
			switch profile {
			case allProfiles:
				for _, names := range composeMustHave {
					want = append(want, names...)
				}
			default:
				want = append(want, composeMustHave[profile]...)
			}
			for _, name := range want {
				if _, ok := p.Services[name]; !ok {
					t.Errorf("service %s is not enabled (enabled: %v)", name, p.ServiceNames())
				}
			}
			for name, s := range p.Services {
				if profile != allProfiles && len(s.Profiles) > 0 && !slices.Contains(s.Profiles, profile) {
					t.Errorf("service %s (profiles %v) is enabled under profile %q", name, s.Profiles, profile)
				}
			}
			checkComposeServices(t, p)
		})
	}
}

// TestComposeInterpolation: METRICSENDER_URI from the environment (or a
// .env file) replaces the default broker of the RabbitMQ services, and
// leaves the services that name their own brokers alone.
func TestComposeInterpolation(t *testing.T) {
	const other = "amqp://user:pass@broker.example:5672/"
	tests := []struct {
		name    string
		env     map[string]string
		service string
		want    string
	}{
		{"unset: the compose broker", nil, "sender", "amqp://guest:guest@rabbitmq:5672/"},
		{"unset: the receiver too", nil, "receiver", "amqp://guest:guest@rabbitmq:5672/"},
		{"set: the sender uses it", map[string]string{uriEnv: other}, "sender", other},
		{"set: the loop operator uses it", map[string]string{uriEnv: other}, "loop-operator", other},
		{"set empty: the default", map[string]string{uriEnv: ""}, "receiver", "amqp://guest:guest@rabbitmq:5672/"},
		{"set: nats keeps its own", map[string]string{uriEnv: other}, "sender-nats", "nats://nats:4222"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := loadComposeFile(t.Context(), composeFile, tt.env, allProfiles)
			if err != nil {
				t.Fatalf("load with %v: %v", tt.env, err)
			}
			s, err := p.GetService(tt.service)
			if err != nil {
				t.Fatal(err)
			}
			if got := env(t, s)[uriEnv]; got != tt.want {
				t.Errorf("%s = %q, want %q", uriEnv, got, tt.want)
			}
		})
	}
}

// TestComposeCluster: the cluster profile's nodes find each other by classic
// config peer discovery under the names their hostnames give them, share
// one Erlang cookie, and the sender and receiver are given every node.
func TestComposeCluster(t *testing.T) {
	p := loadCompose(t, "cluster")
	confPath := filepath.Join(repoRoot, "deployments", "compose", "rabbitmq-cluster.conf")
	conf, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatal(err)
	}
	confAbs, err := filepath.Abs(confPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conf), "cluster_formation.peer_discovery_backend = classic_config") {
		t.Errorf("rabbitmq-cluster.conf does not use classic config peer discovery:\n%s", conf)
	}
	listed := regexp.MustCompile(`(?m)^cluster_formation\.classic_config\.nodes\.\d+ = rabbit@(\S+)$`).FindAllStringSubmatch(string(conf), -1)
	var nodes []string
	cookie := ""
	for name, s := range p.Services {
		if !slices.Contains(s.Profiles, "cluster") || s.Image == image {
			continue
		}
		nodes = append(nodes, name)
		if s.Hostname != name {
			t.Errorf("%s: hostname %q, want %q (the node is rabbit@HOSTNAME)", name, s.Hostname, name)
		}
		if v := env(t, s)["RABBITMQ_ERLANG_COOKIE"]; v == "" || cookie != "" && v != cookie {
			t.Errorf("%s: RABBITMQ_ERLANG_COOKIE %q: every node needs the same one", name, v)
		} else {
			cookie = v
		}
		mounted := false
		for _, v := range s.Volumes {
			mounted = mounted || v.Source == confAbs && v.Target == "/etc/rabbitmq/conf.d/20-cluster.conf" && v.ReadOnly
		}
		if !mounted {
			t.Errorf("%s: volumes %+v lack the cluster config, read-only", name, s.Volumes)
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
		s, err := p.GetService(name)
		if err != nil {
			t.Error(err)
			continue
		}
		uris := transport.SplitURIs(env(t, s)[uriEnv])
		if err := transport.CheckURIList(uris); err != nil || len(uris) != len(nodes) {
			t.Errorf("%s: %s = %q: want one URI per node (%v)", name, uriEnv, uris, err)
		}
	}
	if s, err := p.GetService("receiver-cluster"); err == nil && env(t, s)["METRICSENDER_QUEUE"] == "" {
		t.Error("receiver-cluster has no METRICSENDER_QUEUE: without a (quorum) queue a node loss loses messages")
	}
}

// TestComposePorts pins the host ports the README and the comments of
// docker-compose.yml tell people to open.
func TestComposePorts(t *testing.T) {
	p := loadCompose(t, allProfiles)
	tests := []struct {
		service string
		ports   map[string]uint32 // published: target
	}{
		{"rabbitmq", map[string]uint32{"5672": 5672, "15672": 15672}},
		{"sender", map[string]uint32{"8080": httpPort}},
		{"loop-sender", map[string]uint32{"8081": httpPort}},
		{"sender-nats", map[string]uint32{"8081": httpPort}},
		{"sender-cluster", map[string]uint32{"8082": httpPort}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			s, err := p.GetService(tt.service)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]uint32{}
			for _, port := range s.Ports {
				got[port.Published] = port.Target
			}
			if !maps.Equal(got, tt.ports) {
				t.Errorf("ports %v, want %v", got, tt.ports)
			}
		})
	}
}
