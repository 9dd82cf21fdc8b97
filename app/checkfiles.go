package app

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/checker"
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

// runCheck judges the union of files (see checkCommand and
// checker.Merge) and prints the problems (the first maxProblemLines) on
// stderr and the summary line on stdout. It returns errCheckFailed when
// the check fails, a usage error when a file cannot be read or holds a
// line that is not a receiver's JSON object.
func runCheck(files []string, opts checkOptions, stdout, stderr io.Writer) error {
	c := checker.New(checker.Config{Run: opts.cfg, Expect: opts.expect})
	m := checker.NewMerge(c)
	var problems []string
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return &usageError{fmt.Errorf("check: %w", err)}
		}
		ps, err := m.Read(f, path)
		_ = f.Close()
		if err != nil {
			return &usageError{err}
		}
		problems = append(problems, ps...)
	}
	problems = append(problems, m.Judge()...)
	for i, p := range problems {
		if i == maxProblemLines {
			fmt.Fprintf(stderr, "... and %d more problems\n", len(problems)-i)
			break
		}
		fmt.Fprintln(stderr, p)
	}
	fmt.Fprintln(stdout, c.Summary(0))
	if c.Failed(opts.strict) {
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
