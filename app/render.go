package app

import (
	"io"

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

// textRenderer prints the block of the original Python receiver
// (codec.AppendText).
type textRenderer struct{}

func (textRenderer) Render(w io.Writer, r codec.Received) error {
	_, err := w.Write(codec.AppendText(make([]byte, 0, 256), r))
	return err
}

// jsonRenderer prints one JSON object a line (codec.AppendJSONLine).
type jsonRenderer struct{}

func (jsonRenderer) Render(w io.Writer, r codec.Received) error {
	_, err := w.Write(codec.AppendJSONLine(make([]byte, 0, 256), r))
	return err
}
