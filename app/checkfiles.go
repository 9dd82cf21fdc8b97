package app

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "judge a run from the JSON lines of one or more receivers (receive --output json): receive --check's summary and exit status over all of them",
		Description: "The files are what competing receivers on one queue printed, or receivers of a sharded run: the union is judged as\n" +
			"one receiver's output would be. missing and duplicates count over all files (a seq in two files is a duplicate);\n" +
			"out_of_order counts within each file, since files interleave in no known order. decode_errors is 0: the receivers\n" +
			"counted theirs. Exit status 1 on missing or out-of-bounds messages (--strict: duplicates too), 2 on a bad file.",
		ArgsUsage: "FILE...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, EnvVars: []string{"CONFIG_PATH", envPrefix + "CONFIG"},
				Usage: "the run's config: values it does not allow are out of bounds (only when given)"},
			&cli.BoolFlag{Name: "strict", EnvVars: env("strict"), Usage: "duplicates fail the run too"},
			&cli.IntFlag{Name: "expect", EnvVars: env("expect"),
				Usage: "with --config, expect seqs 1..N from every deployment (a send --count N run): missing also counts seqs after the last one seen and deployments never seen, as receive --check --expect does"},
		},
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("check takes the receivers' JSON line files as arguments (receive --output json > FILE)")
			}
			var cfg *generator.Config
			if c.IsSet("config") {
				var err error
				if cfg, err = loadConfig(c); err != nil {
					return err
				}
			}
			switch n := c.Int("expect"); {
			case n < 0:
				return usagef("--expect %d: must be >= 0", n)
			case n > 0 && cfg == nil:
				return usagef("--expect needs --config: the deployments whose messages to expect")
			}
			return runCheck(c.Args().Slice(), checkOptions{cfg: cfg, strict: c.Bool("strict"), expect: c.Int("expect")},
				c.App.Writer, c.App.ErrWriter)
		},
	}
}

// maxProblemLines caps the problem lines check prints before its summary.
const maxProblemLines = 20

// runCheck judges the union of files (see checkCommand) and prints the
// problems (the first maxProblemLines) on stderr and the summary line on
// stdout. It returns errCheckFailed when the check fails, a usage error
// when a file cannot be read or holds a line that is not a receiver's
// JSON object.
//
// The lines of all files go through one checker, as one receiver that got
// them all would see them: sorted by (run, app) and seq (lines without an
// envelope first, in file order), so gaps are missing and repeats
// duplicates whichever file held them. Out of order is counted per file,
// in the order the file has them.
func runCheck(files []string, opts checkOptions, stdout, stderr io.Writer) error {
	c := newChecker(opts.cfg, nil)
	c.expectEach(opts.cfg, opts.expect)
	m := &checkMerge{streams: map[streamKey]int32{}}
	var problems []string
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return &usageError{fmt.Errorf("check: %w", err)}
		}
		ps, err := m.readFile(f, path, c)
		_ = f.Close()
		if err != nil {
			return err
		}
		problems = append(problems, ps...)
	}
	problems = append(problems, m.judge(c)...)
	for i, p := range problems {
		if i == maxProblemLines {
			fmt.Fprintf(stderr, "... and %d more problems\n", len(problems)-i)
			break
		}
		fmt.Fprintln(stderr, p)
	}
	fmt.Fprintln(stdout, c.summary(0))
	if c.failed(opts.strict) {
		return errCheckFailed
	}
	return nil
}

// checkOptions are check's flags.
type checkOptions struct {
	cfg    *generator.Config // nil: no bounds, no --expect
	strict bool
	expect int // --expect; 0 off
}

// checkMerge holds every line read, to judge them in seq order.
type checkMerge struct {
	streams map[streamKey]int32
	lines   []mergedLine
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

// readFile reads one receiver's lines into m and counts, per stream, a seq
// that arrives after a higher one of its stream in this file as out of
// order.
func (m *checkMerge) readFile(r io.Reader, path string, c *checker) ([]string, error) {
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
			return nil, usagef("%s:%d: not a line of receive --output json", path, n)
		}
		if (l.Seq == nil) != (l.Run == nil) {
			return nil, usagef("%s:%d: seq and run go together", path, n)
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
			c.counts.outOfOrder++
			problems = append(problems, fmt.Sprintf("%s:%d: %s run %s: seq %d arrived after %d (out of order)", path, n, key.app, key.run, rcv.Seq, fs.max))
		}
		fs.seen[rcv.Seq] = struct{}{}
		fs.max = max(fs.max, rcv.Seq)
	}
	if err := sc.Err(); err != nil {
		return nil, usagef("%s: %v", path, err)
	}
	return problems, nil
}

// judge runs every line through the checker: those without an envelope
// first, then each stream's in seq order (stable: the files' order among
// equal seqs).
func (m *checkMerge) judge(c *checker) []string {
	slices.SortStableFunc(m.lines, func(a, b mergedLine) int {
		return cmp.Or(cmp.Compare(a.stream, b.stream), cmp.Compare(a.r.Seq, b.r.Seq))
	})
	var problems []string
	for _, l := range m.lines {
		problems = append(problems, c.observe(l.r)...)
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
