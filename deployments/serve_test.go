package deployments_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/labsea/metricsender/internal/syncbuf"
)

// serveDeadline bounds the wait for the server to come up. It is a guard
// against a hang, not a speed assertion: the server is usually up at once.
const serveDeadline = 60 * time.Second

// cleanEnv is the test's environment without the program's own variables,
// so a developer's shell cannot change what the tests see.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "METRICSENDER_") || strings.HasPrefix(kv, "CONFIG_PATH=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("free port: %v", err)
	}
	return addr
}

// get returns the status and body of GET url.
func get(client *http.Client, url string) (int, string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// testServe runs the program as the Deployment's container runs it (its
// args and literal env, the example config at CONFIG_PATH), on the
// in-process gochannel transport and a free loopback port, then checks that
// the probe paths and the scraped metrics path answer, that series appears
// in the metrics, and that SIGTERM ends it with status 0 and JSON logs.
func testServe(t *testing.T, bin string, c corev1.Container, metricsPath, series string) {
	t.Helper()
	config, err := filepath.Abs(filepath.Join(repoRoot, "examples", "metricsender.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Fatal("want httpGet liveness and readiness probes (TestWorkloads)")
		}
	}
	addr := freeAddr(t)
	// Flags win over env, so --http-addr overrides the manifest's ":8080".
	args := append(append([]string{}, c.Args...), "--transport", "gochannel", "--http-addr", addr)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), "CONFIG_PATH="+config)
	for name, value := range literalEnv(c) {
		cmd.Env = append(cmd.Env, name+"="+value)
	}
	var stdout, stderr syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", c.Args[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	client := &http.Client{Timeout: 5 * time.Second}
	want := map[string]func(status int, body string) bool{
		c.LivenessProbe.HTTPGet.Path:  func(s int, _ string) bool { return s == http.StatusOK },
		c.ReadinessProbe.HTTPGet.Path: func(s int, _ string) bool { return s == http.StatusOK },
		metricsPath: func(s int, body string) bool {
			return s == http.StatusOK && strings.Contains(body, series)
		},
	}
	last := map[string]string{}
	deadline := time.Now().Add(serveDeadline)
	for len(want) > 0 {
		select {
		case err := <-exited:
			t.Fatalf("%s exited while starting: %v\nstderr:\n%s", c.Args[0], err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s still waiting for %v; last answers: %v\nstderr:\n%s", serveDeadline, keys(want), last, stderr.String())
		}
		for p, ok := range want {
			status, body, err := get(client, "http://"+addr+p)
			last[p] = fmt.Sprintf("%d %v", status, err)
			if err == nil && ok(status, body) {
				delete(want, p)
				if p == metricsPath {
					checkMetricsBody(t, body)
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v, want exit status 0\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(serveDeadline):
		t.Fatalf("no exit %s after SIGTERM\nstderr:\n%s", serveDeadline, stderr.String())
	}
	checkJSONLogs(t, stderr.String())
}

// checkMetricsBody checks the Prometheus exposition has the Go runtime and
// process collectors next to the program's own series.
func checkMetricsBody(t *testing.T, body string) {
	t.Helper()
	for _, want := range []string{"go_goroutines ", "process_cpu_seconds_total "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// checkJSONLogs checks every stderr line is a JSON object, as
// METRICSENDER_LOG_FORMAT=json of the manifest promises to log collectors.
func checkJSONLogs(t *testing.T, logs string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(logs))
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		n++
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Errorf("log line is not a JSON object: %q", line)
		}
	}
	if n == 0 {
		t.Error("nothing logged")
	}
}
