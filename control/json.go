package control

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labsea/metricsender/generator"
)

// The JSON the control API answers. Its bytes are a contract (scripts and
// the tests read them): a field is added, never renamed or retyped.

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

// metricJSON is one metric of a deployment: its configured model (as in
// the config), the override in force, and the last value sent.
type metricJSON struct {
	Name     string     `json:"name"`
	Model    any        `json:"model"`
	Override any        `json:"override,omitempty"`
	Last     *valueJSON `json:"last,omitempty"`
}

// valueJSON is a value sent: its text as on the wire, and its number when
// it has one.
type valueJSON struct {
	Text   string   `json:"text"`
	Number *float64 `json:"number,omitempty"`
}

// toJSON is d as GET shows it, without its faults (see withFaults).
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

// stateJSON is a deployment's observed state as GET shows it: each field
// with its value and who set it.
type stateJSON struct {
	Replicas   fieldJSON            `json:"replicas"`
	Ready      fieldJSON            `json:"ready"`
	Allocation map[string]fieldJSON `json:"allocation,omitempty"`
}

// fieldJSON is one field of the observed state.
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

// faultsJSON is one deployment's faults in effect, as GET /v1/faults
// lists them.
type faultsJSON struct {
	Name       string `json:"name"`
	Faults     any    `json:"faults"`
	FaultsFrom string `json:"faults_from,omitempty"`
}

// writeJSON answers v as JSON on one line; no response is cached.
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
	}{generator.OneLine(err)})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
