package generator_test

import (
	"testing"

	"github.com/labsea/metricsender/generator"
)

func TestStream(t *testing.T) {
	draws := func(seed int64, d, m string) [8]uint64 {
		var out [8]uint64
		r := generator.Stream(seed, d, m)
		for i := range out {
			out[i] = r.Uint64()
		}
		return out
	}
	tests := []struct {
		name     string
		a, b     func() [8]uint64
		wantSame bool
	}{
		{"same seed and names repeat", func() [8]uint64 { return draws(42, "web", "cpu") },
			func() [8]uint64 { return draws(42, "web", "cpu") }, true},
		{"seed changes the stream", func() [8]uint64 { return draws(42, "web", "cpu") },
			func() [8]uint64 { return draws(43, "web", "cpu") }, false},
		{"deployment changes the stream", func() [8]uint64 { return draws(42, "web", "cpu") },
			func() [8]uint64 { return draws(42, "api", "cpu") }, false},
		{"metric changes the stream", func() [8]uint64 { return draws(42, "web", "cpu") },
			func() [8]uint64 { return draws(42, "web", "memory") }, false},
		{"names are separated", func() [8]uint64 { return draws(42, "ab", "c") },
			func() [8]uint64 { return draws(42, "a", "bc") }, false},
		{"names are not swapped", func() [8]uint64 { return draws(42, "x", "y") },
			func() [8]uint64 { return draws(42, "y", "x") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.a(), tt.b()
			if same := a == b; same != tt.wantSame {
				t.Errorf("same = %v, want %v\na = %v\nb = %v", same, tt.wantSame, a, b)
			}
		})
	}
}
