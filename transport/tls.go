package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ClientTLS is the client TLS config for a broker (amqps://, nats:// with
// TLS) from the PEM files of the commands' --tls-ca, --tls-cert and
// --tls-key flags; nil when none is given (the transport then uses the
// system's defaults). Each error names the flag it is about, so a command
// can report it as a usage error as it is.
func ClientTLS(ca, cert, key string) (*tls.Config, error) {
	if ca == "" && cert == "" && key == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", ca)
		}
		cfg.RootCAs = pool
	}
	switch {
	case cert == "" && key == "":
	case cert == "" || key == "":
		return nil, errors.New("--tls-cert and --tls-key go together")
	default:
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
