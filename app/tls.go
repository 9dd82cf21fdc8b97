package app

import (
	"crypto/tls"
	"crypto/x509"
	"os"

	"github.com/urfave/cli/v2"
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

// tlsConfig builds the client TLS config of --tls-ca/--tls-cert/--tls-key;
// nil when none is given (the transport then uses the system's defaults).
// Every problem is a usage error naming its flag.
func tlsConfig(c *cli.Context) (*tls.Config, error) {
	ca, cert, key := c.String("tls-ca"), c.String("tls-cert"), c.String("tls-key")
	if ca == "" && cert == "" && key == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, usagef("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("--tls-ca %s: no PEM certificate in it", ca)
		}
		cfg.RootCAs = pool
	}
	switch {
	case cert == "" && key == "":
	case cert == "" || key == "":
		return nil, usagef("--tls-cert and --tls-key go together")
	default:
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, usagef("--tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
