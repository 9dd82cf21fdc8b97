package pagetest_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/browsertest"
)

// TestPauseStopsTheWire: with --enable-control, the pause button of a
// followed deployment stops its messages on the wire from the next tick
// (one tick may be in flight as the answer comes), while the others go
// on; resume brings them back.
func TestPauseStopsTheWire(t *testing.T) {
	browsertest.Chromium(t)
	uri := brokertest.AMQPURI(t)
	exchange := exchangeFor(t, uri)
	onWire := consume(t, uri, exchange)
	s := startSend(t, "", "-c", writeConfig(t, smallConfig), "--uri", uri, "--exchange", exchange,
		"--interval", "200ms", "--enable-control")
	b := openPage(t, s, "web-0")
	inChart := chart("web-0")
	waitCount(t, b, "two cpu points of web-0", sel("point", metricSVG("web-0", "cpu")), 2)
	if got := dataset(t, b, sel("chart-paused", inChart)); len(got) != 1 || got[0]["paused"] != "false" {
		t.Fatalf("web-0's pause state %v, want sending", got)
	}

	b.Do(t, "click pause", chromedp.Click(chromedp.CSS(sel("pause", inChart))))
	b.WaitTrue(t, "the pause's answer (2xx)", `/^2\d\d$/.test(document.querySelector(`+js(sel("control-result", inChart))+`)?.dataset.status)`, hang)
	atAnswer := len(onWire.of("web-0"))
	waitText(t, b, "web-0 paused", sel("chart-paused", inChart), "paused")
	// Four more ticks of web-1 on the wire: web-0 sent at most the one in
	// flight when the pause was answered.
	others := len(onWire.of("web-1"))
	onWire.waitFor(t, s, "web-1", others+4)
	if after := len(onWire.of("web-0")); after > atAnswer+1 {
		t.Errorf("web-0 sent %d messages in the four ticks after the pause was answered, want at most 1 (the tick in flight)", after-atAnswer)
	}

	b.Do(t, "click resume", chromedp.Click(chromedp.CSS(sel("resume", inChart))))
	waitText(t, b, "web-0 sending again", sel("chart-paused", inChart), "sending")
	resumed := len(onWire.of("web-0"))
	onWire.waitFor(t, s, "web-0", resumed+2)
	onWire.noneBad(t)
	b.NoErrors(t)
}
