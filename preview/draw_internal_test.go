package preview

import (
	"slices"
	"testing"

	"gonum.org/v1/plot/plotter"
)

func TestThinner(t *testing.T) {
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
		width    float64
		wantLen  int
		wantKeep []plotter.XY
	}{
		{"zero width keeps all", line(10, 3), 0, 10, nil},
		{"one point a slice keeps all", line(10, 3), 1, 10, nil},
		{"flat line: one point a slice", line(10000, -1), 100, 100, []plotter.XY{{X: 0, Y: 1}, {X: 9900, Y: 1}}},
		{"spike and dip kept in order", line(10000, 5050), 100, 101, []plotter.XY{{X: 5050, Y: 9}, {X: 5051, Y: -9}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := thinner{width: tt.width}
			for _, p := range tt.xys {
				th.add(p)
			}
			th.finish()
			if len(th.xys) != tt.wantLen {
				t.Errorf("%d points from %d, want %d", len(th.xys), len(tt.xys), tt.wantLen)
			}
			if !slices.IsSortedFunc(th.xys, func(a, b plotter.XY) int { return int(a.X - b.X) }) {
				t.Errorf("points out of time order: %v", th.xys)
			}
			for _, p := range tt.wantKeep {
				if !slices.Contains(th.xys, p) {
					t.Errorf("point %v dropped", p)
				}
			}
		})
	}
}
