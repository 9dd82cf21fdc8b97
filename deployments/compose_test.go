package deployments_test

import (
	"context"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/labsea/metricsender/transport"
)

const image = "labsea/metricsender"

// composeFile is the compose file at the root, seen from this package.
var composeFile = filepath.Join(repoRoot, "docker-compose.yml")

// allProfiles activates every profile, as `docker compose --profile '*'`.
const allProfiles = "*"

// loadComposeFile loads a compose file with compose-go, the loader the
// docker compose CLI uses: schema validation, interpolation from env
// (the whole environment: neither the process's nor a .env file is read),
// normalization and the consistency checks, with profiles active.
func loadComposeFile(ctx context.Context, path string, env map[string]string, profiles ...string) (*types.Project, error) {
	var kv []string
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{path},
		cli.WithName("metricsender"),
		cli.WithWorkingDirectory(filepath.Dir(path)),
		cli.WithEnv(kv),
		cli.WithProfiles(profiles),
	)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(ctx)
}

// loadCompose loads docker-compose.yml with profiles active and no
// environment, failing the test on any error.
func loadCompose(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	p, err := loadComposeFile(t.Context(), composeFile, nil, profiles...)
	if err != nil {
		t.Fatalf("compose-go load %s with profiles %q: %v", composeFile, profiles, err)
	}
	return p
}

// env returns a service's environment with every value set (compose
// resolves a bare name from its environment; none is left unset here).
func env(t *testing.T, s types.ServiceConfig) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range s.Environment {
		if v == nil {
			t.Fatalf("service %s: environment %s has no value", s.Name, k)
		}
		out[k] = *v
	}
	return out
}

// containerPorts lists the container side of the service's published ports.
func containerPorts(s types.ServiceConfig) []string {
	var out []string
	for _, p := range s.Ports {
		out = append(out, strconv.FormatUint(uint64(p.Target), 10))
	}
	return out
}

// checkComposeServices checks what every loaded project must satisfy,
// whichever profiles are active.
func checkComposeServices(t *testing.T, p *types.Project) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		s := p.Services[name]
		switch {
		case strings.HasPrefix(s.Image, "rabbitmq:"):
			t.Run(name, func(t *testing.T) { checkComposeRabbitMQ(t, s) })
		case s.Image == image:
			t.Run(name, func(t *testing.T) { checkComposeMetricsender(t, p, s) })
		}
	}
}

// checkComposeRabbitMQ: a broker has the management UI and a healthcheck
// its dependents can wait on.
func checkComposeRabbitMQ(t *testing.T, s types.ServiceConfig) {
	t.Helper()
	if !strings.HasSuffix(s.Image, "-management") {
		t.Errorf("image %s: want the management variant", s.Image)
	}
	if !slices.Contains(containerPorts(s), "5672") {
		t.Errorf("ports %v: the amqp port 5672 is not published", s.Ports)
	}
	hc := s.HealthCheck
	if hc == nil || hc.Disable || !slices.Contains(hc.Test, "rabbitmq-diagnostics") || !slices.Contains(hc.Test, "ping") {
		t.Fatalf("healthcheck %+v: want rabbitmq-diagnostics ping", hc)
	}
	for what, d := range map[string]*types.Duration{"interval": hc.Interval, "timeout": hc.Timeout} {
		if d == nil || *d <= 0 {
			t.Errorf("healthcheck %s %v: want a positive duration", what, d)
		}
	}
	if hc.Retries == nil || *hc.Retries == 0 {
		t.Errorf("healthcheck retries = %v, want > 0", hc.Retries)
	}
}

func checkComposeMetricsender(t *testing.T, p *types.Project, s types.ServiceConfig) {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if s.Build == nil || s.Build.Context != root || s.Build.Dockerfile != "Dockerfile" {
		t.Errorf("build %+v: want the Dockerfile at the root", s.Build)
	}
	if len(s.Command) == 0 || !slices.Contains([]string{"send", "receive", "operator"}, s.Command[0]) {
		t.Fatalf("command %q: want send, receive or operator", s.Command)
	}
	if s.Command[0] != "operator" { // the stand-in operator reads no config
		checkComposeConfigMount(t, root, s)
	}
	e := env(t, s)
	checkComposeBroker(t, p, s, e[uriEnv])
	if addr, ok := e["METRICSENDER_HTTP_ADDR"]; ok {
		_, port, err := net.SplitHostPort(addr)
		if err != nil || !slices.Contains(containerPorts(s), port) {
			t.Errorf("METRICSENDER_HTTP_ADDR %q is not a published port %v (%v)", addr, s.Ports, err)
		}
	}
}

// checkComposeConfigMount: an examples/ config bind-mounted read-only at
// the path --config reads by default.
func checkComposeConfigMount(t *testing.T, root string, s types.ServiceConfig) {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Target != configMount+"/"+configKey {
			continue
		}
		if v.Type != types.VolumeTypeBind || !v.ReadOnly || !strings.HasPrefix(v.Source, filepath.Join(root, "examples")+string(filepath.Separator)) {
			t.Errorf("volume %+v: want an examples/ file bind-mounted read-only", v)
		}
		if _, err := os.Stat(v.Source); err != nil {
			t.Errorf("mounted config: %v", err)
		}
		return
	}
	t.Errorf("volumes %+v: want an ./examples/ config mounted at %s/%s (the default --config)", s.Volumes, configMount, configKey)
}

// checkComposeBroker checks that the URI (each URI of a list) names a
// broker service enabled in the same project (so under the same profiles),
// on a port it publishes, that is waited for, and healthy first when it has
// a healthcheck.
func checkComposeBroker(t *testing.T, p *types.Project, s types.ServiceConfig, uris string) {
	t.Helper()
	if uris == "" {
		t.Fatalf("no %s in environment", uriEnv)
	}
	for _, raw := range transport.SplitURIs(uris) {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			t.Fatalf("%s = %q: not a URI with a host (%v)", uriEnv, raw, err)
		}
		host := u.Hostname()
		broker, ok := p.Services[host]
		if !ok {
			t.Fatalf("%s host %s is not a service enabled with %s (profiles %v)", uriEnv, host, s.Name, s.Profiles)
		}
		if !slices.Contains(containerPorts(broker), u.Port()) {
			t.Errorf("broker port %s is not one of %s's ports %v", u.Port(), host, broker.Ports)
		}
		dep, ok := s.DependsOn[host]
		switch {
		case !ok:
			t.Errorf("does not depend on its broker %s", host)
		case broker.HealthCheck != nil && dep.Condition != types.ServiceConditionHealthy:
			t.Errorf("depends_on %s condition %q, want %s", host, dep.Condition, types.ServiceConditionHealthy)
		case broker.HealthCheck == nil && dep.Condition == types.ServiceConditionHealthy:
			t.Errorf("depends_on %s %s, but it has no healthcheck", host, dep.Condition)
		}
	}
}
