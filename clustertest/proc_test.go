package clustertest_test

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/syncbuf"
)

// proc is one metricsender process under test.
type proc struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr syncbuf.Buffer
	done           chan struct{}
	code           int // valid once done is closed
}

// start runs the binary with args; the test's cleanup kills it if it is
// still running and logs its output when the test failed.
func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(binary, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
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
			t.Logf("%s stderr:\n%s", p.name, p.stderr.String())
		}
	})
	return p
}

// terminate sends SIGTERM, as Kubernetes does.
func (p *proc) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", p.name, err)
	}
}

// wait returns the exit status; the limit only catches a hang.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		if strings.Contains(p.stderr.String(), "DATA RACE") {
			t.Errorf("%s: data race:\n%s", p.name, p.stderr.String())
		}
		return p.code
	case <-time.After(limit):
		_ = p.cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump on stderr
		<-p.done
		t.Fatalf("%s still running after %s (hang); stderr:\n%s", p.name, limit, p.stderr.String())
		return -1
	}
}

// waitFor polls until ok(stderr) holds; the limit only catches a hang.
func (p *proc) waitFor(t *testing.T, what string, limit time.Duration, ok func(stderr string) bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok(p.stderr.String()) {
		select {
		case <-p.done:
			if ok(p.stderr.String()) {
				return
			}
			t.Fatalf("%s exited %d before %s; stderr:\n%s", p.name, p.code, what, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s after %s; stderr:\n%s", p.name, what, limit, p.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lines counts the lines written so far to stdout.
func (p *proc) lines() int { return strings.Count(p.stdout.String(), "\n") }
