package deployments_test

import (
	"bufio"
	"debug/buildinfo"
	"debug/elf"
	"maps"
	"net"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// flagHelp is what `<command> --help` says about one flag.
type flagHelp struct {
	envVars []string
	dflt    string // as printed, quotes included for strings; "" when none
	usage   string
}

var (
	helpFlagRe    = regexp.MustCompile(`^\s*--([a-z0-9][a-z0-9-]*)`)
	helpEnvRe     = regexp.MustCompile(`\[(\$[A-Z0-9_]+(?:, \$[A-Z0-9_]+)*)\]\s*$`)
	helpDefaultRe = regexp.MustCompile(`\(default: ((?:"[^"]*")|[^)]*)\)`)
)

// parseHelp reads urfave/cli v2 help: one line per flag, ending with its
// environment variables as [$A, $B].
func parseHelp(help string) map[string]flagHelp {
	flags := map[string]flagHelp{}
	sc := bufio.NewScanner(strings.NewReader(help))
	for sc.Scan() {
		line := sc.Text()
		m := helpFlagRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var fh flagHelp
		fh.usage = line
		if e := helpEnvRe.FindStringSubmatch(line); e != nil {
			for _, v := range strings.Split(e[1], ", ") {
				fh.envVars = append(fh.envVars, strings.TrimPrefix(v, "$"))
			}
		}
		if d := helpDefaultRe.FindStringSubmatch(line); d != nil {
			fh.dflt = d[1]
		}
		flags[m[1]] = fh
	}
	return flags
}

// envIndex maps each environment variable to the flag reading it.
func envIndex(flags map[string]flagHelp) map[string]string {
	idx := map[string]string{}
	for name, f := range flags {
		for _, e := range f.envVars {
			idx[e] = name
		}
	}
	return idx
}

// runBinary runs bin with args and returns its stdout; a failure is fatal.
func runBinary(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", path.Base(bin), strings.Join(args, " "), err, out, stderrOf(err))
	}
	return string(out)
}

// TestProgram checks the binary of the Dockerfile's own build line (see
// programBinary) against the artifacts: its version stamp, its flags and
// environment variables, its default config path and HTTP port, and
// (serve_test.go) the endpoints the probes and Prometheus use.
func TestProgram(t *testing.T) {
	ins := parseDockerfile(t, "../Dockerfile")
	bin, dockerfileBuilt := programBinary(t)
	base, receiver := render(t, "."), render(t, "receiver")
	sender := object[*appsv1.Deployment](t, base, senderName)
	receiverDeployment := object[*appsv1.Deployment](t, receiver, receiverName)
	sharded := object[*appsv1.StatefulSet](t, render(t, ".", shardedDir), senderName)
	compose := loadCompose(t, allProfiles)
	help := map[string]map[string]flagHelp{
		"send":     parseHelp(runBinary(t, bin, "send", "--help")),
		"receive":  parseHelp(runBinary(t, bin, "receive", "--help")),
		"operator": parseHelp(runBinary(t, bin, "operator", "--help")),
	}

	t.Run("version is the stamped one", func(t *testing.T) {
		needDockerfileBinary(t, dockerfileBuilt)
		if got := strings.TrimSpace(runBinary(t, bin, "version")); !strings.Contains(got, dockerfileTestVersion) {
			t.Errorf("version prints %q, want it to contain %q", got, dockerfileTestVersion)
		}
	})
	t.Run("binary is static and trimmed", func(t *testing.T) {
		needDockerfileBinary(t, dockerfileBuilt)
		checkStaticBinary(t, bin)
	})
	t.Run("image CMD is a command", func(t *testing.T) {
		cmd := jsonArgs(t, lastInstruction(t, finalStage(ins), "CMD"))
		if _, ok := help[cmd[0]]; !ok {
			t.Fatalf("CMD %q: not send or receive", cmd)
		}
		runBinary(t, bin, cmd[0], "--help")
	})
	t.Run("config path default is the mount", func(t *testing.T) {
		want := strconv.Quote(configMount + "/" + configKey)
		f, ok := help["send"]["config"]
		if !ok {
			t.Fatal("send has no --config flag")
		}
		if f.dflt != want {
			t.Errorf("--config default %s, want %s (mount path + key)", f.dflt, want)
		}
		if !slices.Contains(f.envVars, "CONFIG_PATH") {
			t.Errorf("--config env vars %v lack CONFIG_PATH", f.envVars)
		}
	})
	t.Run("send serves on the container port by default", func(t *testing.T) {
		f, ok := help["send"]["http-addr"]
		if !ok {
			t.Fatal("send has no --http-addr flag")
		}
		addr, err := strconv.Unquote(f.dflt)
		if err != nil {
			t.Fatalf("--http-addr default %q: %v", f.dflt, err)
		}
		if _, port, err := net.SplitHostPort(addr); err != nil || port != strconv.Itoa(httpPort) {
			t.Errorf("--http-addr default %q, want port %d (containerPort, EXPOSE)", addr, httpPort)
		}
	})

	manifestEnv := []struct {
		name    string
		tmpl    corev1.PodTemplateSpec
		command string
	}{
		{"sender manifest", sender.Spec.Template, "send"},
		{"receiver manifest", receiverDeployment.Spec.Template, "receive"},
		{"sharded statefulset", sharded.Spec.Template, "send"},
	}
	for _, tt := range manifestEnv {
		t.Run(tt.name+" env vars are flags", func(t *testing.T) {
			c := container(t, tt.tmpl, "metricsender")
			checkEnvRead(t, help[tt.command], envNames(c))
			checkEnumValues(t, help[tt.command], literalEnv(c))
		})
	}
	for name, s := range compose.Services {
		if s.Image != image {
			continue
		}
		t.Run("compose "+name+" env vars are flags", func(t *testing.T) {
			flags, ok := help[s.Command[0]]
			if !ok {
				t.Fatalf("command %q: not send, receive or operator", s.Command)
			}
			e := env(t, s)
			checkEnvRead(t, flags, slices.Collect(maps.Keys(e)))
			checkEnumValues(t, flags, e)
		})
	}
	t.Run("grace period outlasts the shutdown timeout", func(t *testing.T) {
		f := help["send"]["shutdown-timeout"]
		timeout, err := time.ParseDuration(f.dflt)
		if err != nil {
			t.Fatalf("--shutdown-timeout default %q: %v", f.dflt, err)
		}
		for _, tt := range manifestEnv {
			grace := int64(30) // the Kubernetes default
			if g := tt.tmpl.Spec.TerminationGracePeriodSeconds; g != nil {
				grace = *g
			}
			if time.Duration(grace)*time.Second <= timeout {
				t.Errorf("%s: terminationGracePeriodSeconds %d <= --shutdown-timeout %s", tt.name, grace, timeout)
			}
		}
	})
	serve := []struct {
		name                string
		tmpl                corev1.PodTemplateSpec
		metricsPath, series string
	}{
		{
			name: "sender", tmpl: sender.Spec.Template,
			metricsPath: object[*corev1.Service](t, base, senderName).Annotations["prometheus.io/path"],
			series:      `metricsender_messages_published_total{app="app1"}`,
		},
		{
			name: "receiver", tmpl: receiverDeployment.Spec.Template,
			metricsPath: receiverDeployment.Spec.Template.Annotations["prometheus.io/path"],
			series:      "metricsender_decode_errors_total",
		},
	}
	for _, tt := range serve {
		t.Run(tt.name+" serves probes and metrics", func(t *testing.T) {
			testServe(t, bin, container(t, tt.tmpl, "metricsender"), tt.metricsPath, tt.series)
		})
	}
}

func literalEnv(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			out[e.Name] = e.Value
		}
	}
	return out
}

// checkEnvRead asserts each variable is read by a flag of the command.
func checkEnvRead(t *testing.T, flags map[string]flagHelp, names []string) {
	t.Helper()
	idx := envIndex(flags)
	for _, n := range names {
		if _, ok := idx[n]; !ok {
			t.Errorf("%s is read by no flag (the command reads %v)", n, keys(idx))
		}
	}
}

// checkEnumValues asserts values of flags whose help lists the choices
// (--transport, --log-format, --output) are among them.
func checkEnumValues(t *testing.T, flags map[string]flagHelp, env map[string]string) {
	t.Helper()
	idx := envIndex(flags)
	for name, value := range env {
		flag := idx[name]
		if !slices.Contains([]string{"transport", "log-format", "output"}, flag) {
			continue
		}
		usage := flags[flag].usage
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(value) + `\b`).MatchString(usage) {
			t.Errorf("%s=%s: --%s does not list %q: %s", name, value, flag, value, strings.TrimSpace(usage))
		}
	}
}

// checkStaticBinary asserts what distroless static needs: no ELF interpreter
// (no dynamic loader in the image), and the build settings the Dockerfile
// promises, as recorded in the binary.
func checkStaticBinary(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("open binary: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an ELF interpreter: it is dynamically linked")
		}
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("read build info: %v", err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for k, v := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true"} {
		if settings[k] != v {
			t.Errorf("build setting %s = %q, want %q", k, settings[k], v)
		}
	}
	// With -trimpath the go command does not record -ldflags; the version
	// subtest checks the stamp instead.
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
