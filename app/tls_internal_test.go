package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	caFile, caKey, ca := writeCert(t, dir, "ca")
	clientFile, clientKey, _ := writeCert(t, dir, "client")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, cfg *tls.Config)
		wantErr string
	}{
		{"none", nil, func(t *testing.T, cfg *tls.Config) {
			if cfg != nil {
				t.Errorf("config %v without flags, want nil (system defaults)", cfg)
			}
		}, ""},
		{"ca only", []string{"--tls-ca", caFile}, func(t *testing.T, cfg *tls.Config) {
			if cfg == nil || cfg.RootCAs == nil || len(cfg.Certificates) != 0 {
				t.Fatalf("config %+v", cfg)
			}
			if _, err := ca.Verify(x509.VerifyOptions{Roots: cfg.RootCAs}); err != nil {
				t.Errorf("the CA does not verify against the pool built from it: %v", err)
			}
			if cfg.MinVersion != tls.VersionTLS12 {
				t.Errorf("MinVersion %x", cfg.MinVersion)
			}
		}, ""},
		{"ca and client pair", []string{"--tls-ca", caFile, "--tls-cert", clientFile, "--tls-key", clientKey}, func(t *testing.T, cfg *tls.Config) {
			if cfg == nil || cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
				t.Fatalf("config %+v", cfg)
			}
		}, ""},
		{"cert without key", []string{"--tls-cert", clientFile}, nil, "--tls-cert and --tls-key go together"},
		{"key of another cert", []string{"--tls-cert", clientFile, "--tls-key", caKey}, nil, "--tls-cert/--tls-key"},
		{"missing ca", []string{"--tls-ca", filepath.Join(dir, "nope.pem")}, nil, "--tls-ca: open"},
		{"ca not pem", []string{"--tls-ca", garbage}, nil, "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg *tls.Config
			var err error
			a := &cli.App{Flags: tlsFlags(), Action: func(c *cli.Context) error {
				cfg, err = tlsConfig(c)
				return nil
			}}
			if runErr := a.Run(append([]string{"x"}, tt.args...)); runErr != nil {
				t.Fatal(runErr)
			}
			if tt.wantErr != "" {
				var ue *usageError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &ue) {
					t.Fatalf("error %v, want a usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}
