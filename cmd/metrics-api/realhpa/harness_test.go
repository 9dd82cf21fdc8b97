//go:build kubeapiserver

package realhpa_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/kubetest"
	"github.com/labsea/metricsender/internal/proctest"
)

// runID makes the apps of one test run unique on the shared broker (other
// tests publish Metrics.* there too) and valid Kubernetes names.
func runID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "h" + hex.EncodeToString(b)
}

// writeFile writes content to a file of t's temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startBridge runs metricsender-metrics-api on the bus at uri with the
// sender's config, registers it for both metrics APIs and returns once
// the aggregator finds them Available.
func startBridge(t *testing.T, c *kubetest.Cluster, uri, config string) *proctest.Proc {
	t.Helper()
	addr := brokertest.FreeAddr(t)
	p := proctest.Start(t, bridge, "metricsender-metrics-api",
		"--uri", uri, "--listen", addr, "--kubeconfig", c.Kubeconfig, "--config", config)
	readyz := "https://" + addr + "/readyz" // 503 until it consumes the bus
	client := &http.Client{Timeout: 2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := client.Get(readyz)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			t.Fatalf("bridge %s: %v; stderr:\n%s", readyz, err, p.Stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	_, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	c.RegisterMetricsAPIs(t, n)
	return p
}

// firstMessage returns a function that waits for the first Metrics.{app}
// message on the bus and returns when it arrived: the sender's start, its
// first tick being at its start. Subscribe before the sender starts.
func firstMessage(t *testing.T, uri, app string) func() time.Time {
	t.Helper()
	ch := brokertest.Channel(t, uri)
	if err := ch.ExchangeDeclare("is", "topic", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, "Metrics."+app, "is", false, nil); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	var at time.Time
	return func() time.Time {
		once.Do(func() {
			select {
			case <-deliveries:
				at = time.Now()
			case <-time.After(2 * time.Minute):
				t.Fatalf("no Metrics.%s message in 2 minutes", app)
			}
		})
		return at
	}
}

// change is one replica decision: spec.replicas became replicas at at.
type change struct {
	at       time.Duration // since the run's start
	replicas int32
}

func (c change) String() string { return fmt.Sprintf("%d@%.1fs", c.replicas, c.at.Seconds()) }

// replicaLog records every change of the spec.replicas of the
// Deployments of one namespace, as the HPA (or anyone) makes them.
type replicaLog struct {
	mu      sync.Mutex
	changes map[string][]timedReplicas // by Deployment
}

type timedReplicas struct {
	at       time.Time
	replicas int32
}

// watchReplicas starts recording the Deployments of namespace ns until t
// ends.
func watchReplicas(t *testing.T, c *kubetest.Cluster, ns string) *replicaLog {
	t.Helper()
	l := &replicaLog{changes: map[string][]timedReplicas{}}
	factory := informers.NewSharedInformerFactoryWithOptions(c.Client, 0, informers.WithNamespace(ns))
	inf := factory.Apps().V1().Deployments().Informer()
	record := func(obj any) {
		d, ok := obj.(*appsv1.Deployment)
		if !ok || d.Spec.Replicas == nil {
			return
		}
		now := time.Now()
		l.mu.Lock()
		defer l.mu.Unlock()
		hist := l.changes[d.Name]
		if n := len(hist); n == 0 || hist[n-1].replicas != *d.Spec.Replicas {
			l.changes[d.Name] = append(hist, timedReplicas{now, *d.Spec.Replicas})
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    record,
		UpdateFunc: func(_, obj any) { record(obj) },
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	factory.Start(stop)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("Deployment informer: no sync in a minute")
	}
	return l
}

// decisions is name's replica changes after its first value (the one it
// was created with), timed from start.
func (l *replicaLog) decisions(name string, start time.Time) []change {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []change
	for i, r := range l.changes[name] {
		if i > 0 {
			out = append(out, change{at: r.at.Sub(start), replicas: r.replicas})
		}
	}
	return out
}

// current is name's latest spec.replicas (0 before any).
func (l *replicaLog) current(name string) int32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.changes[name]
	if len(h) == 0 {
		return 0
	}
	return h[len(h)-1].replicas
}
