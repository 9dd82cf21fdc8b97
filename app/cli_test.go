package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/app"
)

// runCLI runs the command line in-process and returns its exit status and outputs.
func runCLI(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = app.RunContext(ctx, append([]string{"metricsender"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeFile writes content to a file in a fresh temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const example = "../examples/metricsender.yaml"

func TestExitCodes(t *testing.T) {
	bad := writeFile(t, "bad.yaml", "deployments:\n  - name: app1\n    metrics:\n      cpu: []\n")
	closedPort := "amqp://guest:s3cret@127.0.0.1:1/"
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string // substring
		wantStdout string // substring
	}{
		{"no command shows help", nil, 0, "", "USAGE"},
		{"unknown command", []string{"sned"}, 2, `unknown command "sned"`, ""},
		{"unknown flag", []string{"send", "--bogus"}, 2, "bogus", ""},
		{"missing config", []string{"send", "-c", "/nonexistent/x.yaml"}, 2, "/nonexistent/x.yaml", ""},
		{"bad config", []string{"send", "-c", bad}, 2, bad + ":4:7: deployments[0].metrics.cpu: empty list", ""},
		{"zero interval", []string{"send", "-c", example, "--interval", "0s"}, 2, "--interval 0s: must be > 0", ""},
		{"bad interval", []string{"send", "-c", example, "--interval", "soon"}, 2, "interval", ""},
		{"negative count", []string{"send", "-c", example, "--count", "-1"}, 2, "--count -1: must be >= 0", ""},
		{"negative app metrics limit", []string{"send", "-c", example, "--app-metrics-limit", "-1"}, 2, "--app-metrics-limit -1: must be >= 0", ""},
		{"receive negative app metrics limit", []string{"receive", "--app-metrics-limit", "-5"}, 2, "--app-metrics-limit -5: must be >= 0", ""},
		{"bad output", []string{"send", "-c", example, "--output", "xml"}, 2, `--output "xml": must be text or json`, ""},
		{"unknown transport", []string{"send", "-c", example, "-t", "kafka"}, 2, `--transport "kafka": unknown`, ""},
		{"transport and URI disagree", []string{"send", "-c", example, "-t", "amqp", "--uri", "nats://u:pw@h:4222"}, 2, "--transport amqp does not take a nats:// URI (nats://u:***@h:4222)", ""},
		{"unknown scheme", []string{"send", "-c", example, "--uri", "http://h/"}, 2, `unknown scheme "http"`, ""},
		{"bad log level", []string{"send", "-c", example, "--log-level", "loud"}, 2, `--log-level "loud"`, ""},
		{"bad log format", []string{"receive", "--log-format", "xml"}, 2, `--log-format "xml"`, ""},
		{"receive negative count", []string{"receive", "--count", "-1"}, 2, "--count -1", ""},
		{"negative rebind window", []string{"send", "-c", example, "--rebind-window", "-1s"}, 2, "--rebind-window -1s: must be >= 0", ""},
		{"expect without check", []string{"receive", "-c", example, "--expect", "3"}, 2, "--expect goes with --check", ""},
		{"expect without config", []string{"receive", "--check", "--expect", "3"}, 2, "--expect needs --config", ""},
		{"negative expect", []string{"receive", "--check", "-c", example, "--expect", "-1"}, 2, "--expect -1: must be >= 0", ""},
		{"feedback kubernetes: a bad selector", []string{"send", "-c", example, "--feedback", "bus", "--feedback", "kubernetes", "--kube-selector", "a in ("}, 2, "--kube-namespace, --kube-selector: selector \"a in (\": ", ""},
		{"feedback kubernetes: an HPA tolerance out of range", []string{"send", "-c", example, "--feedback", "kubernetes", "--hpa-tolerance", "1.5"}, 2, "--hpa-tolerance 1.5: must be in [0, 1)", ""},
		{"feedback kubernetes: a bad namespace", []string{"send", "-c", example, "--feedback", "kubernetes", "--kube-namespace", "Lab"}, 2, "--kube-namespace, --kube-selector: namespace \"Lab\": not a namespace name (lowercase letters, digits and '-', at most 63)", ""},
		{"unknown feedback source", []string{"send", "-c", example, "--feedback", "api,kafka"}, 2, `--feedback "kafka": unknown source (one of api, bus, kubernetes)`, ""},
		{"feedback topic without a wildcard", []string{"send", "-c", example, "--feedback", "bus", "--feedback-topic", "Allocation.web"}, 2, `--feedback-topic: "Allocation.web": the last word must be * or #`, ""},
		{"send takes no args", []string{"send", "-c", example, "extra"}, 2, "no arguments", ""},
		{"validate bad", []string{"validate", "-c", bad}, 2, "empty list", ""},
		{"validate good", []string{"validate", example}, 0, "", "2 deployments"},
		{"version", []string{"version"}, 0, "", "dev"},
		{"broker unreachable", []string{"send", "-c", example, "--uri", closedPort, "--connect-timeout", "1s", "--http-addr", ""}, 1, "amqp://guest:***@127.0.0.1:1/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code, stdout, stderr := runCLI(t, ctx, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantStdout, stdout)
			}
			if strings.Contains(stdout+stderr, "s3cret") {
				t.Errorf("password leaked:\n%s%s", stdout, stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") || strings.Contains(stderr, ".go:") {
				t.Errorf("stack trace on stderr:\n%s", stderr)
			}
		})
	}
}

func TestValidatePrintsTheExchangeInEffect(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"no connection section", "deployments:\n  - name: a\n    metrics: {cpu: [1]}\n", "connection: exchange \"is\"\n"},
		{"an exchange of its own", "connection: {exchange: lab}\ndeployments:\n  - name: a\n    metrics: {cpu: [1]}\n", "connection: exchange \"lab\"\n"},
		{"a URI and no exchange", "connection: {uri: \"amqp://u:secret@h/\"}\ndeployments:\n  - name: a\n    metrics: {cpu: [1]}\n",
			"connection: uri amqp://u:***@h/, exchange \"is\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, context.Background(), "validate", writeFile(t, "c.yaml", tt.file))
			if code != 0 || !strings.Contains(stdout, tt.want) {
				t.Errorf("exit %d, stdout:\n%s\nwant a line %q (stderr %s)", code, stdout, tt.want, stderr)
			}
		})
	}
}

// Each flag's default appears once in the help, in urfave's "(default: …)".
func TestHelpStatesEachDefaultOnce(t *testing.T) {
	for _, cmd := range []string{"send", "receive", "preview", "validate"} {
		t.Run(cmd, func(t *testing.T) {
			code, stdout, _ := runCLI(t, context.Background(), cmd, "--help")
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			for _, line := range strings.Split(stdout, "\n") {
				if n := strings.Count(line, "(default"); n > 1 {
					t.Errorf("two defaults in %q", line)
				}
				for _, zero := range []string{"(default: 0s)", "(default: 0)"} {
					if strings.Contains(line, zero) && (strings.Contains(line, "--interval") || strings.Contains(line, "--seed")) {
						t.Errorf("a zero that means \"not given\" shown as the default: %q", line)
					}
				}
			}
			if cmd == "send" {
				for _, want := range []string{"(default: amqp://guest:guest@localhost:5672/)", "(default: is)", "(default: the config's interval, else 60s)"} {
					if !strings.Contains(stdout, want) {
						t.Errorf("help lacks %q:\n%s", want, stdout)
					}
				}
			}
		})
	}
}

func TestValidatePrintsFaults(t *testing.T) {
	cfg := writeFile(t, "f.yaml", "faults: {drop: {p: 0.1}}\ndeployments:\n  - name: a\n    metrics: {cpu: [1]}\n  - name: b\n    faults: {}\n    metrics: {cpu: [1]}\n")
	code, stdout, stderr := runCLI(t, context.Background(), "validate", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `Metrics.a every 1m0s: cpu=["1"] faults={"drop":{"p":"0.1"}}`) {
		t.Errorf("a's faults not shown:\n%s", stdout)
	}
	if strings.Contains(stdout, `Metrics.b every 1m0s: cpu=["1"] faults`) {
		t.Errorf("b turned its faults off, yet they are shown:\n%s", stdout)
	}
}
