package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	cmoptions "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd/options"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/transport"
)

// program is the binary's name, in help and errors.
const program = "metricsender-metrics-api"

// envPrefix prefixes the environment variable of each of the bridge's own
// flags (METRICSENDER_URI for --uri), as in metricsender.
const envPrefix = "METRICSENDER_"

// options are the parsed command line.
type options struct {
	// The bus, as `metricsender receive` reads it.
	transport, uri, exchange string
	tls                      *tls.Config // nil: the transport's defaults
	connectTimeout           time.Duration
	topics                   []string

	run    *generator.Config // --config; nil without it
	maxAge time.Duration
	listen string
	// kubeconfig feeds the delegated authentication and authorization
	// (unless their own flags are given); "" is the in-cluster config.
	kubeconfig string
	logLevel   string
	logFormat  string

	// server holds the API server library's options (serving, delegated
	// authentication and authorization, audit, features), filled from
	// its own flags and from --listen and --kubeconfig.
	server *cmoptions.CustomMetricsAdapterServerOptions

	// connect, when not nil, replaces transport.New (tests hand in a pair
	// they publish to).
	connect func(ctx context.Context, logger *slog.Logger) (transport.Pair, error)
}

// usageError marks bad flags and a bad --config: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// errHelp: --help was asked for and printed.
var errHelp = errors.New("help printed")

// parseFlags parses args (without the program name). getenv supplies the
// METRICSENDER_* variables of flags not given. Every problem is a
// *usageError naming its flag; --help prints the help to stdout and
// returns errHelp.
func parseFlags(args []string, getenv func(string) string, stdout io.Writer) (*options, error) {
	o := &options{server: cmoptions.NewCustomMetricsAdapterServerOptions()}
	// A generated certificate stays in memory unless --cert-dir is given:
	// the library's default directory is relative to the working directory.
	o.server.SecureServing.ServerCert.CertDirectory = ""

	fs := pflag.NewFlagSet(program, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var uri, tlsCA, tlsCert, tlsKey, config string
	fs.StringVarP(&o.transport, "transport", "t", "", "one of "+strings.Join(transport.Names(), ", ")+" (default: from the URI's scheme, else amqp)")
	fs.StringVar(&uri, "uri", "", "broker URI, or a comma-separated list of the nodes of one cluster; overrides connection.uri(s) of --config (default "+transport.DefaultAMQPURI+")")
	fs.StringVar(&o.exchange, "exchange", "", "the is-wire exchange; overrides connection.exchange (default "+generator.DefaultExchange+")")
	fs.StringVar(&tlsCA, "tls-ca", "", "PEM file of the CA that signed the broker's certificate (amqps://); default: the system's")
	fs.StringVar(&tlsCert, "tls-cert", "", "PEM client certificate for amqps:// (with --tls-key)")
	fs.StringVar(&tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.DurationVar(&o.connectTimeout, "connect-timeout", 0, "give up (exit 1) when the broker cannot be reached within this time; 0 retries until stopped")
	fs.StringSliceVar(&o.topics, "topic", []string{codec.TopicPrefix + "*"}, "binding pattern (* one word, # zero or more); repeatable")
	fs.StringVarP(&config, "config", "c", "", "optional: the sender's config file (or a manifest holding its ConfigMap): its kubernetes: sections put apps in a namespace and on a workload, its metric names are known from the start")
	fs.DurationVar(&o.maxAge, "max-age", 0, "a value older than this (since it was received) is absent; 0 means three times the interval each app is seen at, at least 1s")
	fs.StringVar(&o.listen, "listen", ":6443", "serve the metrics APIs over HTTPS on this address (port 0: any free port, printed)")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster the aggregator's requests are authenticated and authorized with (delegation); default: the in-cluster config")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "text or json")
	help := fs.BoolP("help", "h", false, "print this help")
	own := fs.FlagUsages()
	var ownNames []string
	fs.VisitAll(func(f *pflag.Flag) { ownNames = append(ownNames, f.Name) })

	lib := pflag.NewFlagSet("apiserver", pflag.ContinueOnError)
	o.server.AddFlags(lib)
	fs.AddFlagSet(lib)

	if err := fs.Parse(args); err != nil {
		return nil, &usageError{err}
	}
	if *help {
		fmt.Fprintf(stdout, "Usage: %s [flags]\n\n"+
			"Serves the latest value of every app's metrics from the bus (Metrics.*) as the Kubernetes\n"+
			"external metrics API (external.metrics.k8s.io/v1beta1: metric = header name, label app=<name>)\n"+
			"and custom metrics API (custom.metrics.k8s.io/v1beta1: Object metrics on deployments/<name>).\n"+
			"Every flag of the first list also reads METRICSENDER_<FLAG> (--config: CONFIG_PATH too).\n\n"+
			"Flags:\n%s\nAPI server flags (k8s.io/apiserver; --kubeconfig fills the *-kubeconfig ones):\n%s",
			program, own, lib.FlagUsages())
		return nil, errHelp
	}
	if fs.NArg() > 0 {
		return nil, usagef("takes no arguments, got %q", fs.Args())
	}
	for _, name := range ownNames {
		if err := fromEnv(fs, name, getenv); err != nil {
			return nil, err
		}
	}
	if !fs.Changed("config") {
		if v := getenv("CONFIG_PATH"); v != "" {
			config = v
		}
	}
	for _, name := range []string{"secure-port", "bind-address"} {
		if fs.Changed(name) {
			return nil, usagef("--%s: give --listen HOST:PORT instead", name)
		}
	}
	if _, _, err := net.SplitHostPort(o.listen); err != nil {
		return nil, usagef("--listen %q: want HOST:PORT (%v)", o.listen, err)
	}
	if o.maxAge < 0 {
		return nil, usagef("--max-age %s: must be >= 0", o.maxAge)
	}
	if o.connectTimeout < 0 {
		return nil, usagef("--connect-timeout %s: must be >= 0", o.connectTimeout)
	}
	if slices.Contains(o.topics, "") {
		return nil, usagef("--topic: empty pattern")
	}
	if config != "" {
		cfg, err := generator.Load(config)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--config: %w", err)}
		}
		o.run = cfg
	}
	if err := o.resolveBus(uri); err != nil {
		return nil, err
	}
	tlsCfg, err := transport.ClientTLS(tlsCA, tlsCert, tlsKey)
	if err != nil {
		return nil, usagef("%w", err)
	}
	o.tls = tlsCfg
	if o.kubeconfig != "" {
		if !fs.Changed("authentication-kubeconfig") {
			o.server.Authentication.RemoteKubeConfigFile = o.kubeconfig
		}
		if !fs.Changed("authorization-kubeconfig") {
			o.server.Authorization.RemoteKubeConfigFile = o.kubeconfig
		}
	}
	return o, nil
}

// fromEnv sets flag name from METRICSENDER_<NAME> when it was not given.
func fromEnv(fs *pflag.FlagSet, name string, getenv func(string) string) error {
	if name == "help" || fs.Changed(name) {
		return nil
	}
	key := envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	v := getenv(key)
	if v == "" {
		return nil
	}
	if err := fs.Set(name, v); err != nil {
		return usagef("%s (--%s): %v", key, name, err)
	}
	return nil
}

// resolveBus applies flag > env > --config > default to the broker
// settings, as metricsender does: the transport is --transport, or the
// URI's scheme, else amqp.
func (o *options) resolveBus(flagURI string) error {
	var fileURI, fileExchange string
	if o.run != nil {
		fileURI, fileExchange = o.run.Connection.URI, o.run.Connection.Exchange
		if len(o.run.Connection.URIs) > 0 {
			fileURI = strings.Join(o.run.Connection.URIs, ",")
		}
	}
	o.uri = cmp.Or(flagURI, fileURI)
	o.exchange = cmp.Or(o.exchange, fileExchange, generator.DefaultExchange)
	scheme := ""
	if o.uri != "" {
		list := transport.SplitURIs(o.uri)
		if len(list) == 0 {
			return usagef("--uri %q: not a URI", transport.RedactURI(o.uri))
		}
		for _, one := range list {
			u, err := url.Parse(one)
			if err != nil || u.Scheme == "" {
				return usagef("--uri %s: not a URI", transport.RedactURI(one))
			}
			scheme = cmp.Or(scheme, u.Scheme)
		}
		if err := transport.CheckURIList(list); err != nil {
			return usagef("--uri: %v", err)
		}
	}
	byScheme := map[string]string{"amqp": "amqp", "amqps": "amqp", "nats": "nats"}
	switch {
	case o.transport == "" && scheme == "":
		o.transport = "amqp"
	case o.transport == "":
		t, ok := byScheme[scheme]
		if !ok {
			return usagef("--uri %s: unknown scheme %q (amqp, amqps or nats)", transport.RedactURI(o.uri), scheme)
		}
		o.transport = t
	case !slices.Contains(transport.Names(), o.transport):
		return usagef("--transport %q: unknown (one of %s)", o.transport, strings.Join(transport.Names(), ", "))
	case o.transport != "gochannel" && scheme != "" && byScheme[scheme] != o.transport:
		return usagef("--transport %s does not take a %s:// URI (%s)", o.transport, scheme, transport.RedactURI(o.uri))
	}
	return nil
}
