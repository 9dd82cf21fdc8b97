package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/livetest"
)

// askOperator publishes the request on Metrics.app until an answer comes
// on Allocation.app (the operator's queue binds at a moment the test
// cannot see), and returns the answer.
func askOperator(t *testing.T, ctx context.Context, uri, app string, answers <-chan amqp.Delivery, req amqp.Publishing) amqp.Delivery {
	t.Helper()
	for {
		brokertest.Publish(t, uri, "is", "Metrics."+app, req)
		select {
		case d := <-answers:
			return d
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("no answer on Allocation.%s", app)
		}
	}
}

func TestOperatorAnswersOnTheWire(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	tests := []struct {
		name    string
		flags   []string
		headers amqp.Table
		want    amqp.Table
	}{
		{"follow applies what is requested", []string{"--policy", "follow", "--delay", "200ms"},
			amqp.Table{"replicas": "3", "cpu": "750m", "tier": "gold"}, amqp.Table{"replicas": "3", "cpu": "0.75"}},
		{"hpa scales on the metric", []string{"--policy", "hpa", "--metric", "cpu", "--target", "500m"},
			amqp.Table{"cpu": "2"}, amqp.Table{"replicas": "4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fmt.Sprintf("op%d", time.Now().UnixNano())
			answers := plainConsumer(t, uri, "Allocation."+app)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			opCtx, stop := context.WithCancel(ctx)
			op := startCLI(t, opCtx, append([]string{"operator", "--uri", uri, "--topic", "Metrics." + app}, tt.flags...)...)
			d := askOperator(t, ctx, uri, app, answers, amqp.Publishing{ReplyTo: app, CorrelationId: "C0FFEE", Headers: tt.headers,
				Timestamp: time.Unix(time.Now().UnixMilli(), 0)})
			stop()
			if r := <-op; r.code != 0 {
				t.Fatalf("operator exit %d:\n%s", r.code, r.stderr)
			}
			if d.RoutingKey != "Allocation."+app || d.ReplyTo != app || d.CorrelationId != "C0FFEE" {
				t.Errorf("answer on %q reply_to %q correlation %q, want Allocation.%s, %s, the request's C0FFEE", d.RoutingKey, d.ReplyTo, d.CorrelationId, app, app)
			}
			if fmt.Sprint(d.Headers) != fmt.Sprint(tt.want) {
				t.Errorf("headers %v, want %v", d.Headers, tt.want)
			}
			if ms := d.Timestamp.Unix(); time.Since(time.UnixMilli(ms)) > time.Minute {
				t.Errorf("timestamp %d is not milliseconds of now", ms)
			}
		})
	}
}

// --miss ignores requests, from the seed: the operator's account of a run
// adds up, and some requests went unanswered.
func TestOperatorMiss(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	app := fmt.Sprintf("opmiss%d", time.Now().UnixNano())
	answers := plainConsumer(t, uri, "Allocation."+app)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opCtx, stop := context.WithCancel(ctx)
	addr := brokertest.FreeAddr(t)
	op := startCLI(t, opCtx, "operator", "--uri", uri, "--topic", "Metrics."+app, "--miss", "0.5", "--seed", "7", "--http-addr", addr)
	req := amqp.Publishing{ReplyTo: app, Headers: amqp.Table{"replicas": "2"}}
	askOperator(t, ctx, uri, app, answers, req) // bound and answering
	for range 40 {
		brokertest.Publish(t, uri, "is", "Metrics."+app, req)
	}
	read := regexp.MustCompile(`(?m)^metricsender_standin_requests_total (\d+)`)
	for { // until the operator read them all
		var n int
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if m := read.FindSubmatch(body); m != nil {
				n, _ = strconv.Atoi(string(m[1]))
			}
		}
		if n >= 41 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the operator read %d of 41 requests", n)
		case <-time.After(100 * time.Millisecond):
		}
	}
	page := livetest.Open(t, "http://"+addr, "") // the operator's page ends on the stopped line's account
	stop()
	r := <-op
	last := page.Last()["operator"].Doc
	m := regexp.MustCompile(`requests=(\d+) answered=(\d+) missed=(\d+)`).FindStringSubmatch(r.stderr)
	if r.code != 0 || m == nil {
		t.Fatalf("operator exit %d, no account:\n%s", r.code, r.stderr)
	}
	requests, _ := strconv.Atoi(m[1])
	answered, _ := strconv.Atoi(m[2])
	missed, _ := strconv.Atoi(m[3])
	if requests < 41 || answered+missed != requests || missed < 5 || answered < 5 {
		t.Errorf("requests=%d answered=%d missed=%d: want >= 41 requests, about half missed", requests, answered, missed)
	}
	if last["requests"] != float64(requests) || last["answered"] != float64(answered) || last["missed"] != float64(missed) {
		t.Errorf("the operator page's last event %v: want requests=%d answered=%d missed=%d", last, requests, answered, missed)
	}
}

// The hpa's behavior flags are preview's spec keys: a bad one is a usage
// error naming the flag and the problem, before any broker is dialled.
func TestOperatorHPAFlagsUsage(t *testing.T) {
	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--up", "4/15s"}, `--up: policy "4/15s": want Npods/PERIOD`},
		{[]string{"--down-select", "most"}, `--down-select: want max, min or disabled`},
		{[]string{"--up-window", "soon"}, `--up-window: want a duration`},
		{[]string{"--down-window", "2h"}, `downWindow: must be whole seconds in [0s, 1h]`},
		{[]string{"--behavior", "some"}, `--behavior: want default or none`},
		{[]string{"--source", "object"}, `--source: want pods or external`},
	} {
		t.Run(strings.Join(tt.flags, " "), func(t *testing.T) {
			args := append([]string{"operator", "--uri", "amqp://127.0.0.1:1/", "--policy", "hpa", "--target", "500m"}, tt.flags...)
			code, _, stderr := runCLI(t, context.Background(), args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}
