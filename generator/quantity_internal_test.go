package generator

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"

	"pgregory.net/rapid"
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

// TestNextNumIsNextsNum: an expression's var reads nextNum instead of
// Next().Num; both must give the same number from the same stream, for
// every numeric model, plain or quantity, on a grid or not.
func TestNextNumIsNextsNum(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lo := rapid.IntRange(-5000, 5000).Draw(t, "lo")
		hi := lo + rapid.IntRange(1, 5000).Draw(t, "span")
		unit := rapid.SampledFrom([]string{"", "m", "Mi"}).Draw(t, "unit")
		q := func(n int) string {
			if unit == "" {
				return fmt.Sprintf("%g", float64(n)/1000)
			}
			return fmt.Sprintf("%d%s", n, unit)
		}
		def := rapid.SampledFrom([]string{
			`{"sine": {"min": "%[1]s", "max": "%[2]s", "period": "7m"}}`,
			`{"uniform": {"min": "%[1]s", "max": "%[2]s"}}`,
			`{"uniform": {"min": "%[1]s", "max": "%[2]s", "step": "%[3]s"}}`,
			`{"walk": {"start": "%[1]s", "min": "%[1]s", "max": "%[2]s", "step": "%[3]s"}}`,
			`{"ramp": {"from": "%[1]s", "to": "%[2]s", "over": "5m"}}`,
		}).Draw(t, "model")
		text := fmt.Sprintf(def, q(lo), q(hi), q(max(1, (hi-lo)/7)))
		a, _, err := ParseModel([]byte(text), "")
		if err != nil {
			t.Skipf("%s: %v", text, err) // a combination the loader refuses
		}
		b := CloneModel(a)
		n, ok := b.(numberModel)
		if !ok {
			t.Fatalf("%s: %T has no nextNum", text, b)
		}
		seed := rapid.Uint64().Draw(t, "seed")
		ra, rb := rand.New(rand.NewPCG(seed, 1)), rand.New(rand.NewPCG(seed, 1))
		for i := range 20 {
			at := time.Duration(i) * 37 * time.Second
			if want, got := a.Next(ra, at).Num, n.nextNum(rb, at); want != got {
				t.Fatalf("%s at %v: nextNum %v, Next().Num %v", text, at, got, want)
			}
		}
	})
}
