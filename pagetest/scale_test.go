package pagetest_test

import (
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/chromedp/chromedp"
	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/browsertest"
)

// sink binds a queue that keeps nothing (x-max-length 0) to exchange with
// Metrics.#, so a big run's messages are routed, not returned, and cost
// the broker nothing to keep.
func sink(t *testing.T, uri, exchange string) {
	t.Helper()
	ch := brokertest.Channel(t, uri)
	if err := ch.ExchangeDeclare(exchange, "topic", false, false, false, false, nil); err != nil {
		t.Fatalf("declare exchange %s with is-wire flags: %v", exchange, err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, amqp.Table{"x-max-length": int32(0)})
	if err != nil {
		t.Fatalf("declare the sink queue: %v", err)
	}
	if err := ch.QueueBind(q.Name, "Metrics.#", exchange, false, nil); err != nil {
		t.Fatalf("bind the sink queue: %v", err)
	}
}

// TestTenThousandDeployments: with 10,000 deployments the page lists a
// bounded number of them, the filter finds one by name, and a click on it
// follows it: its chart fills while the run goes on.
func TestTenThousandDeployments(t *testing.T) {
	browsertest.Chromium(t)
	uri := brokertest.AMQPURI(t)
	exchange := exchangeFor(t, uri)
	sink(t, uri, exchange)
	cfg := writeConfig(t, `deployments:
  - name: web
    count: 10000
    metrics:
      cpu: {sine: {min: 1, max: 6, period: 30s}}
`)
	s := startSend(t, "", "-c", cfg, "--uri", uri, "--exchange", exchange, "--interval", "2s")
	b := openPage(t, s)
	waitText(t, b, "the run's size", sel("run-deployments"), "10000")
	b.WaitTrue(t, "the list's bound", `document.querySelector(`+js(sel("list-count"))+`)?.textContent.startsWith("shown 200 of 10000")`, hang)
	if n := count(t, b, sel("deployment-item")); n != 200 {
		t.Errorf("the list holds %d deployments, want 200 (its bound)", n)
	}

	b.Do(t, "type web-9876 into the filter", chromedp.SendKeys(chromedp.CSS(sel("filter")), "web-9876"))
	waitText(t, b, "the filter's match count", sel("list-count"), "shown 1 of 10000")
	items := dataset(t, b, sel("deployment-item"))
	if len(items) != 1 || items[0]["name"] != "web-9876" || items[0]["selected"] != "false" {
		t.Fatalf("the filtered list is %v, want web-9876 alone, not followed", items)
	}

	b.Do(t, "click web-9876", chromedp.Click(chromedp.CSS(sel("deployment-item"))))
	waitCount(t, b, "two cpu points of web-9876", sel("point", metricSVG("web-9876", "cpu")), 2)
	if got := dataset(t, b, sel("deployment-item")); len(got) != 1 || got[0]["selected"] != "true" {
		t.Errorf("after the click the list is %v, want web-9876 followed", got)
	}
	if n := count(t, b, sel("chart")); n != 1 {
		t.Errorf("%d charts, want web-9876's alone", n)
	}
	b.NoErrors(t)
}
