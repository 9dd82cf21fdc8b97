package faulttest_test

import (
	"cmp"
	"os"
	"testing"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/proctest"
)

// enabled is set by TestMain when METRICSENDER_FAULT_TESTS=1.
var enabled bool

// binary is the metricsender built once by TestMain (with -race).
var binary string

const skipReason = "SKIPPED: fault tests stop and cut the broker; run them alone with " +
	"METRICSENDER_FAULT_TESTS=1 go test -race -count=1 -p 1 ./faulttest/"

func TestMain(m *testing.M) {
	proctest.Main(m, "faulttest", "METRICSENDER_FAULT_TESTS", skipReason, &enabled, &binary)
}

// faultTest skips unless fault tests are enabled, checks the broker is up
// (a fault test cannot run without it: it fails) and returns its URI.
func faultTest(t *testing.T) string {
	t.Helper()
	if !enabled {
		t.Skip(skipReason)
	}
	uri := cmp.Or(os.Getenv("AMQP_URI"), brokertest.DefaultAMQPURI)
	restoreBroker(t, uri) // also brings it back if an earlier run left it stopped
	t.Cleanup(func() { restoreBroker(t, uri) })
	return uri
}
