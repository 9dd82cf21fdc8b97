package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
)

// TestURIListNeverPrintsAPassword pins DESIGN's rule: with a list in --uri
// (or the file's uris), no password of any URI of it is printed, whether
// the run fails on usage, on the broker, or logs its way to the end.
func TestURIListNeverPrintsAPassword(t *testing.T) {
	a, b := brokertest.FreeAddr(t), brokertest.FreeAddr(t)
	tests := []struct {
		name     string
		args     []string
		file     string
		wantCode int
		want     string
	}{
		{"same password, nodes down", []string{"send", "--uri", "amqp://guest:s3cret-1@" + a + "/,amqp://guest:s3cret-1@" + b + "/",
			"--connect-timeout", "1s"}, "", 1, "amqp://guest:***@" + a + "/,amqp://guest:***@" + b + "/"},
		{"different passwords", []string{"send", "--uri", "amqp://guest:s3cret-1@" + a + "/,amqp://guest:s3cret-2@" + b + "/"},
			"", 2, "--uri"},
		{"different vhosts", []string{"receive", "--uri", "amqp://guest:s3cret-1@" + a + "/x,amqp://guest:s3cret-1@" + b + "/y"},
			"", 2, "virtual host"},
		{"one not a URI", []string{"send", "--uri", "amqp://guest:s3cret-1@" + a + "/, amqp://guest:s3cret-1@ho st/"},
			"", 2, "--uri"},
		{"file uris, nodes down", []string{"send", "--connect-timeout", "1s"},
			"connection:\n  uris:\n    - amqp://guest:s3cret-1@" + a + "/\n    - amqp://guest:s3cret-1@" + b + "/\n", 1, "node=" + b},
		{"validate", []string{"validate"},
			"connection:\n  uris:\n    - amqp://guest:s3cret-1@" + a + "/\n    - amqp://guest:s3cret-1@" + b + "/\n", 0,
			"connection: uri amqp://guest:***@" + a + "/,amqp://guest:***@" + b + "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := example
			if tt.file != "" {
				cfg = writeFile(t, "c.yaml", tt.file+"deployments:\n  - name: a\n    metrics: {cpu: [1]}\n")
			}
			args := append(tt.args, "-c", cfg)
			if tt.args[0] != "validate" {
				args = append(args, "--http-addr", "")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code, stdout, stderr := runCLI(t, ctx, args...)
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q in the output:\n%s%s", code, tt.wantCode, tt.want, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, "s3cret") {
				t.Errorf("a password leaked:\n%s%s", stdout, stderr)
			}
		})
	}
}

// TestSendURIListConnectsToTheNodeThatAnswers: a dead node in the list
// costs one log line; the run goes to the live one and names it.
func TestSendURIListConnectsToTheNodeThatAnswers(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	proxy, live := brokertest.NewAMQPProxy(t, uri)
	dead := strings.Replace(live, proxy.Addr(), brokertest.FreeAddr(t), 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, _, stderr := runCLI(t, ctx, "send", "-c", example, "--uri", dead+","+live, "--count", "1",
		"--interval", "10ms", "--http-addr", "", "--connect-timeout", "30s")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "dialled broker node") || !strings.Contains(stderr, "node="+proxy.Addr()) {
		t.Errorf("the log does not name the live node %s:\n%s", proxy.Addr(), stderr)
	}
}
