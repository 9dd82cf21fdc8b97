package app

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/transport"
)

// defaultConfigPath is where the ConfigMap is mounted in the pod.
const defaultConfigPath = "/config/metricsender.yaml"

// envPrefix prefixes every flag's environment variable.
const envPrefix = "METRICSENDER_"

// env returns the environment variable names of a flag: METRICSENDER_<FLAG>.
func env(flag string) []string {
	return []string{envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))}
}

func configFlag() cli.Flag {
	return &cli.StringFlag{
		Name: "config", Aliases: []string{"c"}, Value: defaultConfigPath,
		Usage:   "the config file (the ConfigMap's metricsender.yaml), or a Kubernetes manifest holding that ConfigMap",
		EnvVars: []string{"CONFIG_PATH", envPrefix + "CONFIG"},
	}
}

func connectionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "uri", EnvVars: env("uri"), DefaultText: transport.DefaultAMQPURI,
			Usage: "broker URI, or a comma-separated list of the nodes of one cluster (tried in random order; on a loss, the next); overrides connection.uri(s) of the config"},
		&cli.StringFlag{Name: "transport", Aliases: []string{"t"}, EnvVars: env("transport"),
			Usage: "one of " + strings.Join(transport.Names(), ", ") + " (default: from the URI's scheme, else amqp)"},
		&cli.StringFlag{Name: "exchange", EnvVars: env("exchange"), DefaultText: generator.DefaultExchange,
			Usage: "the is-wire exchange; overrides connection.exchange"},
	}
}

// brokerFlags are the flags of a command that talks to a broker.
func brokerFlags() []cli.Flag {
	flags := append(connectionFlags(), tlsFlags()...)
	return append(flags, connectTimeoutFlag())
}

func connectTimeoutFlag() cli.Flag {
	return &cli.DurationFlag{Name: "connect-timeout", EnvVars: env("connect-timeout"),
		Usage: "give up (exit 1) when the broker cannot be reached within this time; 0 retries until stopped"}
}

func httpAddrFlag(def string) cli.Flag {
	return &cli.StringFlag{Name: "http-addr", Value: def, EnvVars: env("http-addr"),
		Usage: "serve /healthz, /readyz and /metrics on this address; empty turns it off"}
}

func logFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: env("log-level"), Usage: "debug, info, warn or error"},
		&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: env("log-format"), Usage: "text or json"},
	}
}

// connection is the resolved broker choice of a command.
type connection struct {
	transport string
	uri       string
	exchange  string
	tls       *tls.Config // nil: the transport's defaults
	timeout   time.Duration
}

// resolveConnection applies flag > env > config file > default to the broker
// settings. cfg may be nil (receive without --config).
func resolveConnection(c *cli.Context, cfg *generator.Config) (connection, error) {
	var fileExchange string
	if cfg != nil {
		fileExchange = cfg.Connection.Exchange
	}
	conn := connection{
		uri:      cmp.Or(c.String("uri"), fileURI(cfg)),
		exchange: cmp.Or(c.String("exchange"), fileExchange, generator.DefaultExchange),
	}
	scheme := ""
	var err error
	if conn.uri != "" {
		if scheme, err = uriScheme(conn.uri); err != nil {
			return connection{}, err
		}
	}
	byScheme := map[string]string{"amqp": "amqp", "amqps": "amqp", "nats": "nats"}
	conn.transport = c.String("transport")
	switch {
	case conn.transport == "" && scheme == "":
		conn.transport = "amqp"
	case conn.transport == "":
		t, ok := byScheme[scheme]
		if !ok {
			return connection{}, usagef("--uri %s: unknown scheme %q (amqp, amqps or nats)", transport.RedactURI(conn.uri), scheme)
		}
		conn.transport = t
	case !contains(transport.Names(), conn.transport):
		return connection{}, usagef("--transport %q: unknown (one of %s)", conn.transport, strings.Join(transport.Names(), ", "))
	case conn.transport != "gochannel" && scheme != "" && byScheme[scheme] != conn.transport:
		return connection{}, usagef("--transport %s does not take a %s:// URI (%s)", conn.transport, scheme, transport.RedactURI(conn.uri))
	}
	if conn.tls, err = tlsConfig(c); err != nil {
		return connection{}, err
	}
	conn.timeout = c.Duration("connect-timeout")
	return conn, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// loadConfig loads the file named by --config; every failure is a usage error (exit 2).
func loadConfig(c *cli.Context) (*generator.Config, error) {
	// Loading a big config makes garbage several times its size (the YAML
	// nodes of each batch of deployments): hand it back to the OS before
	// the run. (Collecting eagerly while loading cost 1-2 s of CPU for
	// 100k deployments and no longer lowered the peak once the loader
	// stopped holding the whole node tree.)
	cfg, err := generator.Load(c.String("config"))
	debug.FreeOSMemory()
	if err != nil {
		return nil, &usageError{err}
	}
	return cfg, nil
}

// checkOutput validates --output.
func checkOutput(c *cli.Context) error {
	switch o := c.String("output"); o {
	case "text", "json":
		return nil
	default:
		return usagef("--output %q: must be text or json", o)
	}
}

func warnPasswordInFile(logger *slog.Logger, cfg *generator.Config) {
	if cfg != nil && transport.HasPassword(append([]string{cfg.Connection.URI}, cfg.Connection.URIs...)...) {
		logger.Warn("the config file holds a broker password; pass the URI in METRICSENDER_URI from a Secret instead",
			"file", cfg.Path, "uri", transport.RedactURI(fileURI(cfg)))
	}
}

// seedOf is the run's seed by precedence: --seed, then the config's seed;
// ok is false when neither is set (the caller picks one and says which).
func seedOf(c *cli.Context, cfg *generator.Config) (seed int64, ok bool) {
	switch {
	case c.IsSet("seed"):
		return c.Int64("seed"), true
	case cfg.Seed != nil:
		return *cfg.Seed, true
	}
	return 0, false
}

// defaultAppMetricsLimit keeps per-deployment series to what a Prometheus
// scrape handles well: 10k deployments of two metrics are 30k series;
// 100k are 300k, a 17 MB scrape that takes seconds and 100-200 MiB of the
// sender's memory while it is built (BENCHMARKS.md).
const defaultAppMetricsLimit = 10_000

// appMetricsLimitFlag is --app-metrics-limit; what it limits is the command's.
func appMetricsLimitFlag(usage string) cli.Flag {
	return &cli.IntFlag{Name: "app-metrics-limit", Value: defaultAppMetricsLimit, EnvVars: env("app-metrics-limit"), Usage: usage}
}

// appMetricsLimitOf reads --app-metrics-limit (>= 0).
func appMetricsLimitOf(c *cli.Context) (int, error) {
	n := c.Int("app-metrics-limit")
	if n < 0 {
		return 0, usagef("--app-metrics-limit %d: must be >= 0", n)
	}
	return n, nil
}

// intervalFlag is --interval of send and preview. Its zero value means
// "not given", so the help names the real default instead of 0s.
func intervalFlag() cli.Flag {
	return &cli.DurationFlag{Name: "interval", EnvVars: env("interval"),
		DefaultText: fmt.Sprintf("the config's interval, else %.0fs", generator.DefaultInterval.Seconds()),
		Usage:       "tick interval; overrides the config's default interval, not per-deployment ones"}
}

// seedFlag is --seed of send and preview; like --interval, 0 is "not given".
func seedFlag() cli.Flag {
	return &cli.Int64Flag{Name: "seed", EnvVars: env("seed"),
		DefaultText: "the config's seed, else a random one, printed on stderr",
		Usage:       "seed of every random value (same seed + same config = same values); overrides the config's seed"}
}
