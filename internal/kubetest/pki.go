//go:build kubeapiserver

package kubetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// frontProxyClientName is the common name of the client certificate the
// aggregator presents to extension API servers; kube-apiserver's
// --requestheader-allowed-names lists it, and an extension API server
// (the metrics-api bridge) accepts requests carrying it.
const frontProxyClientName = "front-proxy-client"

// pkiFiles are the paths of what writePKI wrote, PEM encoded.
type pkiFiles struct {
	frontProxyCA, frontProxyClientCert, frontProxyClientKey string
	clientCA                                                string
	serviceAccountKey, serviceAccountPub                    string
}

// writePKI writes into dir what kube-apiserver's aggregation layer and
// service accounts need: a front-proxy CA and the client certificate
// signed by it, a CA for --client-ca-file (it signs nothing; without it
// every component logs a missing CA bundle many times a second), and a
// service-account key pair. Keys are ECDSA P-256: generated in
// microseconds where RSA 2048 takes a visible fraction of a second.
func writePKI(dir string) (pkiFiles, error) {
	f := pkiFiles{
		frontProxyCA:         filepath.Join(dir, "front-proxy-ca.crt"),
		frontProxyClientCert: filepath.Join(dir, "front-proxy-client.crt"),
		frontProxyClientKey:  filepath.Join(dir, "front-proxy-client.key"),
		clientCA:             filepath.Join(dir, "client-ca.crt"),
		serviceAccountKey:    filepath.Join(dir, "sa.key"),
		serviceAccountPub:    filepath.Join(dir, "sa.pub"),
	}
	fpCA, fpCAKey, err := newCert("front-proxy-ca", nil, nil)
	if err != nil {
		return f, err
	}
	fpClient, fpClientKey, err := newCert(frontProxyClientName, fpCA, fpCAKey)
	if err != nil {
		return f, err
	}
	clientCA, _, err := newCert("kubernetes-ca", nil, nil)
	if err != nil {
		return f, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return f, fmt.Errorf("service-account key: %w", err)
	}
	saPriv, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return f, fmt.Errorf("service-account key: %w", err)
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return f, fmt.Errorf("service-account public key: %w", err)
	}
	fpClientDER, err := x509.MarshalECPrivateKey(fpClientKey)
	if err != nil {
		return f, fmt.Errorf("front-proxy client key: %w", err)
	}
	for _, w := range []struct {
		path, typ string
		der       []byte
	}{
		{f.frontProxyCA, "CERTIFICATE", fpCA.Raw},
		{f.frontProxyClientCert, "CERTIFICATE", fpClient.Raw},
		{f.frontProxyClientKey, "EC PRIVATE KEY", fpClientDER},
		{f.clientCA, "CERTIFICATE", clientCA.Raw},
		{f.serviceAccountKey, "EC PRIVATE KEY", saPriv},
		{f.serviceAccountPub, "PUBLIC KEY", saPub},
	} {
		data := pem.EncodeToMemory(&pem.Block{Type: w.typ, Bytes: w.der})
		if err := os.WriteFile(w.path, data, 0o600); err != nil {
			return f, fmt.Errorf("write %s: %w", w.path, err)
		}
	}
	return f, nil
}

// newCert makes a certificate for cn: a self-signed CA when parent is
// nil, else a client certificate signed by parent.
func newCert(cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("%s key: %w", cn, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, fmt.Errorf("%s serial: %w", cn, err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour), // tolerate a little clock skew
		NotAfter:     now.Add(24 * time.Hour),
	}
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, nil, fmt.Errorf("%s certificate: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("%s certificate: %w", cn, err)
	}
	return cert, key, nil
}
