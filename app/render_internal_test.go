package app

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/receiver"
)

// JSONLine is one line of `receive --output json`: what the hand-written
// renderer must print, as encoding/json prints it, and what the external
// tests decode its output into.
type JSONLine struct {
	App           string            `json:"app"`
	Topic         string            `json:"topic"`
	Metrics       map[string]string `json:"metrics"`
	Seq           *uint64           `json:"seq,omitempty"`
	Run           *string           `json:"run,omitempty"`
	Fault         string            `json:"fault,omitempty"`
	Dropped       uint64            `json:"dropped,omitempty"`
	Time          string            `json:"time,omitempty"`
	CorrelationID string            `json:"correlation_id"`
}

// The JSON renderer is hand-written for speed; it must print what
// encoding/json would.
func TestJSONRendererMatchesEncodingJSON(t *testing.T) {
	odd := "q\"b\\s\n\t<&>é\u2028\x01"
	tests := []struct {
		name string
		r    codec.Received
	}{
		{"envelope", codec.Received{App: "app1", Topic: "Metrics.app1", CorrelationID: "9F3A",
			Metrics:     []generator.Metric{{Name: "cpu", Value: generator.Value{Text: "0.5"}}, {Name: "memory", Value: generator.Value{Text: "128Mi"}}},
			HasEnvelope: true, Seq: 17, Run: "6f1c2a9e", Time: time.Date(2026, 11, 25, 17, 30, 0, 5e6, time.UTC)}},
		{"python form", codec.Received{App: "a", Topic: "Metrics.a", Metrics: []generator.Metric{{Name: "cpu", Value: generator.Value{Text: "1"}}},
			Time: time.UnixMilli(1764091800123)}},
		{"no metrics, no time", codec.Received{App: "a", Topic: "Metrics.a"}},
		{"faults", codec.Received{App: "a", Topic: "Metrics.a", HasEnvelope: true, Seq: 9, Run: "r", Fault: "stale,corrupt", Dropped: 3,
			Metrics: []generator.Metric{{Name: "cpu", Value: generator.Value{Text: "NaN"}}}}},
		{"odd characters", codec.Received{App: odd, Topic: odd, CorrelationID: odd, Run: odd, HasEnvelope: true,
			Metrics: []generator.Metric{{Name: odd, Value: generator.Value{Text: odd}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := (receiver.JSON{}).Render(&got, tt.r); err != nil {
				t.Fatal(err)
			}
			line := JSONLine{App: tt.r.App, Topic: tt.r.Topic, Metrics: map[string]string{}, CorrelationID: tt.r.CorrelationID}
			for _, m := range tt.r.Metrics {
				line.Metrics[m.Name] = m.Value.Text
			}
			if tt.r.HasEnvelope {
				line.Seq, line.Run = &tt.r.Seq, &tt.r.Run
				line.Fault, line.Dropped = tt.r.Fault, tt.r.Dropped
			}
			if !tt.r.Time.IsZero() {
				line.Time = tt.r.Time.UTC().Format(timeLayout)
			}
			want, err := json.Marshal(line)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want)+"\n" {
				t.Errorf("\n got %s\nwant %s", got.String(), want)
			}
		})
	}
}

// timeLayout is RFC 3339 in UTC with milliseconds, as the envelope writes it.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"
