package control

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labsea/metricsender/generator"
)

// maxBody bounds a control request's body: a model definition is small.
const maxBody = 64 << 10

// Routes returns the control API over ctl (a *Late when the schedule
// comes later), to mount on the sender's mux: the routes and answers of
// the package comment. access says which mutations it allows; a model's
// replay file is read relative to baseDir (the config file's directory).
func Routes(ctl Controller, access Access, baseDir string) func(*http.ServeMux) {
	c := &api{ctl: ctl, baseDir: baseDir}
	mutate := func(h http.HandlerFunc) http.HandlerFunc {
		if access.Mutations {
			return h
		}
		return func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusForbidden, errors.New(
				"the control API is read-only: start metricsender send with --enable-control to change the run"))
		}
	}
	feedback := func(h http.HandlerFunc) http.HandlerFunc {
		if !access.StateFeedback {
			return func(w http.ResponseWriter, _ *http.Request) {
				writeError(w, http.StatusForbidden, errors.New(
					"the api feedback source is off: start metricsender send with --feedback api (and --enable-control) to PUT a deployment's state"))
			}
		}
		return mutate(h)
	}
	return func(mux *http.ServeMux) {
		mux.HandleFunc("GET /v1/deployments", c.list)
		mux.HandleFunc("GET /v1/deployments/{name}", c.get)
		mux.HandleFunc("PUT /v1/deployments/{name}/metrics/{metric}", mutate(c.override))
		mux.HandleFunc("DELETE /v1/deployments/{name}/metrics/{metric}", mutate(c.clear))
		mux.HandleFunc("POST /v1/deployments/{name}/pause", mutate(c.pause))
		mux.HandleFunc("POST /v1/deployments/{name}/resume", mutate(c.resume))
		faultRoutes(mux, c, mutate)
		mux.HandleFunc("PUT /v1/deployments/{name}/state", feedback(c.putState))
	}
}

// Access says which mutations the control API allows; the zero value
// allows none (read-only).
type Access struct {
	// Mutations: overrides, pause and resume, faults (--enable-control).
	Mutations bool
	// StateFeedback: PUT /v1/deployments/{name}/state, the api feedback
	// source (--feedback api); it also needs Mutations.
	StateFeedback bool
}

// api serves the routes over one controller.
type api struct {
	ctl     Controller
	baseDir string
}

func (c *api) list(w http.ResponseWriter, _ *http.Request) {
	snap := c.ctl.Snapshot()
	out := make([]deploymentJSON, len(snap))
	for i, d := range snap {
		out[i] = c.withFaults(toJSON(d))
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *api) get(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	for _, d := range c.ctl.Snapshot() {
		if d.Name == name {
			writeJSON(w, http.StatusOK, c.withFaults(toJSON(d)))
			return
		}
	}
	writeError(w, http.StatusNotFound, fmt.Errorf("%w: %q", generator.ErrUnknownDeployment, name))
}

func (c *api) override(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if len(body) == 0 {
		writeError(w, http.StatusBadRequest, errors.New(`empty body: send {"value": "2"} or a model such as {"ramp": {"from": 1, "to": 10, "over": "5m"}}`))
		return
	}
	m, spec, err := generator.ParseModel(body, c.baseDir)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("model: %w", err))
		return
	}
	c.answer(w, c.ctl.Override(r.PathValue("name"), r.PathValue("metric"), m, spec))
}

func (c *api) clear(w http.ResponseWriter, r *http.Request) {
	c.answer(w, c.ctl.ClearOverride(r.PathValue("name"), r.PathValue("metric")))
}

func (c *api) pause(w http.ResponseWriter, r *http.Request) {
	c.answer(w, c.ctl.Pause(r.PathValue("name")))
}

func (c *api) resume(w http.ResponseWriter, r *http.Request) {
	c.answer(w, c.ctl.Resume(r.PathValue("name")))
}

// answer maps a controller's error to the response of a mutation.
func (c *api) answer(w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, generator.ErrUnknownDeployment), errors.Is(err, generator.ErrUnknownMetric):
		writeError(w, http.StatusNotFound, err)
	case errors.Is(err, errNotStarted):
		writeError(w, http.StatusServiceUnavailable, err)
	default:
		writeError(w, http.StatusInternalServerError, err)
	}
}
