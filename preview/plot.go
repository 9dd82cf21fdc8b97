package preview

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/labsea/metricsender/generator"
)

// Plot limits: a picture of 1000 lines or 100 panels shows nothing, and
// every point kept costs memory for the whole preview.
const (
	maxPlotLines  = 20   // lines (deployments) per panel
	maxPlotPanels = 12   // panels (metrics): the first by name
	maxLegendName = 28   // runes of a deployment name in a legend
	plotSlices    = 1000 // time slices a line is thinned to (about the pixels across)
	strokePoints  = 50   // points per stroked piece of a line
)

// plotData keeps the points of the numeric metrics for --plot: per metric,
// the values of the deployments chosen to be drawn (at most maxLines).
// Not safe for concurrent use.
type plotData struct {
	panels map[string]*panel
}

type panel struct {
	lines      []*series    // drawing order, see newPlotData
	faults     []plotter.XY // where a fault hit a drawn deployment's message
	faultsLeft int          // marks not kept beyond maxFaultMarks
	byApp      map[string]*series
	total      int // deployments that have the metric
	nonNumeric int
	example    string // one non-numeric value, for the note
}

type series struct {
	app string
	thinner
}

// newPlotData chooses, per metric, the deployments to draw (at most
// maxLines): one of each distinct model first, so a lone spike is not
// crowded out by 50 identical web pods, then the rest in config order.
func newPlotData(cfg *generator.Config, duration time.Duration, maxLines int) *plotData {
	type candidate struct {
		app, model string
	}
	byMetric := make(map[string][]candidate)
	for _, d := range cfg.Deployments {
		for _, m := range d.Metrics {
			byMetric[m.Name] = append(byMetric[m.Name], candidate{d.Name, modelKey(m.Spec)})
		}
	}
	p := &plotData{panels: make(map[string]*panel, len(byMetric))}
	for name, cands := range byMetric {
		// order: one deployment of each distinct model first, so they get
		// the solid lines and first colors, then the rest in config order.
		order := make([]int, 0, min(len(cands), maxLines))
		picked := make([]bool, len(cands))
		seen := make(map[string]bool)
		for i, c := range cands {
			if len(order) < maxLines && !seen[c.model] {
				seen[c.model], picked[i] = true, true
				order = append(order, i)
			}
		}
		for i := range cands {
			if len(order) < maxLines && !picked[i] {
				order = append(order, i)
			}
		}
		pn := &panel{byApp: make(map[string]*series, len(order)), total: len(cands)}
		for _, i := range order {
			s := &series{app: cands[i].app, thinner: thinner{width: duration.Seconds() / plotSlices}}
			pn.lines = append(pn.lines, s)
			pn.byApp[s.app] = s
		}
		p.panels[name] = pn
	}
	return p
}

// modelKey is the same text for two metrics exactly when their models
// are defined alike (the spec in the config's JSON form; "?" when it has
// none), so the plot can pick one deployment of each distinct model.
func modelKey(spec any) string {
	if spec == nil {
		return "?"
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return "?"
	}
	return string(b)
}

// ownedBy is cfg with only the deployments shard owns (cfg itself when it
// is not sharded): a shallow copy for what lists deployments, such as the
// plot, never for a schedule (phases need the whole config).
func ownedBy(cfg *generator.Config, shard generator.Shard) *generator.Config {
	if !shard.Sharded() {
		return cfg
	}
	out := *cfg
	out.Deployments = nil
	for _, d := range cfg.Deployments {
		if shard.Owns(d.Name) {
			out.Deployments = append(out.Deployments, d)
		}
	}
	return &out
}

// replicasPanel names the panel of the observed replicas (preview
// --operator). The parentheses keep it apart from a metric's name.
const replicasPanel = "replicas (observed)"

// withReplicas adds the replicas panel: one line per deployment drawn in
// the first metric's panel, so the two panels show the same apps.
func (p *plotData) withReplicas(duration time.Duration) {
	pn := &panel{byApp: map[string]*series{}}
	seen := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(p.panels)) {
		for _, s := range p.panels[name].lines {
			if !seen[s.app] && len(pn.lines) < maxPlotLines {
				seen[s.app] = true
				line := &series{app: s.app, thinner: thinner{width: duration.Seconds() / plotSlices}}
				pn.lines = append(pn.lines, line)
				pn.byApp[s.app] = line
			}
		}
	}
	pn.total = len(pn.lines)
	p.panels[replicasPanel] = pn
}

// addReplicas records app's observed replicas at elapsed time at.
func (p *plotData) addReplicas(at time.Duration, app string, replicas float64) {
	if pn := p.panels[replicasPanel]; pn != nil {
		if s := pn.byApp[app]; s != nil {
			s.add(plotter.XY{X: at.Seconds(), Y: replicas})
		}
	}
}

// maxFaultMarks bounds the fault marks kept per panel.
const maxFaultMarks = 2000

// mark records that faults hit ev (as generated) at elapsed time at: a
// mark on each numeric metric of a deployment that is drawn.
func (p *plotData) mark(at time.Duration, ev generator.Event, fault string) {
	for _, m := range ev.Metrics {
		pn := p.panels[m.Name]
		if pn == nil || !m.Value.HasNum || pn.byApp[ev.App] == nil {
			continue
		}
		if len(pn.faults) >= maxFaultMarks {
			pn.faultsLeft++
			continue
		}
		pn.faults = append(pn.faults, plotter.XY{X: at.Seconds(), Y: m.Value.Num})
	}
}

// add records the numeric values of ev at elapsed time at.
func (p *plotData) add(at time.Duration, ev generator.Event) {
	for _, m := range ev.Metrics {
		pn := p.panels[m.Name]
		if pn == nil {
			continue // not in the config: cannot happen in a preview
		}
		if !m.Value.HasNum {
			if pn.nonNumeric == 0 {
				pn.example = m.Value.Text
			}
			pn.nonNumeric++
			continue
		}
		if s := pn.byApp[ev.App]; s != nil {
			s.add(plotter.XY{X: at.Seconds(), Y: m.Value.Num})
		}
	}
}

// save draws one panel per numeric metric, stacked, into path (.svg or
// .png), telling on stderr what it leaves out. It fails with an *InputError
// when no metric has a numeric value.
func (p *plotData) save(path string, duration time.Duration, stderr io.Writer) error {
	format, err := PlotFormat(path)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(p.panels))
	for name, pn := range p.panels {
		for _, s := range pn.lines {
			s.finish()
		}
		pn.lines = slices.DeleteFunc(pn.lines, func(s *series) bool { return len(s.xys) == 0 })
		switch {
		case len(pn.lines) == 0 && pn.nonNumeric > 0:
			fmt.Fprintf(stderr, "plot: %s not drawn: not numeric (e.g. %q)\n", name, pn.example)
			continue
		case len(pn.lines) == 0:
			continue // no tick in the window
		case pn.nonNumeric > 0:
			fmt.Fprintf(stderr, "plot: %s: %d non-numeric values (e.g. %q) not drawn\n", name, pn.nonNumeric, pn.example)
		}
		if pn.faultsLeft > 0 {
			fmt.Fprintf(stderr, "plot: %s: %d fault marks not drawn (at most %d a panel)\n", name, pn.faultsLeft, maxFaultMarks)
		}
		if pn.total > len(pn.lines) {
			fmt.Fprintf(stderr, "plot: %s: drawing %d of %d deployments (one of each distinct model, then in config order)\n",
				name, len(pn.lines), pn.total)
		}
		// A value holds until the next message, or the end of the window.
		end := duration.Seconds()
		for _, s := range pn.lines {
			if last := s.xys[len(s.xys)-1]; last.X < end {
				s.xys = append(s.xys, plotter.XY{X: end, Y: last.Y})
			}
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return inputf("--plot %s: no numeric metric to draw", path)
	}
	slices.Sort(names)
	if len(names) > maxPlotPanels {
		fmt.Fprintf(stderr, "plot: drawing %d of %d metrics (the first by name)\n", maxPlotPanels, len(names))
		names = names[:maxPlotPanels]
	}

	plots := make([][]*plot.Plot, len(names))
	legends := make([]plot.Legend, len(names))
	var legendW, legendH vg.Length
	for i, name := range names {
		pl, lg, err := p.panelPlot(name, duration, i == len(names)-1)
		if err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
		plots[i] = []*plot.Plot{pl}
		legends[i] = lg
		r := lg.Rectangle(draw.Canvas{})
		legendW = max(legendW, r.Max.X-r.Min.X)
		legendH = max(legendH, r.Max.Y-r.Min.Y)
	}

	// Every panel gets the height of the tallest legend (and at least 2 in),
	// so Align can give them one size and the time axes line up.
	const width = 9 * vg.Inch
	legendW += vg.Points(12)
	panelH := max(2*vg.Inch, legendH+vg.Points(40))
	height := panelH * vg.Length(len(names))
	var (
		canvas vg.CanvasSizer
		svg    *vgsvg.Canvas
		img    *vgimg.Canvas
	)
	if format == "svg" {
		svg = vgsvg.New(width, height)
		canvas = svg
	} else {
		img = vgimg.New(width, height)
		canvas = img
	}
	dc := draw.New(canvas)
	tiles := draw.Tiles{Rows: len(names), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadY: vg.Points(8)}
	cells := plot.Align(plots, tiles, draw.Crop(dc, 0, -legendW, 0, 0))
	for i := range names {
		cell := cells[i][0]
		plots[i][0].Draw(cell)
		// The legend sits right of its panel, level with the top of the
		// data area (below the title).
		lc := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: width - legendW + vg.Points(6), Y: cell.Min.Y},
			Max: vg.Point{X: width, Y: cell.Max.Y - vg.Points(16)},
		}}
		legends[i].Draw(lc)
	}

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if img != nil {
		err = writePNG(f, img.Image())
	} else {
		_, err = svg.WriteTo(f)
	}
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("plot: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}

// panelPlot builds the plot of one metric and its legend (drawn apart, so
// it never hides a line).
func (p *plotData) panelPlot(name string, duration time.Duration, bottom bool) (*plot.Plot, plot.Legend, error) {
	pl := plot.New()
	pl.Title.Text = name
	pl.Title.TextStyle.Font.Size = vg.Points(11)
	pl.X.Min, pl.X.Max = 0, duration.Seconds()
	pl.X.Tick.Marker = elapsedTicks{}
	if bottom {
		pl.X.Label.Text = "elapsed (s)"
	}
	pl.Y.Tick.Marker = siTicks{}
	pl.Add(plotter.NewGrid())
	lg := plot.NewLegend()
	lg.Top, lg.Left = true, true
	lg.TextStyle.Font.Size = vg.Points(8)
	for i, s := range p.panels[name].lines {
		// The PNG rasterizer's time grows with the square of a path's
		// length (minutes for a day of 10 s ticks): stroke a line in
		// short pieces that share their end points.
		for from := 0; from == 0 || from < len(s.xys)-1; from += strokePoints {
			line, err := plotter.NewLine(s.xys[from:min(from+strokePoints+1, len(s.xys))])
			if err != nil {
				return nil, lg, fmt.Errorf("deployment %s: %w", s.app, err)
			}
			// A value holds until the next message: draw steps, not slopes.
			line.StepStyle = plotter.PostStep
			line.Color = plotutil.Color(i)
			line.Dashes = plotutil.Dashes(i / len(plotutil.DefaultColors))
			line.Width = vg.Points(1.2)
			pl.Add(line)
			if from == 0 {
				lg.Add(shorten(s.app, maxLegendName), line)
			}
		}
	}
	if pn := p.panels[name]; len(pn.faults) > 0 {
		marks, err := plotter.NewScatter(plotter.XYs(pn.faults))
		if err != nil {
			return nil, lg, fmt.Errorf("fault marks: %w", err)
		}
		marks.GlyphStyle.Shape = draw.CrossGlyph{}
		marks.GlyphStyle.Color = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
		marks.GlyphStyle.Radius = vg.Points(3)
		pl.Add(marks)
		lg.Add("fault", marks)
	}
	return pl, lg, nil
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
