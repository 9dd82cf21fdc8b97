package observability_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// scrapeTarget is one running process whose /metrics the test scrapes, as
// Prometheus would: its samples get job and instance labels.
type scrapeTarget struct {
	job, addr string
}

// scrape reads t's /metrics and parses the text exposition.
func scrape(ctx context.Context, t scrapeTarget) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", t.job, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", t.job, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: parse: %w", t.job, err)
	}
	return mfs, nil
}

// seriesNames adds to names the series names a family puts in Prometheus:
// a histogram's _bucket, _sum and _count, a summary's own name (the
// quantiles), _sum and _count, anything else its name.
func seriesNames(mf *dto.MetricFamily, names map[string]bool) {
	n := mf.GetName()
	switch mf.GetType() {
	case dto.MetricType_HISTOGRAM:
		names[n+"_bucket"], names[n+"_sum"], names[n+"_count"] = true, true, true
	case dto.MetricType_SUMMARY:
		names[n], names[n+"_sum"], names[n+"_count"] = true, true, true
	default:
		names[n] = true
	}
}

// appendFamilies writes the samples of mfs at ts into app, as the series
// Prometheus would store, each labelled with the target's job and instance.
func appendFamilies(app storage.Appender, tg scrapeTarget, mfs map[string]*dto.MetricFamily, ts int64) error {
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			base := map[string]string{"job": tg.job, "instance": tg.addr}
			for _, lp := range m.GetLabel() {
				base[lp.GetName()] = lp.GetValue()
			}
			add := func(name string, v float64, extra ...string) error {
				ls := labels.NewBuilder(labels.FromMap(base)).Set(labels.MetricName, name)
				for i := 0; i+1 < len(extra); i += 2 {
					ls.Set(extra[i], extra[i+1])
				}
				_, err := app.Append(0, ls.Labels(), ts, v)
				return err
			}
			var err error
			n := mf.GetName()
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				err = add(n, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				err = add(n, m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				err = add(n, m.GetUntyped().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				inf := false
				for _, b := range h.GetBucket() {
					inf = inf || math.IsInf(b.GetUpperBound(), 1)
					if err = add(n+"_bucket", float64(b.GetCumulativeCount()), "le", formatLe(b.GetUpperBound())); err != nil {
						return err
					}
				}
				if !inf {
					err = add(n+"_bucket", float64(h.GetSampleCount()), "le", "+Inf")
				}
				if err == nil {
					err = add(n+"_sum", h.GetSampleSum())
				}
				if err == nil {
					err = add(n+"_count", float64(h.GetSampleCount()))
				}
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					if err = add(n, q.GetValue(), "quantile", strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)); err != nil {
						return err
					}
				}
				if err == nil {
					err = add(n+"_sum", s.GetSampleSum())
				}
				if err == nil {
					err = add(n+"_count", float64(s.GetSampleCount()))
				}
			}
			if err != nil {
				return fmt.Errorf("append %s: %w", n, err)
			}
		}
	}
	return nil
}

func formatLe(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// waitReady polls addr's /readyz until it answers 200; the limit only
// catches a process that never gets there.
func waitReady(t *testing.T, name, addr string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (%s) not ready after %s: %v", name, addr, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
