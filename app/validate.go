package app

import (
	"cmp"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/transport"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a config file: print every problem (exit 2) or what would be sent (exit 0)",
		ArgsUsage: "[FILE]",
		Flags: []cli.Flag{configFlag(),
			&cli.IntFlag{Name: "shards", EnvVars: env("shards"), DefaultText: "none",
				Usage: "also print how many deployments (and messages a minute) each of N shards would send"}},
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			path := c.String("config")
			switch {
			case c.NArg() == 1 && !c.IsSet("config"):
				path = c.Args().First()
			case c.NArg() > 0:
				return usagef("validate takes one file, by --config or as its argument")
			}
			shards := c.Int("shards")
			if c.IsSet("shards") && shards < 1 {
				return usagef("--shards %d: must be >= 1", shards)
			}
			cfg, err := generator.Load(path)
			if err != nil {
				return &usageError{err}
			}
			return printSummary(c.App.Writer, cfg, shards)
		},
	}
}

// printSummary tells what a valid config would send.
// With shards > 0 it ends with the deployments of each shard.
func printSummary(w io.Writer, cfg *generator.Config, shards int) error {
	var b strings.Builder
	perMinute := generator.PerMinute(cfg, cfg.Deployments)
	// A manifest's config says which ConfigMap and key it came from.
	from := cfg.Path
	if cfg.Source != "" {
		from += ": " + cfg.Source
	}
	fmt.Fprintf(&b, "%s: OK: %d deployments, %.4g messages a minute, default interval %s\n",
		from, len(cfg.Deployments), perMinute, cfg.Interval)
	// The exchange in effect, whether the file names one or not; the URI
	// only when the file has one (flags and env may still override both).
	exchange := cmp.Or(cfg.Connection.Exchange, generator.DefaultExchange)
	if uri := fileURI(cfg); uri != "" {
		fmt.Fprintf(&b, "connection: uri %s, exchange %q\n", transport.RedactURI(uri), exchange)
	} else {
		fmt.Fprintf(&b, "connection: exchange %q\n", exchange)
	}
	for _, d := range cfg.Deployments {
		fmt.Fprintf(&b, "%s every %s:", codec.Topic(d.Name), cfg.IntervalOf(d))
		for _, m := range d.Metrics {
			fmt.Fprintf(&b, " %s=%s", m.Name, generator.DescribeSpec(m.Spec))
		}
		if f := cmp.Or(d.Faults, cfg.Faults); f != nil && len(f.Specs) > 0 {
			fmt.Fprintf(&b, " faults=%s", generator.DescribeSpec(f.Spec))
		}
		if d.State != nil {
			fmt.Fprintf(&b, " state=%s", generator.DescribeSpec(d.State))
		}
		b.WriteString("\n")
	}
	if shards > 0 {
		printShards(&b, cfg, shards)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
