package transport_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/transport"
)

// selfSignedTLSServer accepts TLS connections on a local port with a
// certificate no client trusts, and completes (or fails) their handshakes.
func selfSignedTLSServer(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return acceptEach(t, ln, func(c net.Conn) {
		_ = c.(*tls.Conn).Handshake()
		_ = c.Close()
	})
}

func TestAMQPUntrustedCertificateIsPermanent(t *testing.T) {
	addr := selfSignedTLSServer(t)
	// A TLS config of the caller's: it must not be modified (amqp091 sets
	// ServerName on the config it is given).
	callerTLS := &tls.Config{MinVersion: tls.VersionTLS12}
	var logs logBuffer
	_, err := transport.NewAMQP(context.Background(), transport.Options{
		URI: "amqps://guest:s3cret@" + addr + "/", TLS: callerTLS, ConnectTimeout: 20 * time.Second,
	}, logs.logger())
	if !errors.Is(err, transport.ErrPermanent) {
		t.Fatalf("NewAMQP against an untrusted certificate = %v, want ErrPermanent", err)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %q does not name the certificate problem", err)
	}
	if strings.Contains(logs.String(), "retrying") {
		t.Errorf("a certificate failure was retried:\n%s", logs.String())
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error leaks the password: %v", err)
	}
	if callerTLS.ServerName != "" {
		t.Errorf("the caller's tls.Config was modified: ServerName %q", callerTLS.ServerName)
	}
}
