package app

import (
	"encoding/json"
	"io"
	"strconv"
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

func (jsonRenderer) Render(w io.Writer, r codec.Received) error {
	// Hand-written: encoding/json's reflection, the map and its key sort
	// cost more than the rest of the receive path per message. Same output
	// as json.Marshal of a struct of these fields (metrics in name order, which Decode
	// guarantees, HTML characters escaped).
	b := make([]byte, 0, 256)
	b = append(b, `{"app":`...)
	b = appendJSONString(b, r.App)
	b = append(b, `,"topic":`...)
	b = appendJSONString(b, r.Topic)
	b = append(b, `,"metrics":{`...)
	for i, m := range r.Metrics {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, m.Name)
		b = append(b, ':')
		b = appendJSONString(b, m.Value.Text)
	}
	b = append(b, '}')
	if r.HasEnvelope {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, r.Seq, 10)
		b = append(b, `,"run":`...)
		b = appendJSONString(b, r.Run)
		if r.Fault != "" {
			b = append(b, `,"fault":`...)
			b = appendJSONString(b, r.Fault)
		}
		if r.Dropped > 0 {
			b = append(b, `,"dropped":`...)
			b = strconv.AppendUint(b, r.Dropped, 10)
		}
	}
	if !r.Time.IsZero() {
		b = append(b, `,"time":"`...)
		b = r.Time.UTC().AppendFormat(b, timeLayout)
		b = append(b, '"')
	}
	b = append(b, `,"correlation_id":`...)
	b = appendJSONString(b, r.CorrelationID)
	b = append(b, '}', '\n')
	_, err := w.Write(b)
	return err
}

// appendJSONString appends s quoted as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			q, _ := json.Marshal(s) // rare: escapes and non-ASCII, exactly as json does
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// timeLayout is RFC 3339 in UTC with milliseconds, as the envelope writes it.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"
