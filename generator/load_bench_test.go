package generator_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/labsea/metricsender/generator"
)

// BenchmarkParse20k loads a file listing 20k deployments one by one, the
// size DESIGN.md plans for.
func BenchmarkParse20k(b *testing.B) {
	benchmarkParse(b, 20_000, "      cpu: [0.5, 0.8, 1.0]\n      memory: [256, 512, 1024]\n      load: {walk: {start: 500m, min: 100m, max: 2, step: 100m}}\n")
}

// BenchmarkParse100k loads 100k deployments listed one by one in the
// original format: the file of the 100k row of BENCHMARKS.md.
func BenchmarkParse100k(b *testing.B) {
	benchmarkParse(b, 100_000, "      cpu: [0.5, 0.8, 1.0]\n      memory: [256, 512, 1024]\n")
}

// benchmarkParse parses a file of n deployments, each with these metrics lines.
func benchmarkParse(b *testing.B, n int, metrics string) {
	var sb strings.Builder
	sb.WriteString("interval: 60s\ndeployments:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  - name: app%d\n    metrics:\n%s", i, metrics)
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := generator.Parse("big.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseCount loads 100k deployments made by count.
func BenchmarkParseCount(b *testing.B) {
	data := []byte("deployments:\n  - name: web\n    count: 100000\n    metrics:\n      cpu: [0.5, 0.8]\n      load: {walk: {start: 1, min: 0, max: 2, step: 0.1}}\n")
	for b.Loop() {
		if _, err := generator.Parse("count.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllows measures the receiver's bounds check per value.
func BenchmarkAllows(b *testing.B) {
	for _, tc := range []struct{ name, model, value string }{
		{"list-text", "[0.5, 0.8, 1.0]", "1.0"},
		{"list-number", "[0.5, 0.8, 1.0]", "1"},
		{"walk", "{walk: {start: 500m, min: 100m, max: 2, step: 100m}}", "1500m"},
		{"sine-plain", "{sine: {min: 10, max: 110, period: 10m}}", "57.25"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m, _, err := generator.ParseModel([]byte(tc.model), "")
			if err != nil {
				b.Fatal(err)
			}
			bd := m.(generator.Bounded)
			for b.Loop() {
				if !bd.Allows(tc.value) {
					b.Fatal("not allowed")
				}
			}
		})
	}
}
