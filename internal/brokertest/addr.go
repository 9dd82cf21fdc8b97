package brokertest

import (
	"net"
	"testing"
)

// FreeAddr returns a loopback host:port where nothing listens (just now):
// a broker node that is down, or a free --http-addr.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
