package preview

import (
	"image"
	"image/color"
	imgdraw "image/draw"
	"image/png"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
)

// The pieces of --plot's drawing that gonum leaves to us: time and SI
// ticks, thinning long lines, a paletted PNG.

// elapsedTicks put the time axis's marks on round numbers of seconds
// (every 10 s, 1 m, 5 m, 1 h...) rather than gonum's 800, 1600. Ranges
// shorter than 20 s or longer than 8 days get gonum's default ticks.
type elapsedTicks struct{}

func (elapsedTicks) Ticks(lo, hi float64) []plot.Tick {
	steps := []struct{ major, minor float64 }{
		{5, 1}, {10, 2}, {30, 10}, {60, 10}, {120, 30}, {300, 60}, {600, 120}, {900, 300},
		{1800, 300}, {3600, 600}, {7200, 1800}, {10800, 3600}, {21600, 3600}, {43200, 10800}, {86400, 21600},
	}
	if hi-lo < 20 {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	for _, st := range steps {
		if (hi-lo)/st.major > 8 {
			continue
		}
		var ticks []plot.Tick
		for v := math.Ceil(lo/st.minor) * st.minor; v <= hi; v += st.minor {
			t := plot.Tick{Value: v}
			if math.Mod(v, st.major) == 0 {
				t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			}
			ticks = append(ticks, t)
		}
		return ticks
	}
	return plot.DefaultTicks{}.Ticks(lo, hi)
}

// siTicks are gonum's default ticks labelled with SI suffixes, so a memory
// axis in bytes reads 512M rather than 5.12e+08.
type siTicks struct{}

func (siTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i, t := range ticks {
		if t.Label != "" {
			ticks[i].Label = siLabel(t.Value)
		}
	}
	return ticks
}

func siLabel(v float64) string {
	abs := math.Abs(v)
	for _, u := range []struct {
		f      float64
		suffix string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if abs >= u.f {
			return strconv.FormatFloat(v/u.f, 'g', 4, 64) + u.suffix
		}
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// plotPalette is every color the plot draws (black text and axes, the line
// colors) blended with the white background in 16 steps, so antialiased
// edges keep their look in a paletted PNG.
func plotPalette() color.Palette {
	bases := append([]color.Color{color.Black}, plotutil.DefaultColors...)
	pal := color.Palette{color.White}
	for _, c := range bases {
		r, g, b, _ := c.RGBA()
		for i := range 16 {
			t := uint32(i) // weight of white, out of 16
			mix := func(v uint32) uint8 { return uint8(((v>>8)*(16-t) + 255*t) / 16) }
			pal = append(pal, color.RGBA{mix(r), mix(g), mix(b), 255})
		}
	}
	return pal
}

// writePNG encodes img with plotPalette: a fraction of the size of a
// 24-bit PNG (the README's picture stays small) with no visible change.
func writePNG(w io.Writer, img image.Image) error {
	pal := image.NewPaletted(img.Bounds(), plotPalette())
	imgdraw.Draw(pal, pal.Rect, img, img.Bounds().Min, imgdraw.Src)
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	return enc.Encode(w, pal)
}

// thinner keeps a line to at most two points per time slice of the given
// width: the lowest and the highest of the slice, in time order. With
// slices about a pixel wide, a day of 1 s ticks holds and draws like 2000
// points and still shows every spike and dip. The zero value keeps every
// point. Not safe for concurrent use.
type thinner struct {
	width float64 // of a slice, in x units; 0 keeps every point
	xys   plotter.XYs

	slice     float64 // of the points pending in low and high
	pending   bool
	low, high plotter.XY
}

// add takes the next point; x never decreases.
func (t *thinner) add(p plotter.XY) {
	if t.width <= 0 {
		t.xys = append(t.xys, p)
		return
	}
	slice := math.Floor(p.X / t.width)
	if t.pending && slice != t.slice {
		t.finish()
	}
	switch {
	case !t.pending:
		t.slice, t.pending, t.low, t.high = slice, true, p, p
	case p.Y < t.low.Y:
		t.low = p
	case p.Y > t.high.Y:
		t.high = p
	}
}

// finish moves the pending slice's points into xys.
func (t *thinner) finish() {
	if !t.pending {
		return
	}
	t.pending = false
	first, second := t.low, t.high
	if second.X < first.X {
		first, second = second, first
	}
	t.xys = append(t.xys, first)
	if second != first {
		t.xys = append(t.xys, second)
	}
}
