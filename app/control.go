package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/labsea/metricsender/feedback"
	"github.com/labsea/metricsender/generator"
)

// controller is what the control API steers; *generator.Schedule is one.
type controller interface {
	Snapshot() []generator.DeploymentState
	Override(app, metric string, m generator.Model, spec any) error
	ClearOverride(app, metric string) error
	Pause(app string) error
	Resume(app string) error
	feedback.Recorder // the control API's observations
}

var _ feedback.Recorder = (*laterController)(nil)

// errNotStarted is what a laterController answers before its schedule is set.
var errNotStarted = errors.New("the schedule has not started yet (waiting for the broker connection)")

// laterController is a controller whose schedule arrives later: it lets the
// HTTP server (and /healthz, /readyz) start before the broker connection and
// the schedule exist. Before Set, Snapshot is empty and the other methods
// fail with errNotStarted (503). Safe for concurrent use.
type laterController struct {
	p      atomic.Pointer[controllerBox]
	faults atomic.Pointer[faultControllerBox]
}

type controllerBox struct{ c controller }

// Set makes c the controller from now on.
func (l *laterController) Set(c controller) { l.p.Store(&controllerBox{c}) }

func (l *laterController) get() controller {
	if b := l.p.Load(); b != nil {
		return b.c
	}
	return nil
}

// Snapshot implements controller.
func (l *laterController) Snapshot() []generator.DeploymentState {
	if c := l.get(); c != nil {
		return c.Snapshot()
	}
	return nil
}

// Override implements controller.
func (l *laterController) Override(app, metric string, m generator.Model, spec any) error {
	if c := l.get(); c != nil {
		return c.Override(app, metric, m, spec)
	}
	return errNotStarted
}

// ClearOverride implements controller.
func (l *laterController) ClearOverride(app, metric string) error {
	if c := l.get(); c != nil {
		return c.ClearOverride(app, metric)
	}
	return errNotStarted
}

// Pause implements controller.
func (l *laterController) Pause(app string) error {
	if c := l.get(); c != nil {
		return c.Pause(app)
	}
	return errNotStarted
}

// Resume implements controller.
func (l *laterController) Resume(app string) error {
	if c := l.get(); c != nil {
		return c.Resume(app)
	}
	return errNotStarted
}

// Observe implements controller.
func (l *laterController) Observe(app string, ob generator.Observation) error {
	if c := l.get(); c != nil {
		return c.Observe(app, ob)
	}
	return errNotStarted
}

// maxControlBody bounds a control request's body: a model definition is small.
const maxControlBody = 64 << 10

// controlRoutes returns the control API, to pass as newHTTPServer's extra:
//
//	GET    /v1/deployments                          every deployment (JSON array)
//	GET    /v1/deployments/{name}                   one deployment
//	PUT    /v1/deployments/{name}/metrics/{metric}  override: {"value":"2"} or a model as in the config
//	DELETE /v1/deployments/{name}/metrics/{metric}  back to the configured model
//	POST   /v1/deployments/{name}/pause             stop sending (Seq does not advance)
//	POST   /v1/deployments/{name}/resume            send again
//	GET    /v1/faults                               the faults in effect per deployment
//	POST   /v1/deployments/{name}/faults            set its faults: a faults section as JSON
//	DELETE /v1/deployments/{name}/faults            back to the config's
//	POST   /v1/faults                               set every deployment's faults
//	DELETE /v1/faults                               back to the config's, everywhere
//	PUT    /v1/deployments/{name}/state             feedback: {"replicas": 3, "ready": 3, "allocation": {"cpu": "750m"}}
//
// The GET routes always work. The others change the run, so they answer
// 403 unless access allows them: the metrics port is often reachable from
// the whole cluster. access.mutations (--enable-control) opens every
// mutation; the state PUT also needs access.stateFeedback (--feedback
// api): the api feedback source is asked for by name, and it changes the
// run like any other mutation. Mutations answer 204; errors are JSON
// {"error": "..."}: 404 for an unknown deployment or metric, 400 for an
// invalid body, 413 for a body over 64 KiB, 503 before a laterController
// has its schedule. A model's replay file is read
// relative to baseDir (the config file's directory). Overrides and states
// take effect at the next tick. A state PUT is the `api` feedback source:
// its fields replace those of the observed state (see
// generator.Schedule.Observe), and GET shows who set each field.
func controlRoutes(sched controller, access controlAccess, baseDir string) func(*http.ServeMux) {
	c := &control{sched: sched, baseDir: baseDir}
	mutate := func(h http.HandlerFunc) http.HandlerFunc {
		if access.mutations {
			return h
		}
		return func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusForbidden, errors.New(
				"the control API is read-only: start metricsender send with --enable-control to change the run"))
		}
	}
	feedback := func(h http.HandlerFunc) http.HandlerFunc {
		if !access.stateFeedback {
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

// controlAccess says which mutations the control API allows.
type controlAccess struct {
	// mutations: overrides, pause and resume, faults (--enable-control).
	mutations bool
	// stateFeedback: PUT /v1/deployments/{name}/state, the api feedback
	// source (--feedback api).
	stateFeedback bool
}

type control struct {
	sched   controller
	baseDir string
}

// deploymentJSON is a deployment as GET shows it.
type deploymentJSON struct {
	Name     string       `json:"name"`
	Interval string       `json:"interval"`
	Paused   bool         `json:"paused"`
	Seq      uint64       `json:"seq"`
	Metrics  []metricJSON `json:"metrics"`
	// Faults in effect and where they come from ("config", "control").
	Faults     any       `json:"faults,omitempty"`
	FaultsFrom string    `json:"faults_from,omitempty"`
	State      stateJSON `json:"state"`
}

type metricJSON struct {
	Name     string     `json:"name"`
	Model    any        `json:"model"`
	Override any        `json:"override,omitempty"`
	Last     *valueJSON `json:"last,omitempty"`
}

type valueJSON struct {
	Text   string   `json:"text"`
	Number *float64 `json:"number,omitempty"`
}

func toJSON(d generator.DeploymentState) deploymentJSON {
	out := deploymentJSON{Name: d.Name, Interval: d.Interval.String(), Paused: d.Paused, Seq: d.Seq,
		Metrics: make([]metricJSON, len(d.Metrics)), State: stateToJSON(d.State)}
	for i, m := range d.Metrics {
		mj := metricJSON{Name: m.Name, Model: m.Spec, Override: m.Override}
		if m.HasLast {
			mj.Last = &valueJSON{Text: m.Last.Text}
			if m.Last.HasNum {
				n := m.Last.Num
				mj.Last.Number = &n
			}
		}
		out.Metrics[i] = mj
	}
	return out
}

func (c *control) list(w http.ResponseWriter, _ *http.Request) {
	snap := c.sched.Snapshot()
	out := make([]deploymentJSON, len(snap))
	for i, d := range snap {
		out[i] = c.withFaults(toJSON(d))
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *control) get(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	for _, d := range c.sched.Snapshot() {
		if d.Name == name {
			writeJSON(w, http.StatusOK, c.withFaults(toJSON(d)))
			return
		}
	}
	writeError(w, http.StatusNotFound, fmt.Errorf("%w: %q", generator.ErrUnknownDeployment, name))
}

func (c *control) override(w http.ResponseWriter, r *http.Request) {
	body, ok := readControlBody(w, r)
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
	c.answer(w, c.sched.Override(r.PathValue("name"), r.PathValue("metric"), m, spec))
}

func (c *control) clear(w http.ResponseWriter, r *http.Request) {
	c.answer(w, c.sched.ClearOverride(r.PathValue("name"), r.PathValue("metric")))
}

func (c *control) pause(w http.ResponseWriter, r *http.Request) {
	c.answer(w, c.sched.Pause(r.PathValue("name")))
}

func (c *control) resume(w http.ResponseWriter, r *http.Request) {
	c.answer(w, c.sched.Resume(r.PathValue("name")))
}

// answer maps a controller error to the response of a mutation.
func (c *control) answer(w http.ResponseWriter, err error) {
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Errorf("encode response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// writeError answers {"error": err}, on one line (joined problems "; "-separated).
func writeError(w http.ResponseWriter, status int, err error) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{oneLineError(err)})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
