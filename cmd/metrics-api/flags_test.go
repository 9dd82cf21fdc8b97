package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunUsage(t *testing.T) {
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badConfig, []byte("deployments:\n  - name: a\n    metrics:\n      cpu: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		code    int
		wantOut string // in stdout
		wantErr string // in stderr
		notErr  string // never in stderr
	}{
		{"help", []string{"--help"}, nil, exitOK, "--listen string", "", ""},
		{"help lists the library's flags", []string{"-h"}, nil, exitOK, "--tls-cert-file", "", ""},
		{"an argument", []string{"extra"}, nil, exitUsage, "", `takes no arguments, got ["extra"]`, ""},
		{"an unknown flag", []string{"--lisen", ":1"}, nil, exitUsage, "", "unknown flag: --lisen", ""},
		{"a bad --listen", []string{"--listen", "6443"}, nil, exitUsage, "", `--listen "6443": want HOST:PORT`, ""},
		{"--secure-port instead of --listen", []string{"--secure-port", "443"}, nil, exitUsage, "", "--secure-port: give --listen HOST:PORT instead", ""},
		{"a negative --max-age", []string{"--max-age", "-1s"}, nil, exitUsage, "", "--max-age -1s: must be >= 0", ""},
		{"a bad --max-age from the environment", nil, map[string]string{"METRICSENDER_MAX_AGE": "soon"}, exitUsage, "", "METRICSENDER_MAX_AGE (--max-age)", ""},
		{"an unknown transport", []string{"--transport", "kafka"}, nil, exitUsage, "", `--transport "kafka": unknown`, ""},
		{"a URI of another transport, its password masked", []string{"--transport", "nats", "--uri", "amqp://u:secret@h/"}, nil, exitUsage, "",
			"--transport nats does not take a amqp:// URI", "secret"},
		{"a URI of no known scheme", []string{"--uri", "http://u:secret@h/"}, nil, exitUsage, "", `unknown scheme "http"`, "secret"},
		{"a client certificate without its key", []string{"--tls-cert", "c.pem"}, nil, exitUsage, "", "--tls-cert and --tls-key go together", ""},
		{"a missing --config", []string{"--config", filepath.Join(dir, "none.yaml")}, nil, exitUsage, "", "--config: ", ""},
		{"a bad --config from CONFIG_PATH", nil, map[string]string{"CONFIG_PATH": badConfig}, exitUsage, "", "deployments[0].metrics.cpu: empty list", ""},
		{"a bad --log-level", []string{"--log-level", "loud"}, nil, exitUsage, "", `--log-level "loud"`, ""},
		{"no cluster to delegate to", []string{"--listen", "127.0.0.1:0", "--transport", "gochannel"}, nil, exitFailure, "",
			"reach the cluster through --kubeconfig, else the in-cluster config", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			code := run(ctx, tt.args, getenv, &stdout, &stderr, nil)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, stderr.String())
			}
			if tt.notErr != "" && strings.Contains(stderr.String(), tt.notErr) {
				t.Errorf("stderr shows %q:\n%s", tt.notErr, stderr.String())
			}
		})
	}
}

func TestParseFlagsMapping(t *testing.T) {
	tests := []struct {
		name                 string
		args                 []string
		env                  map[string]string
		wantTransport        string
		wantAuthn, wantAuthz string
	}{
		{"--kubeconfig feeds both delegations", []string{"--kubeconfig", "/k"}, nil, "amqp", "/k", "/k"},
		{"their own flags win", []string{"--kubeconfig", "/k", "--authorization-kubeconfig", "/z"}, nil, "amqp", "/k", "/z"},
		{"in-cluster by default", nil, nil, "amqp", "", ""},
		{"the transport from the URI's scheme, from the environment", nil, map[string]string{"METRICSENDER_URI": "nats://127.0.0.1:4222"}, "nats", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, func(k string) string { return tt.env[k] }, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if o.transport != tt.wantTransport {
				t.Errorf("transport %s, want %s", o.transport, tt.wantTransport)
			}
			if got := o.server.Authentication.RemoteKubeConfigFile; got != tt.wantAuthn {
				t.Errorf("authentication kubeconfig %q, want %q", got, tt.wantAuthn)
			}
			if got := o.server.Authorization.RemoteKubeConfigFile; got != tt.wantAuthz {
				t.Errorf("authorization kubeconfig %q, want %q", got, tt.wantAuthz)
			}
			if o.listen != ":6443" || o.exchange != "is" {
				t.Errorf("listen %q exchange %q, want the defaults :6443 and is", o.listen, o.exchange)
			}
		})
	}
}
