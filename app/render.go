package app

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/labsea/metricsender/codec"
)

// renderer writes one received message to w in one format.
type renderer interface {
	Render(w io.Writer, r codec.Received) error
}

func newRenderer(output string) renderer {
	if output == "json" {
		return jsonRenderer{}
	}
	return textRenderer{}
}

const rule = "========================================"

// textRenderer prints the block of the original Python receiver.
type textRenderer struct{}

func (textRenderer) Render(w io.Writer, r codec.Received) error {
	var b strings.Builder
	b.WriteString(rule + "\nAplicação: " + r.App + "\nRecursos recebidos:\n")
	for _, m := range r.Metrics {
		b.WriteString("  - " + m.Name + ": " + m.Value.Text + "\n")
	}
	b.WriteString(rule + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonRenderer prints one JSON object a line.
type jsonRenderer struct{}

type jsonLine struct {
	App           string            `json:"app"`
	Topic         string            `json:"topic"`
	Metrics       map[string]string `json:"metrics"`
	Seq           *uint64           `json:"seq,omitempty"`
	Run           *string           `json:"run,omitempty"`
	Time          string            `json:"time,omitempty"`
	CorrelationID string            `json:"correlation_id"`
}

func (jsonRenderer) Render(w io.Writer, r codec.Received) error {
	line := jsonLine{
		App:           r.App,
		Topic:         r.Topic,
		Metrics:       make(map[string]string, len(r.Metrics)),
		CorrelationID: r.CorrelationID,
	}
	for _, m := range r.Metrics {
		line.Metrics[m.Name] = m.Value.Text
	}
	if r.HasEnvelope {
		line.Seq, line.Run = &r.Seq, &r.Run
	}
	if !r.Time.IsZero() {
		line.Time = r.Time.UTC().Format(timeLayout)
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("render json: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// timeLayout is RFC 3339 in UTC with milliseconds, as the envelope writes it.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"
