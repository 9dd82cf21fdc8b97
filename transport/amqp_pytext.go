package transport

import (
	"math"
	"strconv"
	"strings"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// pythonText is a header value as the Python receiver prints it: py-amqp
// decodes the AMQP field, is-wire hands it over as metadata, and the
// receiver formats it with f"{value}". Integers print as they are (signed),
// floats as Python's repr (float32 widened to float64 first, as py-amqp
// does), decimals as Python's Decimal(n) / Decimal(10**scale). ok is false
// for the types the receiver does not take as a resource: void, booleans,
// byte arrays, tables, arrays and timestamps.
func pythonText(v any) (text string, ok bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case float32:
		return pythonFloat(float64(x)), true
	case float64:
		return pythonFloat(x), true
	case amqp091.Decimal:
		return pythonDecimal(int64(x.Value), int(x.Scale)), true
	default:
		return "", false
	}
}

// pythonFloat is repr(f) in Python 3: the shortest digits that read back
// as f, in positional form while the decimal point falls within 16 digits
// of the first one, else in exponent form with at least two exponent
// digits ("1e+16", "1e-05", "1.5e-07").
func pythonFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	// "-d.dddde±XX": the shortest digits and the exponent of the first.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	if x < -4 || x >= 16 {
		return sign + scientific(digits, x, "e", 2)
	}
	s := positional(digits, x)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return sign + s
}

// pythonDecimal is str(Decimal(n) / Decimal(10**scale)) in Python: the
// quotient is exact, so it keeps the fewest digits at an exponent no
// larger than 0; it prints positionally unless the exponent of its first
// digit is below -6.
func pythonDecimal(n int64, scale int) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	exp := -scale // value = n * 10^exp
	for exp < 0 && n%10 == 0 {
		n /= 10
		exp++
	}
	if n == 0 {
		return "0"
	}
	digits := strconv.FormatInt(n, 10)
	adjusted := exp + len(digits) - 1
	if adjusted < -6 {
		return sign + scientific(digits, adjusted, "E", 1)
	}
	return sign + positional(digits, adjusted)
}

// positional writes digits, the first at 10^x, as a plain decimal.
func positional(digits string, x int) string {
	switch {
	case x < 0:
		return "0." + strings.Repeat("0", -x-1) + digits
	case x+1 >= len(digits):
		return digits + strings.Repeat("0", x+1-len(digits))
	default:
		return digits[:x+1] + "." + digits[x+1:]
	}
}

// scientific writes d.ddd<mark>±XX with at least minExp exponent digits.
func scientific(digits string, x int, mark string, minExp int) string {
	s := digits[:1]
	if len(digits) > 1 {
		s += "." + digits[1:]
	}
	sign := "+"
	if x < 0 {
		sign, x = "-", -x
	}
	xs := strconv.Itoa(x)
	if len(xs) < minExp {
		xs = strings.Repeat("0", minExp-len(xs)) + xs
	}
	return s + mark + sign + xs
}
