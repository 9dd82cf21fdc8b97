package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/transport"
)

// lockedBuffer is a log the server and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// servingAddr matches the line a test harness waits for.
var servingAddr = regexp.MustCompile(`msg="serving on ([^"]+)"`)

// startBridge serves the bridge in-process over HTTPS on a free port of
// 127.0.0.1, reading a gochannel bus it returns the publisher of. Its
// delegated authentication and authorization are off (no cluster here):
// options only a test can set. It stops at the test's end.
func startBridge(t *testing.T, args ...string) (addr string, publish func(...generator.Event)) {
	t.Helper()
	o, err := parseFlags(append([]string{"--listen", "127.0.0.1:0", "--transport", "gochannel"}, args...), func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o.server.Authentication, o.server.Authorization = nil, nil
	ctx, cancel := context.WithCancel(context.Background())
	pair, err := transport.NewGoChannel(ctx, transport.Options{Topics: o.topics}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.connect = func(context.Context, *slog.Logger) (transport.Pair, error) { return pair, nil }
	var logs lockedBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, o, slog.New(slog.NewTextHandler(&logs, nil))) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve after the stop: %v", err)
		}
		if !strings.Contains(logs.String(), "msg=stopped") {
			t.Errorf("no stopped line in the log:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		m := servingAddr.FindStringSubmatch(logs.String())
		if m != nil && strings.Contains(logs.String(), "msg=consuming") {
			addr = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no serving and consuming lines after a minute:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return addr, func(evs ...generator.Event) {
		t.Helper()
		for _, ev := range evs {
			if err := pair.Publisher.Publish(codec.Topic(ev.App), codec.Encode(ev, 1)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// get GETs path from the bridge and decodes its JSON answer into v; it
// returns the status.
func get(t *testing.T, addr, path string, v any) int {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the bridge's self-signed certificate
	}}
	resp, err := client.Get("https://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %d %s: %v", path, resp.StatusCode, body, err)
	}
	return resp.StatusCode
}

func TestServeHTTPS(t *testing.T) {
	addr, publish := startBridge(t)
	at := time.Now().Truncate(time.Millisecond).UTC()
	publish(generator.Event{App: "web", Time: at, Metrics: []generator.Metric{
		{Name: "cpu", Value: generator.Value{Text: "750m", Num: 0.75, HasNum: true}}}})

	type item struct {
		MetricName   string                      `json:"metricName"`
		MetricLabels map[string]string           `json:"metricLabels"`
		Timestamp    time.Time                   `json:"timestamp"`
		Value        string                      `json:"value"`
		Described    struct{ Kind, Name string } `json:"describedObject"`
	}
	type list struct {
		Kind  string `json:"kind"`
		Items []item `json:"items"`
	}
	const external = "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/"
	var l list
	if code := get(t, addr, external+"cpu?labelSelector=app%3Dweb", &l); code != http.StatusOK || len(l.Items) != 1 {
		t.Fatalf("external cpu of web: %d %+v", code, l)
	}
	// metav1.Time travels in whole seconds (RFC 3339).
	if it := l.Items[0]; it.Value != "750m" || it.MetricLabels["app"] != "web" || !it.Timestamp.Equal(at.Truncate(time.Second)) || it.MetricName != "cpu" {
		t.Errorf("external cpu of web = %+v, want 750m, app=web, at %s", it, at)
	}
	l = list{}
	if code := get(t, addr, external+"cpu?labelSelector=app%3Ddb", &l); code != http.StatusOK || len(l.Items) != 0 {
		t.Errorf("external cpu of an app never seen: %d %+v, want 200 and no items", code, l)
	}
	var status struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	}
	if code := get(t, addr, external+"gpu?labelSelector=app%3Dweb", &status); code != http.StatusNotFound || status.Reason != "NotFound" {
		t.Errorf("unknown metric: %d %+v, want 404 NotFound", code, status)
	}
	var one item
	if code := get(t, addr, "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/deployments.apps/web/cpu", &l); code != http.StatusOK || len(l.Items) != 1 {
		t.Fatalf("custom cpu of deployments/web: %d %+v", code, l)
	} else if one = l.Items[0]; one.Value != "750m" || one.Described.Name != "web" || one.Described.Kind != "Deployment" {
		t.Errorf("custom cpu of deployments/web = %+v", one)
	}
	var discovery struct {
		Resources []struct{ Name string } `json:"resources"`
	}
	if code := get(t, addr, "/apis/external.metrics.k8s.io/v1beta1", &discovery); code != http.StatusOK || len(discovery.Resources) != 1 || discovery.Resources[0].Name != "cpu" {
		t.Errorf("external discovery: %d %+v, want the one metric cpu", code, discovery)
	}
}
