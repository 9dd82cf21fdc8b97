package codec_test

import (
	"os"
	"time"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

func received() codec.Received {
	return codec.Received{App: "app1", Topic: "Metrics.app1", CorrelationID: "9F3A",
		Metrics:     []generator.Metric{{Name: "cpu", Value: generator.Value{Text: "0.5"}}, {Name: "memory", Value: generator.Value{Text: "128Mi"}}},
		HasEnvelope: true, Seq: 17, Run: "6f1c2a9e", Time: time.Date(2026, 11, 25, 17, 30, 0, 5e6, time.UTC)}
}

func ExampleAppendText() {
	_, _ = os.Stdout.Write(codec.AppendText(nil, received()))
	// Output:
	// ========================================
	// Aplicação: app1
	// Recursos recebidos:
	//   - cpu: 0.5
	//   - memory: 128Mi
	// ========================================
}

func ExampleAppendJSONLine() {
	_, _ = os.Stdout.Write(codec.AppendJSONLine(nil, received()))
	// Output:
	// {"app":"app1","topic":"Metrics.app1","metrics":{"cpu":"0.5","memory":"128Mi"},"seq":17,"run":"6f1c2a9e","time":"2026-11-25T17:30:00.005Z","correlation_id":"9F3A"}
}
