package observability_test

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"regexp"
	"time"

	"github.com/prometheus/prometheus/promql"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// renderPanels draws each panel's results in a grid of two columns, one
// line per series, in the style of `metricsender preview --plot`: the
// time axis in seconds from the start of the run, legends from the
// targets' legendFormat. It is a rendering of the panel queries, not of
// Grafana.
func renderPanels(path, title string, results []panelResult, start time.Time) error {
	const cols = 2
	rows := (len(results) + cols - 1) / cols
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, cols)
	}
	for i, pr := range results {
		p, err := panelPlot(pr, start)
		if err != nil {
			return fmt.Errorf("panel %q: %w", pr.panel.Title, err)
		}
		plots[i/cols][i%cols] = p
	}
	width, rowH := 11*vg.Inch, 3*vg.Inch
	header := vg.Points(28)
	img := vgimg.NewWith(vgimg.UseWH(width, rowH*vg.Length(rows)+header), vgimg.UseDPI(96))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	head := draw.TextStyle{Color: color.Black, Font: plot.DefaultFont, Handler: plot.DefaultTextHandler,
		XAlign: draw.XCenter, YAlign: draw.YTop}
	head.Font.Size = vg.Points(13)
	dc.FillText(head, vg.Point{X: width / 2, Y: dc.Max.Y - vg.Points(6)},
		title+" dashboard: its panel queries over a live run (Prometheus engine, not a Grafana screenshot)")
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(6), PadRight: vg.Points(6), PadX: vg.Points(14), PadY: vg.Points(10)}
	body := draw.Crop(dc, 0, 0, 0, -header)
	cells := plot.Align(plots, tiles, body)
	for r := range plots {
		for c, p := range plots[r] {
			if p != nil {
				p.Draw(cells[r][c])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// panelPlot is one panel: a line per series of each target.
func panelPlot(pr panelResult, start time.Time) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pr.panel.Title
	if pr.panel.Type == "heatmap" { // drawn as a line per bucket, counts over time
		p.Title.Text += " (per bucket; a heatmap in Grafana)"
	}
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.Text = "seconds"
	p.X.Label.TextStyle.Font.Size = vg.Points(8)
	p.X.Tick.Label.Font.Size = vg.Points(8)
	p.Y.Tick.Label.Font.Size = vg.Points(8)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(7)
	p.Add(plotter.NewGrid())
	i := 0
	for _, tr := range pr.series {
		for _, s := range tr.matrix {
			pts := make(plotter.XYs, 0, len(s.Floats))
			for _, f := range s.Floats {
				if math.IsNaN(f.F) || math.IsInf(f.F, 0) {
					continue
				}
				pts = append(pts, plotter.XY{X: float64(f.T-start.UnixMilli()) / 1000, Y: f.F})
			}
			if len(pts) == 0 {
				continue
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			line.Color = plotutil.Color(i)
			line.Dashes = plotutil.Dashes(i / len(plotutil.DefaultColors))
			line.Width = vg.Points(1.2)
			p.Add(line)
			name := legendOf(tr.legend, s)
			if pr.panel.Type == "heatmap" {
				name = "le " + name
			}
			p.Legend.Add(name, line)
			i++
		}
	}
	return p, nil
}

var legendVar = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

// legendOf fills Grafana's legendFormat ({{label}}) from s's labels.
func legendOf(format string, s promql.Series) string {
	if format == "" {
		return s.Metric.String()
	}
	return legendVar.ReplaceAllStringFunc(format, func(m string) string {
		return s.Metric.Get(legendVar.FindStringSubmatch(m)[1])
	})
}
