package app

import (
	"slices"
	"testing"

	"gonum.org/v1/plot/plotter"
)

func TestDecimate(t *testing.T) {
	line := func(n int, spikeAt int) plotter.XYs {
		xys := make(plotter.XYs, n)
		for i := range xys {
			xys[i] = plotter.XY{X: float64(i), Y: 1}
		}
		if spikeAt >= 0 {
			xys[spikeAt].Y = 9
			xys[spikeAt+1].Y = -9
		}
		return xys
	}
	tests := []struct {
		name     string
		xys      plotter.XYs
		n        int
		wantLen  int // 0: at most 2n
		wantKeep []plotter.XY
	}{
		{"short line unchanged", line(10, 3), 5, 10, nil},
		{"long flat line", line(10000, -1), 100, 0, []plotter.XY{{X: 0, Y: 1}}},
		{"spike and dip kept", line(10000, 5001), 100, 0, []plotter.XY{{X: 5001, Y: 9}, {X: 5002, Y: -9}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decimate(tt.xys, 0, float64(len(tt.xys)), tt.n)
			if tt.wantLen > 0 && len(got) != tt.wantLen || len(got) > 2*tt.n && len(got) != len(tt.xys) {
				t.Errorf("%d points from %d with n=%d", len(got), len(tt.xys), tt.n)
			}
			if !slices.IsSortedFunc(got, func(a, b plotter.XY) int { return int(a.X - b.X) }) {
				t.Errorf("points out of time order")
			}
			for _, p := range tt.wantKeep {
				if !slices.Contains(got, p) {
					t.Errorf("point %v dropped", p)
				}
			}
		})
	}
}
