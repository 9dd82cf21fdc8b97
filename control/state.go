package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"

	"github.com/labsea/metricsender/generator"
)

// SourceAPI names the control API as a feedback source: the source of
// what a state PUT sets, as GET shows it.
const SourceAPI = "api"

// stateBody is the body of PUT /v1/deployments/{name}/state. Each value is
// a JSON number or a string holding a number or a Kubernetes quantity
// ("750m"); absent fields leave the state as it is.
type stateBody struct {
	Replicas   json.RawMessage            `json:"replicas"`
	Ready      json.RawMessage            `json:"ready"`
	Allocation map[string]json.RawMessage `json:"allocation"`
}

// parseStateBody turns a PUT body into an observation by the API.
func parseStateBody(body []byte) (generator.Observation, error) {
	ob := generator.Observation{Source: SourceAPI}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var sb stateBody
	if err := dec.Decode(&sb); err != nil {
		return ob, fmt.Errorf("state: %w", err)
	}
	if dec.More() {
		return ob, errors.New("state: more than one JSON value")
	}
	var errs []error
	var err error
	if sb.Replicas != nil {
		if ob.Replicas, err = stateNumber(sb.Replicas); err != nil {
			errs = append(errs, fmt.Errorf("replicas: %w", err))
		}
		ob.HasReplicas = true
	}
	if sb.Ready != nil {
		if ob.Ready, err = stateNumber(sb.Ready); err != nil {
			errs = append(errs, fmt.Errorf("ready: %w", err))
		}
		ob.HasReady = true
	}
	if len(sb.Allocation) > 0 {
		ob.Allocation = make(map[string]float64, len(sb.Allocation))
		for _, k := range slices.Sorted(maps.Keys(sb.Allocation)) {
			if ob.Allocation[k], err = stateNumber(sb.Allocation[k]); err != nil {
				errs = append(errs, fmt.Errorf("allocation.%s: %w", k, err))
			}
		}
	}
	if len(errs) == 0 && !ob.HasReplicas && !ob.HasReady && len(ob.Allocation) == 0 {
		errs = append(errs, errors.New(`state: no field: send {"replicas": 3, "ready": 3, "allocation": {"cpu": "750m"}} or a part of it`))
	}
	return ob, errors.Join(errs...)
}

// stateNumber is a JSON number, or a string with a number or quantity.
func stateNumber(raw json.RawMessage) (float64, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return generator.ParseNumber(s)
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, fmt.Errorf("want a number or a quantity string, got %s", raw)
	}
	return f, nil
}

// putState records the body as an observation by the API (Observe).
func (c *api) putState(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	ob, err := parseStateBody(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	err = c.ctl.Observe(r.PathValue("name"), ob)
	if errors.Is(err, generator.ErrBadObservation) {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	c.answer(w, err)
}

// readBody reads a mutation's body, answering 413 or 400 itself
// (ok false) when it cannot.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", maxBody))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, fmt.Errorf("read body: %w", err))
		return nil, false
	}
	return body, true
}
