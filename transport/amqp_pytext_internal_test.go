package transport

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// The wants are what Python 3.11 prints: repr(float) for floats (py-amqp
// widens float32), str(Decimal(n) / Decimal(10**scale)) for decimals.
func TestPythonText(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
		ok   bool
	}{
		{"string", "0.5", "0.5", true},
		{"int8", int8(-8), "-8", true},
		{"uint8", uint8(200), "200", true},
		{"int16", int16(-300), "-300", true},
		{"uint16", uint16(60000), "60000", true},
		{"int32", int32(5), "5", true},
		{"uint32", uint32(4000000000), "4000000000", true},
		{"int64 signed", int64(-5), "-5", true},
		{"int64 big", int64(math.MaxInt64), "9223372036854775807", true},
		{"quarter", 0.25, "0.25", true},
		{"whole float", 5.0, "5.0", true},
		{"1e16", 1e16, "1e+16", true},
		{"1e15", 1e15, "1000000000000000.0", true},
		{"big float", 123456789012345678.0, "1.2345678901234568e+17", true},
		{"0.0001", 0.0001, "0.0001", true},
		{"0.00001", 0.00001, "1e-05", true},
		{"1.5e-7", 1.5e-7, "1.5e-07", true},
		{"float32 widened", float32(0.1), "0.10000000149011612", true},
		{"negative", -2.5, "-2.5", true},
		{"1e300", 1e300, "1e+300", true},
		{"0.1+0.2 at run time", 0.30000000000000004, "0.30000000000000004", true},
		{"100.0", 100.0, "100.0", true},
		{"1234.5", 1234.5, "1234.5", true},
		{"negative zero", math.Copysign(0, -1), "-0.0", true},
		{"smallest", 5e-324, "5e-324", true},
		{"largest", math.MaxFloat64, "1.7976931348623157e+308", true},
		{"nan", math.NaN(), "nan", true},
		{"inf", math.Inf(1), "inf", true},
		{"-inf", math.Inf(-1), "-inf", true},
		{"decimal 0.25", amqp091.Decimal{Scale: 2, Value: 25}, "0.25", true},
		{"decimal 5", amqp091.Decimal{Value: 5}, "5", true},
		{"decimal 25 from 2500", amqp091.Decimal{Scale: 2, Value: 2500}, "25", true},
		{"decimal -1.5", amqp091.Decimal{Scale: 1, Value: -15}, "-1.5", true},
		{"decimal zero", amqp091.Decimal{Scale: 3}, "0", true},
		{"decimal 1E-9", amqp091.Decimal{Scale: 9, Value: 1}, "1E-9", true},
		{"decimal 1.2E-7", amqp091.Decimal{Scale: 8, Value: 12}, "1.2E-7", true},
		{"decimal 0.00000123", amqp091.Decimal{Scale: 8, Value: 123}, "0.00000123", true},
		{"decimal 0.000001", amqp091.Decimal{Scale: 6, Value: 1}, "0.000001", true},
		{"decimal 1 from 10", amqp091.Decimal{Scale: 1, Value: 10}, "1", true},
		{"decimal min int32", amqp091.Decimal{Scale: 10, Value: math.MinInt32}, "-0.2147483648", true},
		{"decimal 100", amqp091.Decimal{Value: 100}, "100", true},
		{"decimal 7E-255", amqp091.Decimal{Scale: 255, Value: 7}, "7E-255", true},
		{"bool", true, "", false},
		{"void", nil, "", false},
		{"bytes", []byte("x"), "", false},
		{"table", amqp091.Table{}, "", false},
		{"array", []any{"a"}, "", false},
		{"timestamp", time.Unix(0, 0), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := pythonText(tt.v)
			if got != tt.want || ok != tt.ok {
				t.Errorf("pythonText(%#v) = %q, %v; want %q, %v", tt.v, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// FuzzPythonFloat: whatever the float, the text reads back as the same
// float (repr's promise), and it has repr's shape: a '.' or an exponent.
func FuzzPythonFloat(f *testing.F) {
	f.Add(0.25)
	f.Add(1e16)
	f.Add(-1.5e-7)
	f.Fuzz(func(t *testing.T, x float64) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		s := pythonFloat(x)
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || back != x || math.Signbit(back) != math.Signbit(x) {
			t.Fatalf("pythonFloat(%v) = %q reads back as %v (%v)", x, s, back, err)
		}
		if !strings.ContainsAny(s, ".e") {
			t.Fatalf("pythonFloat(%v) = %q: neither a point nor an exponent", x, s)
		}
	})
}
