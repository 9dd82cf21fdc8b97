package pagetest_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/browsertest"
)

// drawn is one point of a chart as the page draws it.
type drawn struct {
	Seq   string `json:"seq"`
	Value string `json:"value"`
	Fault string `json:"fault"`
}

// pointsOf returns the points the chart of app draws for metric, in seq
// order.
func pointsOf(t *testing.T, b *browsertest.Browser, app, metric string) []drawn {
	t.Helper()
	var out []drawn
	for _, d := range dataset(t, b, sel("point", metricSVG(app, metric))) {
		out = append(out, drawn{Seq: d["seq"], Value: d["value"], Fault: d["fault"]})
	}
	slices.SortFunc(out, func(a, b drawn) int {
		x, _ := strconv.Atoi(a.Seq)
		y, _ := strconv.Atoi(b.Seq)
		return x - y
	})
	return out
}

// TestChartEqualsTheWire: after N ticks the chart of a followed
// deployment holds N points per metric, and each one's value is, seq by
// seq, the header a plain amqp091-go consumer read for that message.
//
// The sender reaches the broker through a proxy that refuses it until
// the page follows the deployment: the page then sees every tick from
// the first.
func TestChartEqualsTheWire(t *testing.T) {
	const ticks = 8
	browsertest.Chromium(t)
	uri := brokertest.AMQPURI(t)
	exchange := exchangeFor(t, uri)
	onWire := consume(t, uri, exchange)
	proxy, proxied := brokertest.NewAMQPProxy(t, uri)
	proxy.Hold(true)
	cfg := writeConfig(t, `deployments:
  - name: api
    count: 2
    metrics:
      cpu: {sine: {min: 1, max: 6, period: 3s}}
      memory: [128Mi, 256Mi, 1Gi]
      replicas: {walk: {start: 3, min: 1, max: 9, step: 1}}
`)
	s := startSend(t, "", "-c", cfg, "--uri", proxied, "--exchange", exchange, "--interval", "250ms",
		"--count", strconv.Itoa(ticks), "--seed", "11")
	b := openPage(t, s, "api-1")
	proxy.Hold(false)

	if code := s.Wait(t, hang); code != 0 {
		t.Fatalf("send exited %d, want 0", code)
	}
	msgs := onWire.waitFor(t, s, "api-1", ticks)
	for _, metric := range []string{"cpu", "memory", "replicas"} {
		waitCount(t, b, strconv.Itoa(ticks)+" "+metric+" points", sel("point", metricSVG("api-1", metric)), ticks)
		var want []drawn
		for _, m := range msgs {
			want = append(want, drawn{Seq: strconv.FormatUint(m.seq, 10), Value: m.headers[metric]})
		}
		slices.SortFunc(want, func(a, b drawn) int {
			x, _ := strconv.Atoi(a.Seq)
			y, _ := strconv.Atoi(b.Seq)
			return x - y
		})
		if got := pointsOf(t, b, "api-1", metric); !slices.Equal(got, want) {
			t.Errorf("%s: the chart draws\n  %v\nthe wire carried\n  %v", metric, got, want)
		}
		svg := dataset(t, b, metricSVG("api-1", metric))
		if len(svg) != 1 || svg[0]["points"] != strconv.Itoa(ticks) {
			t.Errorf("%s: chart-metric %v, want data-points=%d", metric, svg, ticks)
		}
	}
	if len(msgs) != ticks {
		t.Errorf("the wire carried %d messages of api-1, want %d", len(msgs), ticks)
	}
	onWire.noneBad(t)
	for _, m := range b.Errors() {
		if !isStreamError(m) {
			t.Errorf("console error: %s", m)
		}
	}
}

// isStreamError: the browser's log of a refused reconnect of the event
// stream, expected once a sender has exited.
func isStreamError(m chromedp.ConsoleMessage) bool {
	return m.Source == "network" && containsAny(m.URL+" "+m.Text, "/v1/events")
}
