package receiver

import (
	"io"

	"github.com/labsea/metricsender/codec"
)

// Renderer writes one received message to w in one format.
type Renderer interface {
	Render(w io.Writer, r codec.Received) error
}

// NewRenderer is the renderer of an --output value: json, else text.
func NewRenderer(output string) Renderer {
	if output == "json" {
		return JSON{}
	}
	return Text{}
}

// Text prints the block of the original Python receiver
// (codec.AppendText).
type Text struct{}

// Render implements Renderer.
func (Text) Render(w io.Writer, r codec.Received) error {
	_, err := w.Write(codec.AppendText(make([]byte, 0, 256), r))
	return err
}

// JSON prints one JSON object a line (codec.AppendJSONLine).
type JSON struct{}

// Render implements Renderer.
func (JSON) Render(w io.Writer, r codec.Received) error {
	_, err := w.Write(codec.AppendJSONLine(make([]byte, 0, 256), r))
	return err
}
