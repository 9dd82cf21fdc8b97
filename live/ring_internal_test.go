package live

import (
	"slices"
	"testing"
)

// A ring never holds more than its capacity, and a reader resumes where
// it left off, losing only what was overwritten meanwhile.
func TestRing(t *testing.T) {
	tests := []struct {
		name      string
		cap, push int
		from      uint64
		n         int
		want      []int
		wantNext  uint64
	}{
		{name: "empty", cap: 3, want: []int{}},
		{name: "not full", cap: 3, push: 2, want: []int{0, 1}, wantNext: 2},
		{name: "wrapped: the last cap", cap: 3, push: 7, want: []int{4, 5, 6}, wantNext: 7},
		{name: "resume", cap: 3, push: 7, from: 6, n: -1, want: []int{6}, wantNext: 7},
		{name: "resume after overwrite", cap: 3, push: 7, from: 1, n: -1, want: []int{4, 5, 6}, wantNext: 7},
		{name: "at most n", cap: 5, push: 5, n: 2, want: []int{3, 4}, wantNext: 5},
		{name: "nothing new", cap: 3, push: 4, from: 4, n: -1, want: []int{}, wantNext: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing[int](tt.cap)
			for i := range tt.push {
				r.push(i)
			}
			if r.held > tt.cap || len(r.buf) != tt.cap {
				t.Errorf("holds %d items in %d, capacity %d", r.held, len(r.buf), tt.cap)
			}
			n := tt.n
			if n == 0 {
				n = -1
			}
			got, next := r.since(tt.from, n)
			if !slices.Equal(got, tt.want) || next != tt.wantNext {
				t.Errorf("since(%d, %d) = %v, %d; want %v, %d", tt.from, n, got, next, tt.want, tt.wantNext)
			}
		})
	}
}

func TestRingGrown(t *testing.T) {
	r := newRing[int](3)
	for i := range 5 {
		r.push(i)
	}
	g := r.grown(5)
	g.push(5)
	g.push(6)
	got, next := g.since(0, -1)
	if want := []int{2, 3, 4, 5, 6}; !slices.Equal(got, want) || next != 7 {
		t.Errorf("grown: %v, %d; want %v, 7", got, next, want)
	}
	if r.grown(2) != r {
		t.Error("grown to a smaller size made a new ring")
	}
}
