package clustertest_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/labsea/metricsender/internal/proctest"
)

// enabled is set by TestMain when METRICSENDER_CLUSTER_TESTS=1.
var enabled bool

// binary is the metricsender built once by TestMain (with -race).
var binary string

// script starts and stops the cluster's nodes (see its header).
const script = "../.ci/rabbitmq-cluster"

const skipReason = "SKIPPED: cluster tests start three extra RabbitMQ nodes (ports 5681-5683); run them with " +
	"METRICSENDER_CLUSTER_TESTS=1 go test -race -count=1 -p 1 ./clustertest/"

func TestMain(m *testing.M) {
	proctest.Main(m, "clustertest", "METRICSENDER_CLUSTER_TESTS", skipReason, &enabled, &binary)
}

// cluster is the three nodes started for one test.
type cluster struct {
	uris  string   // comma-separated, for --uri
	nodes []string // host:port of node 1..3
}

// startCluster skips unless cluster tests are enabled, starts the nodes
// (failing with METRICSENDER_REQUIRE_BROKER=1, else skipping, when it
// cannot) and removes them when the test ends, pass or fail.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	if !enabled {
		t.Skip(skipReason)
	}
	t.Cleanup(func() {
		out, err := exec.Command(script, "stop").CombinedOutput()
		if err != nil {
			t.Errorf("%s stop: %v\n%s", script, err, out)
		}
	})
	cmd := exec.Command(script, "start")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := fmt.Sprintf("cannot start the RabbitMQ cluster (%s start: %v; needs root and rabbitmq-server):\n%s", script, err, stderr.String())
		if os.Getenv("METRICSENDER_REQUIRE_BROKER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c := &cluster{uris: strings.TrimSpace(string(out))}
	for _, u := range strings.Split(c.uris, ",") {
		host := strings.TrimPrefix(u, "amqp://guest:guest@")
		c.nodes = append(c.nodes, strings.TrimSuffix(host, "/"))
	}
	if len(c.nodes) != 3 {
		t.Fatalf("%s start printed %q, want three URIs", script, out)
	}
	return c
}

// first is the URI of node 1, for plain clients.
func (c *cluster) first() string { return strings.Split(c.uris, ",")[0] }

// ctl runs rabbitmqctl against node i (1-based).
func (c *cluster) ctl(t *testing.T, i int, args ...string) string {
	t.Helper()
	name, err := exec.Command(script, "node", fmt.Sprint(i)).Output()
	if err != nil {
		t.Fatalf("%s node %d: %v", script, i, err)
	}
	out, err := exec.Command("rabbitmqctl", append([]string{"-q", "-n", strings.TrimSpace(string(name))}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl -n %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// nodeIndex is the 1-based index of node host:port.
func (c *cluster) nodeIndex(t *testing.T, node string) int {
	t.Helper()
	for i, n := range c.nodes {
		if n == node {
			return i + 1
		}
	}
	t.Fatalf("node %q is not one of %v", node, c.nodes)
	return 0
}
