package app

import (
	"crypto/tls"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/transport"
)

func tlsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tls-ca", EnvVars: env("tls-ca"),
			Usage: "PEM file of the CA that signed the broker's certificate (amqps://); default: the system's"},
		&cli.StringFlag{Name: "tls-cert", EnvVars: env("tls-cert"),
			Usage: "PEM client certificate for amqps:// (with --tls-key)"},
		&cli.StringFlag{Name: "tls-key", EnvVars: env("tls-key"),
			Usage: "PEM private key of --tls-cert"},
	}
}

// tlsConfig builds the client TLS config of --tls-ca/--tls-cert/--tls-key
// (transport.ClientTLS); every problem is a usage error naming its flag.
func tlsConfig(c *cli.Context) (*tls.Config, error) {
	cfg, err := transport.ClientTLS(c.String("tls-ca"), c.String("tls-cert"), c.String("tls-key"))
	if err != nil {
		return nil, usagef("%w", err)
	}
	return cfg, nil
}
