package observability_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// memStorage keeps float samples in memory for TestLive's PromQL: the
// appender and querier the engine needs, and nothing else. Prometheus'
// TSDB (util/teststorage) imports its config package and through it every
// service discovery and cloud SDK: some 600 more packages to compile on a
// fresh clone (issue 21). Like the TSDB it refuses out-of-order samples and
// a second, different value at a timestamp, and shows samples only after
// Commit.
type memStorage struct {
	mu     sync.Mutex
	series map[string]*memSeries // by labels.Labels.String()
}

type memSeries struct {
	lset    labels.Labels
	samples []fSample
}

func newMemStorage() *memStorage { return &memStorage{series: map[string]*memSeries{}} }

func (s *memStorage) Appender(context.Context) storage.Appender { return &memAppender{s: s} }

// Querier returns the series matching all matchers, sorted, with their
// samples in [mint, maxt].
func (s *memStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	return &storage.MockQuerier{SelectMockFunction: func(_ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
		s.mu.Lock()
		defer s.mu.Unlock()
		var out []storage.Series
		for _, sr := range s.series {
			if !matchAll(sr.lset, ms) {
				continue
			}
			var in []chunks.Sample
			for _, p := range sr.samples {
				if p.t >= mint && p.t <= maxt {
					in = append(in, p)
				}
			}
			if len(in) > 0 {
				out = append(out, storage.NewListSeries(sr.lset, in))
			}
		}
		slices.SortFunc(out, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
		return &seriesList{list: out, i: -1}
	}}, nil
}

func matchAll(lset labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// memAppender buffers samples until Commit. Only Append is implemented:
// the embedded nil Appender panics on anything else (histograms,
// exemplars...), which TestLive never appends.
type memAppender struct {
	storage.Appender
	s       *memStorage
	pending []struct {
		lset labels.Labels
		p    fSample
	}
}

func (a *memAppender) Append(_ storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	if _, dup := l.HasDuplicateLabelNames(); l.IsEmpty() || dup {
		return 0, fmt.Errorf("invalid labels %s", l)
	}
	a.pending = append(a.pending, struct {
		lset labels.Labels
		p    fSample
	}{l, fSample{t, v}})
	return 0, nil
}

func (a *memAppender) Commit() error {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	var errs []error
	for _, e := range a.pending {
		key := e.lset.String()
		sr := a.s.series[key]
		if sr == nil {
			sr = &memSeries{lset: e.lset}
			a.s.series[key] = sr
		}
		if n := len(sr.samples); n > 0 {
			last := sr.samples[n-1]
			switch {
			case e.p.t < last.t:
				errs = append(errs, fmt.Errorf("%s at %d: out of order sample", key, e.p.t))
				continue
			case e.p.t == last.t && e.p.f != last.f:
				errs = append(errs, fmt.Errorf("%s at %d: duplicate sample for timestamp", key, e.p.t))
				continue
			case e.p.t == last.t:
				continue
			}
		}
		sr.samples = append(sr.samples, e.p)
	}
	a.pending = nil
	return errors.Join(errs...)
}

func (a *memAppender) Rollback() error { a.pending = nil; return nil }

// fSample is a float sample, as chunks.Sample.
type fSample struct {
	t int64
	f float64
}

func (s fSample) T() int64                      { return s.t }
func (s fSample) ST() int64                     { return 0 }
func (s fSample) F() float64                    { return s.f }
func (s fSample) H() *histogram.Histogram       { return nil }
func (s fSample) FH() *histogram.FloatHistogram { return nil }
func (s fSample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s fSample) Copy() chunks.Sample           { return s }

// seriesList is a storage.SeriesSet over a sorted slice.
type seriesList struct {
	list []storage.Series
	i    int
}

func (l *seriesList) Next() bool                        { l.i++; return l.i < len(l.list) }
func (l *seriesList) At() storage.Series                { return l.list[l.i] }
func (l *seriesList) Err() error                        { return nil }
func (l *seriesList) Warnings() annotations.Annotations { return nil }

var _ storage.Queryable = (*memStorage)(nil)
