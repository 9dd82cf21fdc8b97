package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/internal/httpserver"
	"github.com/labsea/metricsender/internal/promtest"
)

// readiness is a ready func a test can flip.
type readiness struct {
	mu  sync.Mutex
	err error
}

func (r *readiness) set(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

func (r *readiness) ready() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func TestHTTPServerRoutes(t *testing.T) {
	reg := newRegistry()
	newSendMetrics(reg, true)
	rd := &readiness{err: errors.New("broker not connected")}
	base := startServer(t, reg, rd.ready, func(mux *http.ServeMux) {
		mux.HandleFunc("GET /extra", func(w http.ResponseWriter, _ *http.Request) { httpserver.WriteText(w, http.StatusOK, "extra") })
	})
	tests := []struct {
		name       string
		before     func()
		method     string
		path       string
		wantStatus int
		wantBody   string // a substring
		wantType   string // a prefix of Content-Type
	}{
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantBody: "ok\n", wantType: "text/plain"},
		{name: "healthz HEAD", method: "HEAD", path: "/healthz", wantStatus: 200},
		{name: "not ready says why", method: "GET", path: "/readyz", wantStatus: 503,
			wantBody: "not ready: broker not connected", wantType: "text/plain"},
		{name: "healthz while not ready", method: "GET", path: "/healthz", wantStatus: 200, wantBody: "ok"},
		{name: "ready", before: func() { rd.set(nil) }, method: "GET", path: "/readyz", wantStatus: 200, wantBody: "ready\n"},
		{name: "ready names the node", before: func() { rd.set(httpserver.ReadyNote("broker node 127.0.0.1:5673")) }, method: "GET", path: "/readyz",
			wantStatus: 200, wantBody: "ready: broker node 127.0.0.1:5673\n"},
		{name: "not ready again", before: func() { rd.set(errors.New("config not loaded")) },
			method: "GET", path: "/readyz", wantStatus: 503, wantBody: "config not loaded"},
		{name: "metrics", method: "GET", path: "/metrics", wantStatus: 200,
			wantBody: "metricsender_config_reloads_total{result=\"success\"} 0", wantType: "text/plain"},
		{name: "extra route", method: "GET", path: "/extra", wantStatus: 200, wantBody: "extra"},
		{name: "wrong method", method: "POST", path: "/healthz", wantStatus: 405},
		{name: "unknown path", method: "GET", path: "/nope", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			resp, body := promtest.Do(t, tt.method, base+tt.path, "")
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d (body %q)", resp.StatusCode, tt.wantStatus, body)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("body %q, want it to contain %q", body, tt.wantBody)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type %q, want %q...", ct, tt.wantType)
			}
		})
	}
}

func TestHTTPServerNilReadyIsReady(t *testing.T) {
	base := startServer(t, prometheus.NewRegistry(), nil, nil)
	if status, body := promtest.Get(t, base+"/readyz"); status != 200 || body != "ready\n" {
		t.Errorf("/readyz = %d %q, want 200 ready", status, body)
	}
}

func TestHTTPServerStartErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	tests := []struct {
		name string
		addr string
		want string
	}{
		{"not an address", "nonsense", `--http-addr "nonsense": listen:`},
		{"bad port", "127.0.0.1:99999", `--http-addr "127.0.0.1:99999": listen:`},
		{"port in use", busy.Addr().String(), "address already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := httpserver.New(tt.addr, prometheus.NewRegistry(), nil, nil, nil)
			err := s.Start()
			if err == nil {
				_ = s.Shutdown(context.Background())
				t.Fatalf("Start(%q) succeeded, want an error", tt.addr)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--http-addr") {
				t.Errorf("error %q, want it to name --http-addr and contain %q", err, tt.want)
			}
			// Shutdown after a failed Start is harmless.
			if err := s.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown after failed Start: %v", err)
			}
		})
	}
}

func TestHTTPServerShutdown(t *testing.T) {
	s := httpserver.New("127.0.0.1:0", prometheus.NewRegistry(), nil, nil, nil)
	if got := s.Addr(); got != "127.0.0.1:0" {
		t.Errorf("Addr before Start = %q, want the given address", got)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	if strings.HasSuffix(addr, ":0") {
		t.Errorf("Addr after Start = %q, want the bound port", addr)
	}
	if status, _ := promtest.Get(t, "http://"+addr+"/healthz"); status != 200 {
		t.Fatalf("/healthz = %d", status)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Errorf("still serving after Shutdown")
	}
}
