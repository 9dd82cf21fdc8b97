//go:build kubeapiserver

package kubetest

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
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ClusterConfig configures StartCluster. The zero value is valid.
type ClusterConfig struct {
	// SyncPeriod is how often the HorizontalPodAutoscaler controller
	// reconciles every HPA (--horizontal-pod-autoscaler-sync-period).
	// Zero means 1s; kube-controller-manager's own default is 15s.
	SyncPeriod time.Duration
	// DownscaleStabilization is the scale-down stabilization window of an
	// HPA without behavior.scaleDown.stabilizationWindowSeconds
	// (--horizontal-pod-autoscaler-downscale-stabilization). Zero means
	// kube-controller-manager's default, 5m.
	DownscaleStabilization time.Duration
	// StartTimeout bounds each wait for a component to be ready. Zero
	// means 2 minutes: generous, for a loaded 2-core machine.
	StartTimeout time.Duration
}

func (c *ClusterConfig) setDefaults() {
	if c.SyncPeriod == 0 {
		c.SyncPeriod = time.Second
	}
	if c.DownscaleStabilization == 0 {
		c.DownscaleStabilization = 5 * time.Minute
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 2 * time.Minute
	}
}

// Cluster is a running test cluster: etcd, kube-apiserver with the
// aggregation layer, and kube-controller-manager with the deployment,
// replicaset and horizontal-pod-autoscaler controllers. There is no
// kubelet or scheduler: pods stay Pending, which is enough for the
// replicaset controller to count them and for an HPA on External or
// Object AverageValue targets (../shared/REAL-HPA.md).
type Cluster struct {
	// Config is the HPA controller's configuration, defaults filled in.
	Config ClusterConfig
	// Dir is the cluster's scratch directory (t.TempDir): logs, PKI,
	// etcd's data.
	Dir string
	// Kubeconfig is the path of a kubeconfig file for other processes
	// (kubectl, metricsender --kubeconfig): a token user in
	// system:masters, the server's certificate not verified.
	Kubeconfig string
	// Rest is the same user's client configuration.
	Rest *rest.Config
	// Client is a clientset for Rest.
	Client kubernetes.Interface
	// FrontProxyCA is the PEM file of the CA that signed the client
	// certificate the aggregator presents to an extension API server
	// (CN front-proxy-client).
	FrontProxyCA string

	procs []*process
}

// ClusterAssets returns the directory holding etcd, kube-apiserver and
// kube-controller-manager, or skips (or fails) t as the package doc says.
func ClusterAssets(t testing.TB) string {
	t.Helper()
	return assets(t, HowCluster, "kube-apiserver", "etcd", "kube-controller-manager")
}

// StartCluster starts a test cluster for t on free ports of 127.0.0.1 and
// returns once kube-apiserver is ready and kube-controller-manager is
// healthy. It stops the cluster when t ends, in order: the controller
// manager, then kube-apiserver (a second SIGTERM when graceful
// termination hangs), then etcd; processes a test started after it have
// been stopped by then (t.Cleanup runs last-in first-out). On a failed
// test the end of every component's log is printed.
func StartCluster(t testing.TB, cfg ClusterConfig) *Cluster {
	t.Helper()
	cfg.setDefaults()
	bin := ClusterAssets(t)
	c := &Cluster{Config: cfg, Dir: t.TempDir()}
	t.Cleanup(func() { c.stop(t) })

	pki, err := writePKI(c.Dir)
	if err != nil {
		t.Fatalf("cluster PKI: %v", err)
	}
	c.FrontProxyCA = pki.frontProxyCA
	ports := freePorts(t, 4)
	etcdClient, etcdPeer, apiPort, kcmPort := ports[0], ports[1], ports[2], ports[3]
	token := randomToken(t)
	tokens := filepath.Join(c.Dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(token+",metricsender-test,metricsender-test,system:masters\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	server := "https://127.0.0.1:" + strconv.Itoa(apiPort)
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, []byte(kubeconfig(server, token)), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Rest = &rest.Config{Host: server, BearerToken: token, QPS: 100, Burst: 200,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	c.Client = kubernetes.NewForConfigOrDie(c.Rest)

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(etcdPeer)
	c.start(t, "etcd", filepath.Join(bin, "etcd"),
		"--data-dir="+filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL)
	c.start(t, "kube-apiserver", filepath.Join(bin, "kube-apiserver"),
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(apiPort),
		"--cert-dir="+filepath.Join(c.Dir, "apiserver-certs"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+pki.serviceAccountPub,
		"--service-account-signing-key-file="+pki.serviceAccountKey,
		"--token-auth-file="+tokens, "--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--disable-admission-plugins=ServiceAccount",
		"--client-ca-file="+pki.clientCA,
		// The aggregation layer: the aggregator proxies to an extension
		// API server as front-proxy-client, passing the user in headers.
		"--requestheader-client-ca-file="+pki.frontProxyCA,
		"--requestheader-allowed-names="+frontProxyClientName,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+pki.frontProxyClientCert,
		"--proxy-client-key-file="+pki.frontProxyClientKey,
		// Resolve an APIService's Service by its ExternalName, not
		// through Endpoints (which nothing here would fill).
		"--enable-aggregator-routing=false")
	ctx, cancel := context.WithTimeout(context.Background(), cfg.StartTimeout)
	defer cancel()
	c.waitReady(t, ctx, "kube-apiserver /readyz", func(ctx context.Context) error {
		_, err := c.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err
	})

	c.start(t, "kube-controller-manager", filepath.Join(bin, "kube-controller-manager"),
		"--kubeconfig="+c.Kubeconfig,
		"--leader-elect=false", "--use-service-account-credentials=false",
		"--controllers=deployment,replicaset,horizontalpodautoscaling",
		"--horizontal-pod-autoscaler-sync-period="+cfg.SyncPeriod.String(),
		"--horizontal-pod-autoscaler-downscale-stabilization="+cfg.DownscaleStabilization.String(),
		// Every HPA syncs each period with a few requests: the default
		// 20 requests/s would throttle a dozen HPAs at a 1s period.
		"--kube-api-qps=200", "--kube-api-burst=400",
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(kcmPort),
		"--cert-dir="+filepath.Join(c.Dir, "kcm-certs"),
		// Else the volume plugin manager creates its default directory on the host.
		"--flex-volume-plugin-dir="+filepath.Join(c.Dir, "flexvolume"))
	kcmHealth := "https://127.0.0.1:" + strconv.Itoa(kcmPort) + "/healthz"
	insecure := &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	c.waitReady(t, ctx, "kube-controller-manager /healthz", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, kcmHealth, nil)
		if err != nil {
			return err
		}
		resp, err := insecure.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	return c
}

// start starts one component and records it for stop; t fails when it
// cannot be started.
func (c *Cluster) start(t testing.TB, name, bin string, args ...string) {
	t.Helper()
	p, err := startProcess(c.Dir, name, bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	c.procs = append(c.procs, p)
}

// waitReady polls check until it succeeds; t fails when ctx ends first or
// a component exits meanwhile.
func (c *Cluster) waitReady(t testing.TB, ctx context.Context, what string, check func(context.Context) error) {
	t.Helper()
	for {
		err := check(ctx)
		if err == nil {
			return
		}
		for _, p := range c.procs {
			if ok, perr := p.exited(); ok {
				t.Fatalf("waiting for %s: %s exited (%v)", what, p.name, perr)
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last error: %v)", what, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop stops the components in the reverse order of their start, and
// prints the end of their logs when t failed.
func (c *Cluster) stop(t testing.TB) {
	if t.Failed() {
		for _, p := range c.procs {
			t.Logf("--- last lines of %s (%s):\n%s", p.name, p.log, p.tail(25))
		}
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		switch p.name {
		case "kube-apiserver":
			p.stop(t, 10*time.Second, true)
		default:
			p.stop(t, 10*time.Second, false)
		}
	}
}

// freePorts returns n distinct ports that were free on 127.0.0.1.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for range n {
		// Held open until all are picked, so no two are the same.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func randomToken(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// kubeconfig is a kubeconfig file for a token user of server.
func kubeconfig(server, token string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: test
  user: {token: %q}
contexts:
- name: test
  context: {cluster: test, user: test, namespace: default}
current-context: test
`, server, token)
}
