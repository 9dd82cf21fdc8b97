package live

import (
	"embed"
	"io/fs"
	"net/http"
	"strconv"
)

// static holds the pages, their script and style: no CDN, no build step.
//
//go:embed static
var static embed.FS

// Assets are the embedded files the pages load, under /assets/.
func Assets() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory
	}
	return sub
}

// Routes adds the live page to mux: GET / (the page), GET /assets/ (its
// script and style), GET /v1/events (the event stream, docs/events.md)
// and GET /v1/live/deployments (the names for the page's list). The
// control API's routes are the control package's; the page calls them.
func (h *Hub) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", servePage("index.html"))
	mux.Handle("GET /assets/", assets())
	mux.HandleFunc("GET /v1/events", h.serveEvents)
	mux.HandleFunc("GET /v1/live/deployments", h.serveNames)
}

// assets serves the embedded files under /assets/, never cached across a
// restart with another binary's files.
func assets() http.Handler {
	files := http.StripPrefix("/assets/", http.FileServerFS(Assets()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// servePage serves one embedded HTML file.
func servePage(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(Assets(), name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}
}

// namesDoc answers /v1/live/deployments.
type namesDoc struct {
	V       int      `json:"v"`
	Total   int      `json:"total"`
	Matched int      `json:"matched"`
	Names   []string `json:"names"`
}

// serveNames lists the deployments whose name contains ?filter=
// (case-insensitive), sorted, at most ?limit= (default 200, at most
// 1000); empty before the run starts.
func (h *Hub) serveNames(w http.ResponseWriter, r *http.Request) {
	limit := 200
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		limit = min(n, 1000)
	}
	d := namesDoc{V: Version, Names: []string{}}
	if run := h.run.Load(); run != nil {
		all := run.Schedule.Names()
		d.Total = len(all)
		d.Names, d.Matched = names(all, r.URL.Query().Get("filter"), limit)
	}
	writeJSON(w, d)
}
