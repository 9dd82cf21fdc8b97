package control

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labsea/metricsender/generator"
)

// faultRoutes adds the fault routes (see Routes) to mux.
func faultRoutes(mux *http.ServeMux, c *api, mutate func(http.HandlerFunc) http.HandlerFunc) {
	mux.HandleFunc("GET /v1/faults", c.listFaults)
	mux.HandleFunc("POST /v1/deployments/{name}/faults", mutate(c.setFaults))
	mux.HandleFunc("DELETE /v1/deployments/{name}/faults", mutate(c.clearFaults))
	mux.HandleFunc("POST /v1/faults", mutate(c.setFaults))
	mux.HandleFunc("DELETE /v1/faults", mutate(c.clearFaults))
}

// faultsOf returns the fault controller, or answers 503 and nil.
func (c *api) faultsOf(w http.ResponseWriter) FaultController {
	if l, ok := c.ctl.(interface{ injector() FaultController }); ok {
		if f := l.injector(); f != nil {
			return f
		}
	}
	if f, ok := c.ctl.(FaultController); ok {
		return f
	}
	writeError(w, http.StatusServiceUnavailable, errNotStarted)
	return nil
}

// withFaults adds the faults in effect to d, when there is an injector.
func (c *api) withFaults(d deploymentJSON) deploymentJSON {
	l, ok := c.ctl.(interface{ injector() FaultController })
	if !ok || l.injector() == nil {
		return d
	}
	if f, from := l.injector().Faults(d.Name); f != nil {
		d.Faults, d.FaultsFrom = f.Spec, from
	}
	return d
}

func (c *api) listFaults(w http.ResponseWriter, _ *http.Request) {
	inj := c.faultsOf(w)
	if inj == nil {
		return
	}
	out := []faultsJSON{}
	for _, d := range c.ctl.Snapshot() {
		if f, from := inj.Faults(d.Name); f != nil {
			out = append(out, faultsJSON{Name: d.Name, Faults: f.Spec, FaultsFrom: from})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// setFaults is POST /v1/faults or /v1/deployments/{name}/faults: the body
// is a faults section as JSON; the metrics it names must exist (in that
// deployment, or in any for /v1/faults).
func (c *api) setFaults(w http.ResponseWriter, r *http.Request) {
	inj := c.faultsOf(w)
	if inj == nil {
		return
	}
	name := r.PathValue("name")
	known, where, ok := c.metricNames(w, name)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("read body: %w", err))
		return
	}
	if len(body) == 0 {
		writeError(w, http.StatusBadRequest, errors.New(`empty body: send a faults section such as {"drop": {"p": 0.1}} ({} turns faults off)`))
		return
	}
	f, err := generator.ParseFaults(body, func(m string) bool { return known[m] }, where)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("faults: %w", err))
		return
	}
	if name == "" {
		inj.SetAllFaults(f)
	} else {
		inj.SetFaults(name, f)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *api) clearFaults(w http.ResponseWriter, r *http.Request) {
	inj := c.faultsOf(w)
	if inj == nil {
		return
	}
	name := r.PathValue("name")
	if _, _, ok := c.metricNames(w, name); !ok {
		return
	}
	inj.ClearFaults(name)
	w.WriteHeader(http.StatusNoContent)
}

// metricNames returns the metric names faults may name: those of
// deployment name, or of any deployment when name is "". It answers 404
// for an unknown deployment.
func (c *api) metricNames(w http.ResponseWriter, name string) (map[string]bool, string, bool) {
	known := map[string]bool{}
	found := name == ""
	for _, d := range c.ctl.Snapshot() {
		if name != "" && d.Name != name {
			continue
		}
		found = true
		for _, m := range d.Metrics {
			known[m.Name] = true
		}
	}
	if !found {
		writeError(w, http.StatusNotFound, fmt.Errorf("%w: %q", generator.ErrUnknownDeployment, name))
		return nil, "", false
	}
	where := "any deployment"
	if name != "" {
		where = name
	}
	return known, where, true
}
