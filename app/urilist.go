package app

import (
	"cmp"
	"net/url"
	"strings"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/httpserver"
	"github.com/labsea/metricsender/transport"
)

// fileURI is the config file's broker URI: its `uris` joined with commas
// (the form --uri takes), else its `uri`; "" without a config or either.
func fileURI(cfg *generator.Config) string {
	if cfg == nil {
		return ""
	}
	if len(cfg.Connection.URIs) > 0 {
		return strings.Join(cfg.Connection.URIs, ",")
	}
	return cfg.Connection.URI
}

// uriScheme checks a broker URI or a comma-separated list of them (the
// nodes of one cluster: they may differ only in host and port) and returns
// the scheme. Problems are usage errors naming --uri, every password
// masked.
func uriScheme(raw string) (string, error) {
	list := transport.SplitURIs(raw)
	if len(list) == 0 {
		return "", usagef("--uri %q: not a URI", transport.RedactURI(raw))
	}
	scheme := ""
	for _, one := range list {
		u, err := url.Parse(one)
		if err != nil || u.Scheme == "" {
			return "", usagef("--uri %s: not a URI", transport.RedactURI(one))
		}
		scheme = cmp.Or(scheme, u.Scheme)
	}
	if err := transport.CheckURIList(list); err != nil {
		return "", usagef("--uri: %v", err)
	}
	return scheme, nil
}

// readyWithNode is pair.Ready, and when it is ready, an httpserver.ReadyNote naming
// the broker node the connection went to (host:port, no credentials).
func readyWithNode(pair transport.Pair) *func() error {
	ready := func() error {
		if err := pair.Ready(); err != nil {
			return err
		}
		if pair.Node != nil {
			if node := pair.Node(); node != "" {
				return httpserver.ReadyNote("broker node " + node)
			}
		}
		return nil
	}
	return &ready
}
