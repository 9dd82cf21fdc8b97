package generator_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/labsea/metricsender/generator"
)

// num is a generated numeric parameter: its text and its value.
type num struct {
	text  string
	v     float64
	milli int64
}

// drawMilli draws a count of thousandths in [lo, hi] and writes it either as
// a plain decimal or, when quant, as a Kubernetes quantity.
func drawMilli(t *rapid.T, label string, lo, hi int64, quant bool) num {
	m := rapid.Int64Range(lo, hi).Draw(t, label)
	if quant {
		return num{fmt.Sprintf("%dm", m), float64(m) / 1000, m}
	}
	return num{strconv.FormatFloat(float64(m)/1000, 'f', -1, 64), float64(m) / 1000, m}
}

// drawDuration draws a duration of whole milliseconds in [lo, hi] ms.
func drawDuration(t *rapid.T, label string, lo, hi int64) time.Duration {
	return time.Duration(rapid.Int64Range(lo, hi).Draw(t, label)) * time.Millisecond
}

// mustModel parses a model, failing the property on error.
func mustModel(t *rapid.T, spec, baseDir string) generator.Model {
	m, _, err := generator.ParseModel([]byte(spec), baseDir)
	if err != nil {
		t.Fatalf("ParseModel(%s): %v", spec, err)
	}
	return m
}

// near compares numbers up to floating-point noise.
func nearly(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b)) }

// checkValue asserts that v is a number within [lo, hi] that the model allows.
func checkValue(t *rapid.T, m generator.Model, v generator.Value, lo, hi float64) {
	if !v.HasNum {
		t.Fatalf("value %+v has no number", v)
	}
	if v.Num < lo-1e-9*max(1, math.Abs(lo)) || v.Num > hi+1e-9*max(1, math.Abs(hi)) {
		t.Fatalf("value %s (%v) outside [%v, %v]", v.Text, v.Num, lo, hi)
	}
	if !m.(generator.Bounded).Allows(v.Text) {
		t.Fatalf("model does not allow its own value %q", v.Text)
	}
}

// sameSequence asserts that a model and its clone give the same values
// from equally seeded streams, and returns the first model's values.
func sameSequence(t *rapid.T, m generator.Model, ats []time.Duration) []generator.Value {
	seed := rapid.Uint64().Draw(t, "seed")
	c := generator.CloneModel(m)
	r1, r2 := rand.New(rand.NewPCG(seed, 1)), rand.New(rand.NewPCG(seed, 1))
	out := make([]generator.Value, len(ats))
	for i, at := range ats {
		out[i] = m.Next(r1, at)
		if again := c.Next(r2, at); again != out[i] {
			t.Fatalf("tick %d: %+v then %+v from the same seed", i, out[i], again)
		}
	}
	return out
}

// ticks returns n tick times at a fixed interval.
func tickTimes(n int, every time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i) * every
	}
	return out
}

func TestPropUniform(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		quant := rapid.Bool().Draw(t, "quant")
		lo := drawMilli(t, "min", -5000, 5000, quant)
		hi := drawMilli(t, "max", lo.milli, 10000, quant)
		spec := fmt.Sprintf("{uniform: {min: %s, max: %s}}", lo.text, hi.text)
		var step num
		if rapid.Bool().Draw(t, "grid") {
			step = drawMilli(t, "step", 1, 3000, quant)
			spec = fmt.Sprintf("{uniform: {min: %s, max: %s, step: %s}}", lo.text, hi.text, step.text)
		}
		m := mustModel(t, spec, "")
		decimals := -1
		for _, v := range sameSequence(t, m, tickTimes(50, time.Second)) {
			checkValue(t, m, v, lo.v, hi.v)
			if step.v == 0 {
				continue
			}
			if k := (v.Num - lo.v) / step.v; !nearly(k, math.Round(k)) {
				t.Fatalf("%s is off the grid %s + k*%s", v.Text, lo.text, step.text)
			}
			if quant {
				continue
			}
			// A grid prints every value with the same decimals.
			d := len(v.Text) - strings.IndexByte(v.Text, '.')
			if !strings.Contains(v.Text, ".") {
				d = 0
			}
			if decimals >= 0 && d != decimals {
				t.Fatalf("%s printed with %d decimals, earlier values with %d", v.Text, d, decimals)
			}
			decimals = d
		}
	})
}

func TestPropWalk(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		quant := rapid.Bool().Draw(t, "quant")
		lo := drawMilli(t, "min", -5000, 5000, quant)
		hi := drawMilli(t, "max", lo.milli, 10000, quant)
		start := drawMilli(t, "start", lo.milli, hi.milli, quant)
		step := drawMilli(t, "step", 1, 2000, quant)
		m := mustModel(t, fmt.Sprintf("{walk: {start: %s, min: %s, max: %s, step: %s}}", start.text, lo.text, hi.text, step.text), "")
		values := sameSequence(t, m, tickTimes(200, time.Second))
		if !nearly(values[0].Num, start.v) {
			t.Fatalf("first value %s, want start %s", values[0].Text, start.text)
		}
		for i, v := range values {
			checkValue(t, m, v, lo.v, hi.v)
			if k := (v.Num - start.v) / step.v; !nearly(k, math.Round(k)) {
				t.Fatalf("%s is off the grid %s + k*%s", v.Text, start.text, step.text)
			}
			if i > 0 && math.Abs(v.Num-values[i-1].Num) > step.v*(1+1e-9) {
				t.Fatalf("tick %d moved from %s to %s, more than step %s", i, values[i-1].Text, v.Text, step.text)
			}
		}
	})
}

func TestPropSine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		quant := rapid.Bool().Draw(t, "quant")
		lo := drawMilli(t, "min", -5000, 5000, quant)
		hi := drawMilli(t, "max", lo.milli, 10000, quant)
		period := drawDuration(t, "period", 1, 24*3600*1000)
		const n = 1000 // samples per period; period/n is exact in ns
		phase := period / n * time.Duration(rapid.IntRange(0, n-1).Draw(t, "phase"))
		m := mustModel(t, fmt.Sprintf("{sine: {min: %s, max: %s, period: %s, phase: %s}}", lo.text, hi.text, period, phase), "")
		seen := map[bool]bool{}
		for i, v := range sameSequence(t, m, tickTimes(n+1, period/n)) {
			checkValue(t, m, v, lo.v, hi.v)
			seen[false] = seen[false] || nearly(v.Num, lo.v)
			seen[true] = seen[true] || nearly(v.Num, hi.v)
			if later := m.Next(nil, time.Duration(i)*period/n+3*period); later != v {
				t.Fatalf("value %s at %v, %s three periods later", v.Text, time.Duration(i)*period/n, later.Text)
			}
		}
		if !seen[false] || !seen[true] {
			t.Fatalf("over a period: reached min %v, max %v", seen[false], seen[true])
		}
	})
}

func TestPropRamp(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		quant := rapid.Bool().Draw(t, "quant")
		from := drawMilli(t, "from", -5000, 5000, quant)
		to := drawMilli(t, "to", -5000, 5000, quant)
		over := drawDuration(t, "over", 1, 3600*1000)
		m := mustModel(t, fmt.Sprintf("{ramp: {from: %s, to: %s, over: %s}}", from.text, to.text, over), "")
		ats := tickTimes(100, over/50+1) // to 2*over and beyond
		values := sameSequence(t, m, ats)
		sign := math.Copysign(1, to.v-from.v)
		for i, v := range values {
			checkValue(t, m, v, min(from.v, to.v), max(from.v, to.v))
			if i > 0 && (v.Num-values[i-1].Num)*sign < 0 {
				t.Fatalf("not monotone: %s then %s", values[i-1].Text, v.Text)
			}
			if ats[i] >= over && !nearly(v.Num, to.v) {
				t.Fatalf("at %v (over %v): %s, want to = %s", ats[i], over, v.Text, to.text)
			}
		}
		if !nearly(values[0].Num, from.v) {
			t.Fatalf("at 0: %s, want from = %s", values[0].Text, from.text)
		}
	})
}

func TestPropSpike(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		quant := rapid.Bool().Draw(t, "quant")
		base := drawMilli(t, "base", 0, 5000, quant)
		peak := drawMilli(t, "peak", base.milli+1, 10000, quant)
		every := drawDuration(t, "every", 1, 3600*1000)
		dur := drawDuration(t, "for", 1, int64(every/time.Millisecond))
		m := mustModel(t, fmt.Sprintf("{spike: {base: %s, peak: %s, every: %s, for: %s}}", base.text, peak.text, every, dur), "")
		// Window edges and random times.
		k := time.Duration(rapid.Int64Range(0, 1000).Draw(t, "k"))
		ats := []time.Duration{k * every, k*every + dur - 1, k*every + dur, (k+1)*every - 1}
		for range 20 {
			ats = append(ats, time.Duration(rapid.Int64Range(0, int64(1000*every)).Draw(t, "at")))
		}
		for i, v := range sameSequence(t, m, ats) {
			want := base
			if ats[i]%every < dur {
				want = peak
			}
			if !nearly(v.Num, want.v) {
				t.Fatalf("at %v (every %v, for %v): %s, want %s", ats[i], every, dur, v.Text, want.text)
			}
			checkValue(t, m, v, base.v, peak.v)
		}
	})
}

func TestPropChoice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		words := rapid.SliceOfNDistinct(rapid.StringMatching(`[a-z]{1,6}|[0-9]{1,3}(\.[0-9]{1,2})?`), 1, 8, rapid.ID).Draw(t, "values")
		weights := make([]string, len(words))
		zero := map[string]bool{}
		for i := range words {
			w := rapid.IntRange(0, 5).Draw(t, "weight")
			weights[i] = strconv.Itoa(w)
			zero[words[i]] = w == 0
		}
		if !slicesContainNonZero(weights) {
			weights[0], zero[words[0]] = "1", false
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = strconv.Quote(w)
		}
		list := "[" + strings.Join(quoted, ", ") + "]"
		for _, spec := range []string{list, "{choice: " + list + ", weights: [" + strings.Join(weights, ", ") + "]}"} {
			m := mustModel(t, spec, "")
			weighted := strings.HasPrefix(spec, "{")
			for _, v := range sameSequence(t, m, tickTimes(100, time.Second)) {
				if _, ok := zero[v.Text]; !ok || weighted && zero[v.Text] {
					t.Fatalf("%s: picked %q", spec, v.Text)
				}
				if !m.(generator.Bounded).Allows(v.Text) {
					t.Fatalf("%s: does not allow its own %q", spec, v.Text)
				}
			}
		}
	})
}

func slicesContainNonZero(weights []string) bool {
	for _, w := range weights {
		if w != "0" {
			return true
		}
	}
	return false
}

func TestPropReplay(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		rows := rapid.SliceOfN(rapid.StringMatching(`[0-9]{1,4}(\.[0-9]{1,3})?|[0-9]{1,3}Mi|[a-z]{1,5}`), 1, 30).Draw(t, "rows")
		csv := "t,v\n"
		for i, r := range rows {
			csv += fmt.Sprintf("%d,%s\n", i, r)
		}
		if err := os.WriteFile(filepath.Join(dir, "r.csv"), []byte(csv), 0o600); err != nil {
			t.Fatal(err)
		}
		m := mustModel(t, "{replay: {file: r.csv, column: v}}", dir)
		values := sameSequence(t, m, tickTimes(3*len(rows)+1, time.Second))
		for i, v := range values {
			if want := rows[i%len(rows)]; v.Text != want {
				t.Fatalf("tick %d: %q, want row %d %q (looping)", i, v.Text, i%len(rows), want)
			}
			if !m.(generator.Bounded).Allows(v.Text) {
				t.Fatalf("does not allow its own %q", v.Text)
			}
		}
	})
}

// TestPropIndependentStreams checks that a model's values depend only on
// its own stream: other models drawing in between change nothing.
func TestPropIndependentStreams(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		spec := rapid.SampledFrom([]string{
			"[1, 2, 3]", "{uniform: {min: 0, max: 1}}", "{walk: {start: 5, min: 0, max: 10, step: 1}}",
			"{choice: [a, b], weights: [2, 1]}",
		}).Draw(t, "model")
		seed := rapid.Uint64().Draw(t, "seed")
		a, b := mustModel(t, spec, ""), mustModel(t, spec, "")
		other := mustModel(t, "{uniform: {min: 0, max: 100}}", "")
		ra, rb, ro := rand.New(rand.NewPCG(seed, 7)), rand.New(rand.NewPCG(seed, 7)), rand.New(rand.NewPCG(seed, 8))
		for i := range 50 {
			for range rapid.IntRange(0, 3).Draw(t, "others") {
				other.Next(ro, 0)
			}
			if va, vb := a.Next(ra, 0), b.Next(rb, 0); va != vb {
				t.Fatalf("tick %d: %+v vs %+v", i, va, vb)
			}
		}
	})
}
