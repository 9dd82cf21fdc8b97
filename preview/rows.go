package preview

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/labsea/metricsender/generator"
)

// rowRenderer writes preview rows in one format. Row may buffer; Flush
// writes what is left. Not safe for concurrent use.
type rowRenderer interface {
	Row(r metricRow) error
	Flush() error
}

// metricRow is one row: one metric of one message.
type metricRow struct {
	elapsed            time.Duration
	app, metric, value string
	replicas           string // with --operator: the observed replicas its tick saw
	fault              string // with faults: what they did to its message
}

// rowColumns are the optional columns, after value: replicas (with
// --operator), then fault (when the config has faults).
type rowColumns struct{ replicas, fault bool }

// extra returns r's optional columns as the header names them.
func (c rowColumns) extra(r metricRow) []string {
	var out []string
	if c.replicas {
		out = append(out, r.replicas)
	}
	if c.fault {
		out = append(out, r.fault)
	}
	return out
}

// names returns the optional columns' names.
func (c rowColumns) names() []string {
	return c.extra(metricRow{replicas: "replicas", fault: "fault"})
}

// newRowRenderer returns the renderer of format ("" writes nothing). cfg,
// duration and the --interval override size the table's columns before the
// first row, so it streams. cols are the optional columns.
func newRowRenderer(format string, w io.Writer, cfg *generator.Config, duration, interval time.Duration, cols rowColumns) (rowRenderer, error) {
	switch format {
	case "":
		return discardRows{}, nil
	case "csv":
		r := &csvRows{w: csv.NewWriter(w), cols: cols}
		return r, r.w.Write(append([]string{"elapsed", "app", "metric", "value"}, cols.names()...))
	case "json":
		return &jsonRows{enc: json.NewEncoder(w), cols: cols}, nil
	case "table":
		return newTableRows(w, cfg, duration, interval, cols)
	default:
		return nil, CheckFormat(format)
	}
}

// seconds formats an elapsed time as a decimal number of seconds: 0, 10, 12.5.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

type discardRows struct{}

func (discardRows) Row(metricRow) error { return nil }
func (discardRows) Flush() error        { return nil }

type csvRows struct {
	w    *csv.Writer
	cols rowColumns
}

func (r *csvRows) Row(row metricRow) error {
	return r.w.Write(append([]string{seconds(row.elapsed), row.app, row.metric, row.value}, r.cols.extra(row)...))
}

func (r *csvRows) Flush() error {
	r.w.Flush()
	return r.w.Error()
}

type jsonRows struct {
	enc  *json.Encoder
	cols rowColumns
}

// jsonRow is one line of --format json; elapsed is a JSON number. replicas
// and fault are there (empty or not) exactly when their column is.
type jsonRow struct {
	Elapsed  json.Number `json:"elapsed"`
	App      string      `json:"app"`
	Metric   string      `json:"metric"`
	Value    string      `json:"value"`
	Replicas *string     `json:"replicas,omitempty"`
	Fault    *string     `json:"fault,omitempty"`
}

func (r *jsonRows) Row(row metricRow) error {
	out := jsonRow{Elapsed: json.Number(seconds(row.elapsed)), App: row.app, Metric: row.metric, Value: row.value}
	if r.cols.replicas {
		out.Replicas = &row.replicas
	}
	if r.cols.fault {
		out.Fault = &row.fault
	}
	return r.enc.Encode(out)
}

func (r *jsonRows) Flush() error { return nil }

// tableRows aligns columns for a terminal without buffering rows (as
// text/tabwriter would until its flush): the widths of app and metric are
// known from the config, value is the last column so it needs no width,
// and elapsed is right-aligned to the width of the duration, with three
// decimals (milliseconds) when ticks can fall between whole seconds.
type tableRows struct {
	w                       io.Writer
	decimals                int // of elapsed: 0 or 3
	elapsedW, appW, metricW int
	cols                    rowColumns
	valueW                  int // with optional columns: VALUE's width
}

func newTableRows(w io.Writer, cfg *generator.Config, duration, interval time.Duration, cols rowColumns) (*tableRows, error) {
	t := &tableRows{w: w, appW: len("APP"), metricW: len("METRIC"), cols: cols, valueW: 12}
	fractional := cfg.Spread || interval%time.Second != 0 || cfg.Interval%time.Second != 0
	for _, d := range cfg.Deployments {
		fractional = fractional || d.Interval%time.Second != 0
		t.appW = max(t.appW, len(d.Name))
		for _, m := range d.Metrics {
			t.metricW = max(t.metricW, len(m.Name))
		}
	}
	if fractional {
		t.decimals = 3
	}
	t.elapsedW = max(len("ELAPSED"), len(t.elapsed(duration)))
	head := metricRow{app: "APP", metric: "METRIC", value: "VALUE", replicas: "REPLICAS", fault: "FAULT"}
	return t, t.write("ELAPSED", head)
}

func (t *tableRows) elapsed(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', t.decimals, 64)
}

func (t *tableRows) Row(row metricRow) error { return t.write(t.elapsed(row.elapsed), row) }

// write writes one line: the optional columns after a padded VALUE.
func (t *tableRows) write(elapsed string, row metricRow) error {
	extra := t.cols.extra(row)
	if len(extra) == 0 {
		_, err := fmt.Fprintf(t.w, "%*s  %-*s  %-*s  %s\n", t.elapsedW, elapsed, t.appW, row.app, t.metricW, row.metric, row.value)
		return err
	}
	line := fmt.Sprintf("%*s  %-*s  %-*s  %-*s", t.elapsedW, elapsed, t.appW, row.app, t.metricW, row.metric, t.valueW, row.value)
	for i, e := range extra {
		if i < len(extra)-1 {
			e = fmt.Sprintf("%-8s", e)
		}
		line += "  " + e
	}
	_, err := io.WriteString(t.w, strings.TrimRight(line, " ")+"\n")
	return err
}

func (t *tableRows) Flush() error { return nil }
