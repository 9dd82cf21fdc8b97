package checker_test

import (
	"fmt"
	"strings"

	"github.com/labsea/metricsender/checker"
	"github.com/labsea/metricsender/codec"
)

func ExampleChecker() {
	c := checker.New(checker.Config{})
	for _, seq := range []uint64{1, 2, 4, 4} {
		for _, p := range c.Observe(codec.Received{App: "web", Run: "r1", HasEnvelope: true, Seq: seq}) {
			fmt.Println(p)
		}
	}
	fmt.Println(c.Summary(0))
	fmt.Println("failed:", c.Failed(false))
	// Output:
	// web run r1: seq jumped to 4, 1 missing so far
	// web run r1: seq 4 again (duplicate)
	// received=4 missing=1 duplicates=1 out_of_order=0 out_of_bounds=0 decode_errors=0 injected_drops=0 injected_duplicates=0 injected_delays=0 injected_stale=0 injected_corrupt=0 injected_omits=0 injected_bursts=0
	// failed: true
}

// Two competing receivers each got part of a run: together they got
// everything, out of order only within the second file.
func ExampleMerge() {
	c := checker.New(checker.Config{})
	m := checker.NewMerge(c)
	files := map[string]string{
		"a.jsonl": `{"app":"web","metrics":{},"seq":1,"run":"r1"}` + "\n" + `{"app":"web","metrics":{},"seq":4,"run":"r1"}` + "\n",
		"b.jsonl": `{"app":"web","metrics":{},"seq":3,"run":"r1"}` + "\n" + `{"app":"web","metrics":{},"seq":2,"run":"r1"}` + "\n",
	}
	for _, name := range []string{"a.jsonl", "b.jsonl"} {
		problems, err := m.Read(strings.NewReader(files[name]), name)
		if err != nil {
			fmt.Println(err)
		}
		for _, p := range problems {
			fmt.Println(p)
		}
	}
	fmt.Println(len(m.Judge()), "problems across the files")
	fmt.Println(c.Summary(0))
	// Output:
	// b.jsonl:2: web run r1: seq 2 arrived after 3 (out of order)
	// 0 problems across the files
	// received=4 missing=0 duplicates=0 out_of_order=1 out_of_bounds=0 decode_errors=0 injected_drops=0 injected_duplicates=0 injected_delays=0 injected_stale=0 injected_corrupt=0 injected_omits=0 injected_bursts=0
}
