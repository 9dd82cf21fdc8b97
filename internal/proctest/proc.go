// Package proctest runs the real metricsender binary for the test packages
// that cut, stop or cluster the broker under it (faulttest, clustertest):
// it builds the binary once, starts processes, waits for their output or
// exit, and reads what a receiver printed. It is for tests only.
package proctest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/syncbuf"
)

// Build builds metricsender with -race into a fresh temporary directory
// (a data race the test provokes in the app then fails it too) and
// returns the binary's path and a function that removes it. prefix names
// the directory.
func Build(prefix string) (binary string, remove func(), err error) {
	return build(prefix, true)
}

// BuildLikeTest is Build with -race only when the calling test binary has
// it (go test -race, as in .ci/run): the binary then shares the test
// binaries' build cache. Plain -race under a plain `go test` compiled every
// dependency a second time, instrumented, on a fresh clone (issue 21).
func BuildLikeTest(prefix string) (binary string, remove func(), err error) {
	return build(prefix, raceEnabled)
}

func build(prefix string, race bool) (binary string, remove func(), err error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	binary = filepath.Join(dir, "metricsender")
	// Built in the main module's directory, so a nested module's tests
	// (deployments/) get the binary of the main go.mod and go.sum.
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/labsea/metricsender").Output()
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("find the main module: %w", err)
	}
	args := []string{"build", "-o", binary}
	if race {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Dir = strings.TrimSpace(string(root))
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build metricsender: %w", err)
	}
	return binary, func() { _ = os.RemoveAll(dir) }, nil
}

// Main is the TestMain of a package gated by env (faulttest,
// clustertest): without env=1 it prints skipReason and runs the tests,
// which skip; with it, it sets *enabled, builds the binary into *binary
// (see Build), runs the tests and removes the binary. It exits the
// process with the tests' status.
func Main(m *testing.M, pkg, env, skipReason string, enabled *bool, binary *string) {
	if os.Getenv(env) != "1" {
		fmt.Fprintln(os.Stderr, pkg+": "+skipReason)
		os.Exit(m.Run())
	}
	*enabled = true
	bin, remove, err := Build("metricsender-" + pkg + "-")
	if err != nil {
		fmt.Fprintln(os.Stderr, pkg+":", err)
		os.Exit(1)
	}
	*binary = bin
	code := m.Run()
	remove()
	os.Exit(code)
}

// Proc is one metricsender process under test. Its output buffers may be
// read while it runs.
type Proc struct {
	Name           string
	cmd            *exec.Cmd
	Stdout, Stderr syncbuf.Buffer
	done           chan struct{}
	code           int // valid once done is closed
}

// Start runs binary with args; the test's cleanup kills it if it is still
// running and logs its stderr when the test failed.
func Start(t *testing.T, binary, name string, args ...string) *Proc {
	t.Helper()
	p := &Proc{Name: name, cmd: exec.Command(binary, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.Stdout, &p.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		err := p.cmd.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exit):
			p.code = exit.ExitCode()
		default:
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", p.Name, p.Stderr.String())
		}
	})
	return p
}

// PID is the process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Terminate sends SIGTERM, as Kubernetes does.
func (p *Proc) Terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", p.Name, err)
	}
}

// Wait returns the exit status; the limit only catches a hang. A data race
// reported on stderr fails the test.
func (p *Proc) Wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		if strings.Contains(p.Stderr.String(), "DATA RACE") {
			t.Errorf("%s: data race:\n%s", p.Name, p.Stderr.String())
		}
		return p.code
	case <-time.After(limit):
		_ = p.cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump on stderr
		<-p.done
		t.Fatalf("%s still running after %s (hang); stderr:\n%s", p.Name, limit, p.Stderr.String())
		return -1
	}
}

// WaitOutput polls until ok(stdout, or stderr with stderr set) holds; the
// limit only catches a hang.
func (p *Proc) WaitOutput(t *testing.T, what string, limit time.Duration, stderr bool, ok func(string) bool) {
	t.Helper()
	buf := &p.Stdout
	if stderr {
		buf = &p.Stderr
	}
	deadline := time.Now().Add(limit)
	for !ok(buf.String()) {
		select {
		case <-p.done:
			if ok(buf.String()) {
				return
			}
			t.Fatalf("%s exited %d before %s; stderr:\n%s", p.Name, p.code, what, p.Stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s after %s; stderr:\n%s", p.Name, what, limit, p.Stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitLines waits until p printed at least n lines on stdout; the limit
// only catches a hang.
func (p *Proc) WaitLines(t *testing.T, n int, limit time.Duration) {
	t.Helper()
	p.WaitOutput(t, fmt.Sprintf("%d lines", n), limit, false, func(s string) bool { return strings.Count(s, "\n") >= n })
}

// Lines counts the lines written so far to stdout.
func (p *Proc) Lines() int { return strings.Count(p.Stdout.String(), "\n") }
