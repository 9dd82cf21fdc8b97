package app

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
// ticks, point decimation, a paletted PNG.

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

// decimate thins a line of many more points than the plot has pixels
// across: of each of n equal slices of [lo, hi] it keeps the lowest and
// the highest point, in time order. A day at 1 s (86400 points) then draws
// as fast as 2n points and still shows every spike and dip.
func decimate(xys plotter.XYs, lo, hi float64, n int) plotter.XYs {
	if len(xys) <= 2*n || hi <= lo {
		return xys
	}
	width := (hi - lo) / float64(n)
	slice := func(x float64) float64 { return math.Floor((x - lo) / width) }
	out := make(plotter.XYs, 0, 2*n+2)
	for i := 0; i < len(xys); {
		b, low, high, j := slice(xys[i].X), i, i, i
		for ; j < len(xys) && slice(xys[j].X) == b; j++ {
			if xys[j].Y < xys[low].Y {
				low = j
			}
			if xys[j].Y > xys[high].Y {
				high = j
			}
		}
		out = append(out, xys[min(low, high)])
		if low != high {
			out = append(out, xys[max(low, high)])
		}
		i = j
	}
	return out
}
