package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/labsea/metricsender/generator"
)

// sourceAPI names the control API as a feedback source.
const sourceAPI = "api"

// stateJSON is a deployment's observed state as GET shows it: each field
// with its value and who set it.
type stateJSON struct {
	Replicas   fieldJSON            `json:"replicas"`
	Ready      fieldJSON            `json:"ready"`
	Allocation map[string]fieldJSON `json:"allocation,omitempty"`
}

type fieldJSON struct {
	Value  float64 `json:"value"`
	Source string  `json:"source"`
	// At is when the source observed it; absent for the config's.
	At string `json:"at,omitempty"`
}

func fieldOf(v float64, src generator.Source) fieldJSON {
	f := fieldJSON{Value: v, Source: src.Name}
	if !src.At.IsZero() {
		f.At = src.At.UTC().Format(time.RFC3339Nano)
	}
	return f
}

func stateToJSON(st generator.ObservedState) stateJSON {
	out := stateJSON{Replicas: fieldOf(st.Replicas, st.Sources.Replicas), Ready: fieldOf(st.Ready, st.Sources.Ready)}
	if len(st.Allocation) > 0 {
		out.Allocation = make(map[string]fieldJSON, len(st.Allocation))
		for k, v := range st.Allocation {
			out.Allocation[k] = fieldOf(v, st.Sources.Allocation[k])
		}
	}
	return out
}

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
	ob := generator.Observation{Source: sourceAPI}
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
func (c *control) putState(w http.ResponseWriter, r *http.Request) {
	body, ok := readControlBody(w, r)
	if !ok {
		return
	}
	ob, err := parseStateBody(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	err = c.sched.Observe(r.PathValue("name"), ob)
	if errors.Is(err, generator.ErrBadObservation) {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	c.answer(w, err)
}

// readControlBody reads a mutation's body, answering 413 or 400 itself
// (ok false) when it cannot.
func readControlBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxControlBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", maxControlBody))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, fmt.Errorf("read body: %w", err))
		return nil, false
	}
	return body, true
}
