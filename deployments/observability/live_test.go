package observability_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/proctest"
)

// liveRun is how long TestLive scrapes, once a second; the rate
// interval is what Grafana's $__rate_interval is for that scrape
// interval (four of them, and a little).
const (
	liveRun          = 25 * time.Second
	liveRateInterval = "5s"
	totalsRow        = "Totals"
	// liveExchange keeps the run's messages apart from other programs'
	// on the broker's is exchange (their Metrics.* would reach the
	// receiver and the operator).
	liveExchange = "metricsender-observability-test"
)

// The configs of TestLive's senders. They are written to a temporary
// directory, not kept under testdata/: every YAML file under deployments/
// is read as a Kubernetes manifest by the deployments tests.
const (
	// liveConfig: per-app series and feedback, a closed loop every second
	// whose replicas move both ways (oscillations) and whose cpu is an
	// expression over them (observed allocation, expression metrics).
	liveConfig = `interval: 1s
seed: 7
deployments:
  - name: web
    count: 3
    state: {replicas: 2, allocation: {cpu: 500m}}
    metrics:
      replicas: [1, 2, 3, 4]
      cpu:
        expr: "load / replicas"
        vars:
          load: {sine: {min: 1, max: 4, period: 20s}}
`
	// totalsConfig, run with --app-metrics-limit 0: its published and
	// unroutable counters are totals without an app label, and it exports
	// no last_value or observed series.
	totalsConfig = `interval: 1s
seed: 8
deployments:
  - name: batch
    count: 2
    metrics:
      cpu: [100m, 200m]
`
)

// TestLive runs a sender with every series on (feedback from the
// stand-in operator, an expression metric, per-app series), a second
// sender with per-app series off (--app-metrics-limit 0), a receiver and
// the stand-in operator against RabbitMQ, and scrapes them every second
// into memory (memstorage_test.go). Then: every metric the rules and the
// dashboard read must be one they export; every panel query, evaluated by
// Prometheus' engine over the run, must return data; the totals row must
// return data from the processes without per-app series alone; and the
// panels are drawn (into docs/dashboard.png with -update).
//
// It needs the broker: run it under flock /tmp/metricsender-broker.lock.
func TestLive(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	bin, remove, err := proctest.BuildLikeTest("metricsender-observability")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)

	dir := t.TempDir()
	liveCfg, totalsCfg := filepath.Join(dir, "live.yaml"), filepath.Join(dir, "totals.yaml")
	for p, body := range map[string]string{liveCfg: liveConfig, totalsCfg: totalsConfig} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	recv := scrapeTarget{job: "receive", addr: brokertest.FreeAddr(t)}
	op := scrapeTarget{job: "operator", addr: brokertest.FreeAddr(t)}
	send := scrapeTarget{job: "send", addr: brokertest.FreeAddr(t)}
	totals := scrapeTarget{job: "send-totals", addr: brokertest.FreeAddr(t)}
	proctest.Start(t, bin, "receive", "receive", "--uri", uri, "--exchange", liveExchange, "--http-addr", recv.addr)
	proctest.Start(t, bin, "operator", "operator", "--uri", uri, "--exchange", liveExchange, "--policy", "follow",
		"--delay", "300ms", "--jitter", "700ms", "--seed", "1", "--http-addr", op.addr)
	waitReady(t, "receive", recv.addr, 30*time.Second)
	waitReady(t, "operator", op.addr, 30*time.Second)
	proctest.Start(t, bin, "send", "send", "-c", liveCfg, "--uri", uri, "--exchange", liveExchange,
		"--feedback", "bus", "--oscillation-window", "1m", "--http-addr", send.addr)
	proctest.Start(t, bin, "send-totals", "send", "-c", totalsCfg, "--uri", uri, "--exchange", liveExchange,
		"--app-metrics-limit", "0", "--http-addr", totals.addr)
	waitReady(t, "send", send.addr, 30*time.Second)
	waitReady(t, "send-totals", totals.addr, 30*time.Second)

	all := newMemStorage()    // every process
	noApps := newMemStorage() // all but the sender with per-app series
	exported := map[string]bool{}
	start := time.Now()
	ctx := context.Background()
	for now := start; now.Sub(start) <= liveRun; now = now.Add(time.Second) {
		time.Sleep(time.Until(now))
		ts := time.Now().UnixMilli()
		appAll, appNoApps := all.Appender(ctx), noApps.Appender(ctx)
		for _, tg := range []scrapeTarget{send, totals, recv, op} {
			mfs, err := scrape(ctx, tg)
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				seriesNames(mf, exported)
			}
			if err := appendFamilies(appAll, tg, mfs, ts); err != nil {
				t.Fatal(err)
			}
			if tg != send {
				if err := appendFamilies(appNoApps, tg, mfs, ts); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := appAll.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := appNoApps.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	end := time.Now()

	rules := readRules(t, rulesPath)
	dash := readDashboard(t, dashboardPath)
	t.Run("queries read only exported metrics", func(t *testing.T) {
		qs := append(ruleQueries(rulesPath, rules), panelQueries(dashboardPath, dash, grafanaVars(liveRateInterval))...)
		for _, p := range checkQueries(qs, exported) {
			t.Error(p)
		}
	})
	results := evalPanels(t, all, dash, start, end)
	t.Run("every panel query returns data", func(t *testing.T) {
		for _, pr := range results {
			for _, s := range pr.series {
				if s.points == 0 {
					t.Errorf("panel %q target %s: no data over the run: %s", pr.panel.Title, s.refID, s.expr)
				}
			}
		}
	})
	t.Run("totals work with per-app series off", func(t *testing.T) {
		if got := instantCount(t, noApps, `count(metricsender_last_value) or count(metricsender_messages_published_total{app!=""})`, end); got != 0 {
			t.Fatalf("the --app-metrics-limit 0 sender exported %v per-app series: the case is not tested", got)
		}
		var n int
		for _, pr := range evalPanels(t, noApps, dash, start, end) {
			if pr.row != totalsRow {
				continue
			}
			for _, s := range pr.series {
				n++
				if s.points == 0 {
					t.Errorf("panel %q target %s: no data without per-app series: %s", pr.panel.Title, s.refID, s.expr)
				}
			}
		}
		if n == 0 {
			t.Fatalf("no panel in a row titled %q", totalsRow)
		}
	})
	t.Run("render", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "dashboard.png")
		if *update {
			out = filepath.Join("..", "..", "docs", "dashboard.png")
		}
		if err := renderPanels(out, dash.Title, results, start); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", out)
	})
}

// panelResult is what one panel's queries returned over the run.
type panelResult struct {
	panel  panel
	row    string // the title of the row above it, up to its first word's end ("Totals", ...)
	series []targetResult
}

type targetResult struct {
	refID, expr, legend string
	matrix              promql.Matrix
	points              int // finite float points over all its series
}

// evalPanels runs every target of every panel (rows left out) as a range
// query over [start, end] at a one second step, as Grafana would with
// the dashboard's variables at their "All" values.
func evalPanels(t *testing.T, q storage.Queryable, d dashboard, start, end time.Time) []panelResult {
	t.Helper()
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 10_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	vars := grafanaVars(liveRateInterval)
	var out []panelResult
	row := ""
	for _, p := range d.Panels {
		if p.Type == "row" {
			row, _, _ = strings.Cut(p.Title, " ")
			continue
		}
		pr := panelResult{panel: p, row: row}
		for _, tg := range p.Targets {
			expr := substitute(tg.Expr, vars)
			rq, err := engine.NewRangeQuery(context.Background(), q, nil, expr, start, end, time.Second)
			if err != nil {
				t.Fatalf("panel %q target %s: %v", p.Title, tg.RefID, err)
			}
			res := rq.Exec(context.Background())
			m, err := res.Matrix()
			if err != nil {
				t.Fatalf("panel %q target %s: %v", p.Title, tg.RefID, err)
			}
			// The engine takes the points back into its pools on Close: keep a copy.
			tr := targetResult{refID: tg.RefID, expr: expr, legend: tg.LegendFormat, matrix: make(promql.Matrix, len(m))}
			for i, s := range m {
				tr.matrix[i] = promql.Series{Metric: s.Metric, Floats: slices.Clone(s.Floats)}
				for _, f := range s.Floats {
					if !math.IsNaN(f.F) && !math.IsInf(f.F, 0) {
						tr.points++
					}
				}
			}
			rq.Close()
			pr.series = append(pr.series, tr)
		}
		out = append(out, pr)
	}
	return out
}

// instantCount evaluates expr at ts and returns the sum of its values (0
// when it returns nothing).
func instantCount(t *testing.T, q storage.Queryable, expr string, ts time.Time) float64 {
	t.Helper()
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	iq, err := engine.NewInstantQuery(context.Background(), q, nil, expr, ts)
	if err != nil {
		t.Fatal(err)
	}
	defer iq.Close()
	v, err := iq.Exec(context.Background()).Vector()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, s := range v {
		sum += s.F
	}
	return sum
}
