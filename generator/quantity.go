package generator

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// maxMagnitude bounds numeric model parameters, so that every value fits in
// an int64 count of thousandths (resource.Quantity's milli form).
const maxMagnitude = 9e15

// noStepDecimals is how many decimals a model without a step prints at most.
const noStepDecimals = 3

// number is a numeric model parameter as written in the config.
type number struct {
	text   string  // as written
	v      float64 // in base units: "200m" -> 0.2, "1Ki" -> 1024
	quant  bool    // written with a Kubernetes suffix
	binary bool    // with a binary suffix (Ki, Mi, ...)
	dec    int     // decimals needed to write v exactly
	ok     bool    // parsed (false: absent or invalid)
}

// parseNumber parses a plain decimal ("0.5", "256", "1e3") or a Kubernetes
// quantity ("200m", "1Gi"). Quantities finer than a thousandth are refused:
// generated quantities are printed from a count of thousandths.
func parseNumber(text string) (number, error) {
	q, err := resource.ParseQuantity(text)
	if err != nil {
		return number{}, fmt.Errorf("not a number or Kubernetes quantity: %q", text)
	}
	n := number{text: text, ok: true}
	last := text[len(text)-1]
	n.quant = last >= 'a' && last <= 'z' || last >= 'A' && last <= 'Z'
	if n.quant {
		n.v = q.AsApproximateFloat64()
		if math.Abs(n.v) <= maxMagnitude {
			// From the thousandths, as generated values are: 1234m is
			// 1234/1000, not 1234*1e-3 (a different float).
			n.v = float64(q.MilliValue()) / 1000
		}
		n.binary = q.Format == resource.BinarySI
	} else if n.v, err = strconv.ParseFloat(text, 64); err != nil {
		n.v = q.AsApproximateFloat64()
	}
	if math.IsNaN(n.v) || math.Abs(n.v) > maxMagnitude {
		return number{}, fmt.Errorf("out of range (at most %g in magnitude): %q", maxMagnitude, text)
	}
	if n.quant {
		milli := q.MilliValue()
		if q.Cmp(*resource.NewMilliQuantity(milli, q.Format)) != 0 {
			return number{}, fmt.Errorf("finer than 1m is not supported: %q", text)
		}
		n.dec = milliDecimals(milli)
	} else {
		n.dec = plainDecimals(text, n.v)
	}
	return n, nil
}

// milliDecimals is the number of decimals a count of thousandths needs.
func milliDecimals(milli int64) int {
	switch {
	case milli%1000 == 0:
		return 0
	case milli%100 == 0:
		return 1
	case milli%10 == 0:
		return 2
	}
	return 3
}

// plainDecimals is the number of decimals of a plain number as written
// ("0.50" has 2), or of its shortest form when written with an exponent.
func plainDecimals(text string, v float64) int {
	if strings.ContainsAny(text, "eE") {
		text = strconv.FormatFloat(v, 'f', -1, 64)
	}
	dot := strings.IndexByte(text, '.')
	if dot < 0 {
		return 0
	}
	return min(len(text)-dot-1, 15)
}

// valueOf is the Value of a text sent as written: Num is set when the text
// is a number or a quantity.
func valueOf(text string) Value {
	n, err := parseNumber(text)
	if err != nil {
		return Value{Text: text}
	}
	return Value{Text: text, Num: n.v, HasNum: true}
}

// numFormat prints a model's generated numbers.
type numFormat struct {
	quant  bool // canonical Kubernetes quantities, else plain decimals
	binary bool // quantities in BinarySI (the model used Ki, Mi, ...)
	dec    int  // resolution: decimals of the base-unit value
	fixed  bool // plain numbers always with dec decimals (a grid), else trimmed
	loose  bool // a bound has more decimals than dec: rounding may cross it
}

// formatFor is the format of a model whose numeric parameters are nums:
// quantities if any of them was written as one. With a grid (step models),
// dec is the decimals the grid needs, else noStepDecimals.
func formatFor(grid bool, dec int, nums ...number) numFormat {
	f := numFormat{dec: noStepDecimals, fixed: grid}
	if grid {
		f.dec = dec
	}
	for _, n := range nums {
		f.quant = f.quant || n.quant
		f.binary = f.binary || n.binary
	}
	if f.quant {
		f.dec = min(f.dec, 3)
	}
	for _, n := range nums {
		f.loose = f.loose || !grid && n.dec > f.dec
	}
	return f
}

// round rounds v to the format's resolution.
func (f numFormat) round(v float64) float64 {
	scale := math.Pow10(f.dec)
	r := math.Round(v*scale) / scale
	if r == 0 {
		return 0 // no "-0"
	}
	return r
}

// value formats v: a canonical quantity ("750m", "2", "1Gi") or a plain
// decimal, with Num the printed number in base units.
func (f numFormat) value(v float64) Value {
	r := f.round(v)
	if f.quant {
		milli := int64(math.Round(r * 1000))
		format := resource.DecimalSI
		if f.binary {
			format = resource.BinarySI
		}
		return Value{Text: resource.NewMilliQuantity(milli, format).String(), Num: float64(milli) / 1000, HasNum: true}
	}
	var buf [32]byte
	text := string(f.appendDecimal(buf[:0], r))
	num, _ := strconv.ParseFloat(text, 64)
	return Value{Text: text, Num: num, HasNum: true}
}

// num is value(v).Num, without making the text a string.
func (f numFormat) num(v float64) float64 {
	r := f.round(v)
	if f.quant {
		return float64(int64(math.Round(r*1000))) / 1000
	}
	var buf [32]byte
	num, _ := strconv.ParseFloat(string(f.appendDecimal(buf[:0], r)), 64)
	return num
}

// again returns last when v prints as last's text, else value(v): a
// number that has not moved keeps its string, and makes no new one.
func (f numFormat) again(v float64, last Value) Value {
	if !f.quant {
		var buf [32]byte
		if text := f.appendDecimal(buf[:0], f.round(v)); string(text) == last.Text {
			return last
		}
	}
	return f.value(v)
}

// appendDecimal appends r, already rounded, as a plain decimal: dec
// decimals, trailing zeros trimmed unless fixed.
func (f numFormat) appendDecimal(dst []byte, r float64) []byte {
	dst = strconv.AppendFloat(dst, r, 'f', f.dec, 64)
	if !f.fixed && bytes.IndexByte(dst, '.') >= 0 {
		dst = bytes.TrimRight(bytes.TrimRight(dst, "0"), ".")
	}
	return dst
}

// tolerance is how far a received number may lie outside a model's range
// and still be one the model printed: floating-point noise, plus half the
// resolution when rounding to it can cross a bound (a bound written with
// more decimals than are printed).
func (f numFormat) tolerance(x float64) float64 {
	tol := 1e-9 * max(1, math.Abs(x))
	if f.loose {
		tol += math.Pow10(-f.dec) / 2
	}
	return tol
}

// numberOf parses a received value text for a bounds check.
func numberOf(text string) (float64, bool) {
	if plainNumber(text) {
		// The common case, without resource.ParseQuantity's cost.
		if v, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(v, 0) {
			return v, true
		}
	}
	n, err := parseNumber(text)
	if err != nil {
		return 0, false
	}
	return n.v, true
}

// plainNumber reports whether text holds only the characters of a plain
// decimal (digits, sign, point, exponent), so strconv and Kubernetes agree on it.
func plainNumber(text string) bool {
	if text == "" {
		return false
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}
