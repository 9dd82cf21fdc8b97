package generator

import (
	"testing"
	"unsafe"
)

// TestNumFormatAgain: a number that prints as the last value's text gives
// that very value back; anything else is formatted anew, even when the
// last text is the same number written another way (a list's "1.0"
// before an override was cleared).
func TestNumFormatAgain(t *testing.T) {
	plain := numFormat{dec: 3}
	tests := []struct {
		name string
		f    numFormat
		v    float64
		last Value
		want string
		same bool
	}{
		{"unchanged", plain, 0.5004, Value{Text: "0.5", Num: 0.5, HasNum: true}, "0.5", true},
		{"moved", plain, 0.51, Value{Text: "0.5", Num: 0.5, HasNum: true}, "0.51", false},
		{"same number, other text", plain, 1, Value{Text: "1.0", Num: 1, HasNum: true}, "1", false},
		{"no number before", plain, 2, Value{Text: "high"}, "2", false},
		{"fixed decimals", numFormat{dec: 2, fixed: true}, 1, Value{Text: "1.00", Num: 1, HasNum: true}, "1.00", true},
		{"quantity", numFormat{quant: true, dec: 3}, 0.75, Value{Text: "750m", Num: 0.75, HasNum: true}, "750m", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.f.again(tt.v, tt.last)
			if got.Text != tt.want {
				t.Errorf("again(%v, %q) = %q, want %q", tt.v, tt.last.Text, got.Text, tt.want)
			}
			// The same string, not an equal one: no new allocation.
			if same := unsafe.StringData(got.Text) == unsafe.StringData(tt.last.Text); same != tt.same {
				t.Errorf("again(%v, %q) reused the last string: %v, want %v", tt.v, tt.last.Text, same, tt.same)
			}
		})
	}
}
