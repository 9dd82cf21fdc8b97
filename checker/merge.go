package checker

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// Merge judges the lines of one or more receivers (`receive --output
// json`, codec.AppendJSONLine) as one receiver that got them all would see
// them: through one Checker, sorted by (run, app) and seq (lines without
// an envelope first, in the order read), so gaps are missing and repeats
// duplicates whichever file held them. Out of order is counted per file,
// in the order the file has them, since files interleave in no known
// order. Read every file, then Judge once. Not safe for concurrent use.
type Merge struct {
	c       *Checker
	streams map[streamKey]int32
	lines   []mergedLine
}

// NewMerge returns a Merge that judges with c.
func NewMerge(c *Checker) *Merge {
	return &Merge{c: c, streams: map[streamKey]int32{}}
}

// mergedLine is one received message and its stream (-1: no envelope).
type mergedLine struct {
	stream int32
	r      codec.Received
}

// checkLine is one line of `receive --output json`. Fields it does not
// know (a newer receiver's) are ignored.
type checkLine struct {
	App     *string           `json:"app"`
	Topic   string            `json:"topic"`
	Metrics map[string]string `json:"metrics"`
	Seq     *uint64           `json:"seq"`
	Run     *string           `json:"run"`
	Fault   string            `json:"fault"`
	Dropped uint64            `json:"dropped"`
}

// Read reads one receiver's lines from r (name is the file's, for the
// problems and errors) and returns, as problems, each seq that arrives
// after a higher one of its stream in this file: out of order. It fails
// on a line that is not a receiver's JSON object, or on a read error.
func (m *Merge) Read(r io.Reader, name string) ([]string, error) {
	type fileStream struct {
		max  uint64
		seen map[uint64]struct{}
	}
	own := map[int32]*fileStream{}
	var problems []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var l checkLine
		if err := json.Unmarshal(line, &l); err != nil || l.App == nil {
			return nil, fmt.Errorf("%s:%d: not a line of receive --output json", name, n)
		}
		if (l.Seq == nil) != (l.Run == nil) {
			return nil, fmt.Errorf("%s:%d: seq and run go together", name, n)
		}
		rcv := codec.Received{App: *l.App, Topic: l.Topic, Metrics: lineMetrics(l.Metrics)}
		if l.Seq == nil {
			m.lines = append(m.lines, mergedLine{stream: -1, r: rcv})
			continue
		}
		rcv.HasEnvelope, rcv.Seq, rcv.Run = true, *l.Seq, *l.Run
		rcv.Fault, rcv.Dropped = l.Fault, l.Dropped
		key := streamKey{run: rcv.Run, app: rcv.App}
		id, ok := m.streams[key]
		if !ok {
			id = int32(len(m.streams))
			m.streams[key] = id
		}
		m.lines = append(m.lines, mergedLine{stream: id, r: rcv})
		fs := own[id]
		if fs == nil {
			fs = &fileStream{max: rcv.Seq, seen: map[uint64]struct{}{}}
			own[id] = fs
		}
		if _, again := fs.seen[rcv.Seq]; !again && rcv.Seq < fs.max {
			m.c.counts.outOfOrder++
			problems = append(problems, fmt.Sprintf("%s:%d: %s run %s: seq %d arrived after %d (out of order)", name, n, key.app, key.run, rcv.Seq, fs.max))
		}
		fs.seen[rcv.Seq] = struct{}{}
		fs.max = max(fs.max, rcv.Seq)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return problems, nil
}

// Judge runs every line read through the Checker: those without an
// envelope first, then each stream's in seq order (stable: the files'
// order among equal seqs), and returns the problems. Its Summary and
// Failed then speak for all the files.
func (m *Merge) Judge() []string {
	slices.SortStableFunc(m.lines, func(a, b mergedLine) int {
		return cmp.Or(cmp.Compare(a.stream, b.stream), cmp.Compare(a.r.Seq, b.r.Seq))
	})
	var problems []string
	for _, l := range m.lines {
		problems = append(problems, m.c.Observe(l.r)...)
	}
	return problems
}

// lineMetrics turns a line's metrics into the decoder's form, sorted by name.
func lineMetrics(ms map[string]string) []generator.Metric {
	out := make([]generator.Metric, 0, len(ms))
	for name, text := range ms {
		out = append(out, generator.Metric{Name: name, Value: generator.Value{Text: text}})
	}
	slices.SortFunc(out, func(a, b generator.Metric) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
