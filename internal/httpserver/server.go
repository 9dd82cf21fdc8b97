package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Paths the server serves; the Kubernetes manifests' probes use them.
const (
	HealthzPath = "/healthz"
	ReadyzPath  = "/readyz"
	MetricsPath = "/metrics"
)

// Server serves /healthz, /readyz, /metrics and any extra routes (the
// control API) on one address.
type Server struct {
	addr   string
	srv    *http.Server
	logger *slog.Logger
	ln     net.Listener
	done   chan struct{} // closed when Serve has returned
}

// New prepares a server on addr (host:port; ":0" picks a free
// port). /healthz answers 200 "ok" while the process runs; /readyz 200
// "ready" when ready returns nil (or a ReadyNote: "ready: NOTE"), else
// 503 with ready's error as the text
// (ready nil means always ready); /metrics exposes reg. extra, when not nil,
// adds routes to the same mux. Nothing listens until Start. A nil logger
// discards.
func New(addr string, reg *prometheus.Registry, ready func() error, extra func(mux *http.ServeMux), logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "http")
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthzPath, func(w http.ResponseWriter, _ *http.Request) {
		WriteText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET "+ReadyzPath, func(w http.ResponseWriter, _ *http.Request) {
		if ready != nil {
			if err := ready(); err != nil {
				var note ReadyNote
				if errors.As(err, &note) {
					WriteText(w, http.StatusOK, "ready: "+string(note))
					return
				}
				WriteText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
				return
			}
		}
		WriteText(w, http.StatusOK, "ready")
	})
	mux.Handle("GET "+MetricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: promLogger{logger},
		Registry: reg, // counts its own errors in promhttp_metric_handler_errors_total
		Timeout:  30 * time.Second,
	}))
	if extra != nil {
		extra(mux)
	}
	return &Server{
		addr:   addr,
		logger: logger,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		done: make(chan struct{}),
	}
}

// Start listens on the address now, so a bad or busy address fails here,
// with an error naming --http-addr, and serves in the background until
// Shutdown. Call it once.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("--http-addr %q: listen: %w", s.addr, err)
	}
	s.ln = ln
	s.logger.Info("serving", "addr", ln.Addr().String(),
		"paths", []string{HealthzPath, ReadyzPath, MetricsPath})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("http server stopped", "error", err)
		}
	}()
	return nil
}

// OnShutdown has Shutdown call f, in a goroutine of its own, as it
// begins: a handler that never returns by itself (an event stream) ends
// there. Call it before Shutdown. On a nil Server (no --http-addr) it
// does nothing.
func (s *Server) OnShutdown(f func()) {
	if s != nil {
		s.srv.RegisterOnShutdown(f)
	}
}

// Routes returns the routes of each of adds, added in order, as one
// extra for New.
func Routes(adds ...func(*http.ServeMux)) func(*http.ServeMux) {
	return func(mux *http.ServeMux) {
		for _, add := range adds {
			add(mux)
		}
	}
}

// Addr is the address the server listens on (the real port when started
// with ":0"); before Start, the address it was given.
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.addr
	}
	return s.ln.Addr().String()
}

// Shutdown stops accepting connections and waits, until ctx is done, for
// the requests in progress; then it closes what is left. Calling it without
// Start, or more than once, is harmless.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.ln == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
		err = fmt.Errorf("http shutdown: %w", err)
	}
	<-s.done
	return err
}

// WriteText answers status with text and a newline, as plain text that
// is never cached.
func WriteText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, text)
}

// promLogger hands promhttp's errors to slog.
type promLogger struct{ logger *slog.Logger }

func (l promLogger) Println(v ...any) { l.logger.Error("metrics: " + fmt.Sprint(v...)) }

// ReadyNote is what a readiness func returns for "ready", with a note
// that /readyz prints after it (the broker node). errors.As finds it.
type ReadyNote string

func (n ReadyNote) Error() string { return string(n) }

// IsReady tells /readyz's verdict from a readiness func's answer: nil or a
// ReadyNote is 200, anything else 503.
func IsReady(err error) bool {
	var note ReadyNote
	return err == nil || errors.As(err, &note)
}
