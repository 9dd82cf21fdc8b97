package clustertest_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/proctest"
)

// TestCluster starts the three nodes once and runs the cluster tests on
// them, in order: the last one stops a node.
func TestCluster(t *testing.T) {
	c := startCluster(t)
	t.Run("confirms into a quorum queue", func(t *testing.T) { testQuorumQueue(t, c) })
	t.Run("losing the sender's node loses nothing", func(t *testing.T) { testNodeLoss(t, c) })
}

// testQuorumQueue: a sender given all three URIs publishes with confirms
// into the quorum queue `receive --queue` declares, bound to Metrics.*;
// every seq arrives.
func testQuorumQueue(t *testing.T, c *cluster) {
	p := startPipeline(t, c, 50, "20ms")
	p.finish(t)
	queues := c.ctl(t, 2, "list_queues", "name", "type")
	if !regexp.MustCompile(regexp.QuoteMeta(p.queue) + `\s+quorum`).MatchString(queues) {
		t.Errorf("queue %s is not a quorum queue:\n%s", p.queue, queues)
	}
	node := senderNode(t, p.send.Stderr.String())
	c.nodeIndex(t, node) // one of the three
}

// testNodeLoss: midway, the node the sender is connected to stops; the
// sender goes to the next node and nothing is lost.
func testNodeLoss(t *testing.T, c *cluster) {
	p := startPipeline(t, c, 300, "50ms") // 600 messages in 15 s
	p.recv.WaitLines(t, 80, 3*time.Minute)
	node := senderNode(t, p.send.Stderr.String())
	i := c.nodeIndex(t, node)
	t.Logf("stopping node %d (%s), the sender's", i, node)
	c.ctl(t, i, "stop_app")
	p.send.WaitOutput(t, "a connection to another node", 2*time.Minute, true, func(s string) bool {
		return strings.Contains(s, "broker connection back") && senderNode(t, s) != node
	})
	p.finish(t)
	if now := senderNode(t, p.send.Stderr.String()); now == node {
		t.Errorf("the sender is still on the stopped node %s", node)
	}
}

var nodeRE = regexp.MustCompile(`msg="dialled broker node".* node=(\S+)`)

// senderNode is the node named by the last "dialled broker node" line.
func senderNode(t *testing.T, stderr string) string {
	t.Helper()
	m := nodeRE.FindAllStringSubmatch(stderr, -1)
	if m == nil {
		t.Fatalf("the sender never named its node:\n%s", stderr)
	}
	return m[len(m)-1][1]
}

// pipeline is one `send` -> `receive --queue --check` run of two
// deployments over the cluster, ticks messages each.
type pipeline struct {
	queue string
	apps  []string
	ticks int
	recv  *proctest.Proc
	send  *proctest.Proc
}

// startPipeline starts the receiver on a fresh quorum queue bound to
// Metrics.*, waits until it consumes, then starts the sender; both get all
// three URIs.
func startPipeline(t *testing.T, c *cluster, ticks int, interval string) *pipeline {
	t.Helper()
	n := time.Now().UnixNano()
	p := &pipeline{ticks: ticks, apps: []string{fmt.Sprintf("cluster%da", n), fmt.Sprintf("cluster%db", n)},
		queue: fmt.Sprintf("metricsender-cluster-%d", n)}
	cfg := proctest.WriteConfig(t, "", p.apps...)
	p.recv = proctest.Start(t, binary, "receive", "receive", "--uri", c.uris, "--queue", p.queue, "--topic", "Metrics.*",
		"--check", "--config", cfg, "--output", "json", "--http-addr", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	brokertest.WaitConsumer(t, ctx, c.first(), p.queue)
	p.send = proctest.Start(t, binary, "send", "send", "-c", cfg, "--uri", c.uris, "--interval", interval,
		"--count", strconv.Itoa(ticks), "--confirm", "--http-addr", "")
	return p
}

// finish waits for the sender to end, then for the receiver to have every
// seq of every app (or until it printed nothing new for a while), stops it
// and checks that nothing is missing, from the --check summary and from
// the printed messages.
func (p *pipeline) finish(t *testing.T) {
	t.Helper()
	if code := p.send.Wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("send exit %d, want 0:\n%s", code, p.send.Stderr.String())
	}
	d := proctest.Drain(t, p.recv, p.apps, p.ticks, 30*time.Second)
	t.Logf("receiver summary: %v", d.Summary)
	d.Check(t)
}
