//go:build kubeapiserver

package realhpa_test

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// plotScenario is the scenario whose trajectories TestDifferential logs as
// a table and, with METRICSENDER_REALHPA_PLOT=FILE.png, draws (the README's
// side-by-side).
const plotScenario = "clamps"

// plotRun logs s's decisions side by side and draws them with the load
// when METRICSENDER_REALHPA_PLOT names a file.
func plotRun(t *testing.T, s scenario, sent []sample, actual, stand []change) {
	t.Helper()
	var b strings.Builder
	b.WriteString("| decision | stand-in (preview) | real controller |\n|---|---|---|\n")
	for i := range max(len(actual), len(stand)) {
		cell := func(cs []change) string {
			if i >= len(cs) {
				return "-"
			}
			return fmt.Sprintf("%d replicas at %.1f s", cs[i].replicas, cs[i].at.Seconds())
		}
		fmt.Fprintf(&b, "| %d | %s | %s |\n", i+1, cell(stand), cell(actual))
	}
	t.Logf("%s (%s):\n%s", s.name, operatorSpec(s), b.String())

	file := os.Getenv("METRICSENDER_REALHPA_PLOT")
	if file == "" {
		return
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: target 1 per replica, min %d, max %d", s.name, s.min, s.max)
	p.X.Label.Text = "elapsed (s)"
	p.Y.Label.Text = "load (cores) / replicas"
	p.Legend.Top = true
	var load plotter.XYs
	for _, v := range sent {
		if !math.IsNaN(v.v) {
			load = append(load, plotter.XY{X: v.at.Seconds(), Y: v.v})
		}
	}
	for _, l := range []struct {
		name  string
		xys   plotter.XYs
		color color.RGBA
		width vg.Length
		dash  []vg.Length
	}{
		{"load sent", load, color.RGBA{150, 150, 150, 255}, 1, nil},
		{"stand-in (preview --operator hpa)", steps(s.initial, stand), color.RGBA{31, 119, 180, 255}, 3, nil},
		{"real HPA (kube-controller-manager)", steps(s.initial, actual), color.RGBA{214, 39, 40, 255}, 1.5, []vg.Length{vg.Points(4), vg.Points(3)}},
	} {
		line, err := plotter.NewLine(l.xys)
		if err != nil {
			t.Fatalf("plot %s: %v", l.name, err)
		}
		line.StepStyle = plotter.PostStep
		line.Color, line.Width, line.Dashes = l.color, vg.Points(float64(l.width)), l.dash
		p.Add(line)
		p.Legend.Add(l.name, line)
	}
	p.Add(plotter.NewGrid())
	if err := p.Save(18*vg.Centimeter, 9*vg.Centimeter, file); err != nil {
		t.Fatalf("plot: %v", err)
	}
	t.Logf("plot written to %s", file)
}

// steps is a replica trajectory from initial through the decisions, to
// the end of the run.
func steps(initial int32, cs []change) plotter.XYs {
	xys := plotter.XYs{{X: 0, Y: float64(initial)}}
	for _, c := range cs {
		xys = append(xys, plotter.XY{X: c.at.Seconds(), Y: float64(c.replicas)})
	}
	return append(xys, plotter.XY{X: duration.Seconds(), Y: xys[len(xys)-1].Y})
}
