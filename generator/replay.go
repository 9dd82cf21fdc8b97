package generator

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"
)

// maxReplayBytes bounds a replay file, which is read whole into memory.
const maxReplayBytes = 64 << 20

// Replay sends recorded values, one per tick, looping at the end:
// {replay: {file, column}}. The file is a CSV with a header row; the values
// of the named column are sent as written. It keeps state (its position):
// give each (deployment, metric) its own (see Cloner).
//
// Build one with Parse or ParseModel; the zero value is not usable.
type Replay struct {
	values []Value // shared, read-only
	set    memberSet
	i      int
}

// Next implements Model.
func (p *Replay) Next(*rand.Rand, time.Duration) Value {
	v := p.values[p.i]
	p.i = (p.i + 1) % len(p.values)
	return v
}

// Clone implements Cloner: the copy starts again at the first row.
func (p *Replay) Clone() Model { return &Replay{values: p.values, set: p.set} }

// Allows implements Bounded: one of the column's values.
func (p *Replay) Allows(text string) bool { return p.set.has(text) }

// Len is the number of recorded values (the loop's length).
func (p *Replay) Len() int { return len(p.values) }

// readReplay reads column of the CSV file at path. Errors say what is wrong
// with the file, naming it as written (name) rather than as resolved; bad is
// the parameter to blame ("file" or "column").
func readReplay(path, name, column string) (r *Replay, bad string, err error) {
	r, err = readCSVColumn(path, name, column)
	if errors.Is(err, errNoColumn) {
		return nil, "column", err
	}
	return r, "file", err
}

var errNoColumn = errors.New("no such column")

func readCSVColumn(path, name, column string) (*Replay, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if len(data) > maxReplayBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB", name, maxReplayBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM from spreadsheets
	cr := csv.NewReader(bytes.NewReader(data))
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: no header row: %w", name, err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	col := slices.Index(header, column)
	if col < 0 {
		return nil, fmt.Errorf("%s: %w %q (columns: %s)", name, errNoColumn, column, strings.Join(header, ", "))
	}
	records, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%s: no data rows after the header", name)
	}
	values := make([]Value, len(records))
	for i, rec := range records {
		text := strings.TrimSpace(rec[col])
		if msg := valueProblem(text); msg != "" {
			return nil, fmt.Errorf("%s: row %d, column %q: %s", name, i+2, column, msg)
		}
		values[i] = valueOf(text)
	}
	return &Replay{values: values, set: newMemberSet(values)}, nil
}
