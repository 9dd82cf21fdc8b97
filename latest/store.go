package latest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// Value is one app's latest value of one metric.
type Value struct {
	App, Metric string
	// Text is the value as it was on the wire ("0.5", "750m", "1Gi");
	// Num is the number it stands for.
	Text string
	Num  float64
	// Time is the message's timestamp, or when it was received if the
	// message had none.
	Time time.Time
}

// cell is a kept value; times are Unix nanoseconds.
type cell struct {
	text     string
	num      float64
	at       int64 // the message's timestamp
	received int64
}

// seen is what the store knows of an app's pace.
type seen struct {
	newest   int64         // the newest message timestamp so far
	interval time.Duration // measured; 0 until the timestamps advanced once
}

// Store is the latest value of every (app, metric). Safe for concurrent
// use: reads share a lock, each Put takes it once.
type Store struct {
	maxAge time.Duration
	now    func() time.Time
	m      mapping

	mu       sync.RWMutex
	byMetric map[string]map[string]*cell // metric -> app -> value
	apps     map[string]*seen
	known    map[string]bool // metric names of the config and of every message
	values   int
}

// New returns an empty store, or an error naming what is wrong with cfg.
func New(cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("latest store config: %w", err)
	}
	s := &Store{maxAge: cfg.MaxAge, now: cfg.Now, m: newMapping(cfg.Run),
		byMetric: map[string]map[string]*cell{}, apps: map[string]*seen{}, known: map[string]bool{}}
	for _, name := range s.m.metrics {
		s.known[name] = true
	}
	return s, nil
}

// Put records a decoded message: each of its metrics that is a number
// becomes that app's latest value, timestamped with the message's time
// (with none, now). It returns how many metrics it skipped because they
// were not numbers.
func (s *Store) Put(rcv codec.Received) (skipped int) {
	now := s.now().UnixNano()
	at := now
	if !rcv.Time.IsZero() {
		at = rcv.Time.UnixNano()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.apps[rcv.App]
	if app == nil {
		app = &seen{newest: at}
		s.apps[rcv.App] = app
	} else if at > app.newest {
		app.interval = time.Duration(at - app.newest)
		app.newest = at
	}
	for _, m := range rcv.Metrics {
		if !m.Value.HasNum {
			skipped++
			continue
		}
		apps := s.byMetric[m.Name]
		if apps == nil {
			apps = map[string]*cell{}
			s.byMetric[m.Name] = apps
			s.known[m.Name] = true
		}
		c := apps[rcv.App]
		if c == nil {
			c = &cell{}
			apps[rcv.App] = c
			s.values++
		}
		*c = cell{text: m.Value.Text, num: m.Value.Num, at: at, received: now}
	}
	return skipped
}

// Known reports whether metric was ever received or is in Config.Run.
// A consumer answers a known metric without values with an empty list,
// an unknown one with "not found".
func (s *Store) Known(metric string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.known[metric]
}

// Metrics lists the known metric names, sorted.
func (s *Store) Metrics() []string {
	s.mu.RLock()
	names := make([]string, 0, len(s.known))
	for name := range s.known {
		names = append(names, name)
	}
	s.mu.RUnlock()
	slices.Sort(names)
	return names
}

// Get is app's latest value of metric as served in namespace; false when
// there is none, it aged out, or the app is served in another namespace.
func (s *Store) Get(metric, namespace, app string) (Value, bool) {
	if !s.inNamespace(app, namespace) {
		return Value{}, false
	}
	now := s.now().UnixNano()
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.byMetric[metric][app]
	if c == nil || !s.fresh(app, c, now) {
		return Value{}, false
	}
	return c.value(app, metric), true
}

// Each calls fn with every fresh value of metric served in namespace, in
// no particular order, until fn returns false. It holds the read lock
// meanwhile: fn must not call the store.
func (s *Store) Each(metric, namespace string, fn func(Value) bool) {
	now := s.now().UnixNano()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for app, c := range s.byMetric[metric] {
		if !s.inNamespace(app, namespace) || !s.fresh(app, c, now) {
			continue
		}
		if !fn(c.value(app, metric)) {
			return
		}
	}
}

// Object is the app whose values a workload of kind (generator.KindDeployment
// or KindStatefulSet) named name in namespace carries: the one Config.Run
// maps there, else, for a Deployment, the app of that name if it is served
// in namespace and the config maps it to no workload. False when there is
// none.
func (s *Store) Object(namespace, kind, name string) (app string, ok bool) {
	if app, ok := s.m.objects[objectKey{namespace, kind, name}]; ok {
		return app, true
	}
	if app, ok := s.m.objects[objectKey{"", kind, name}]; ok {
		return app, true
	}
	if _, mapped := s.m.workload[name]; !mapped && kind == generator.KindDeployment && s.inNamespace(name, namespace) {
		return name, true
	}
	return "", false
}

// Workload is the workload whose values app's are: the one Config.Run maps
// it to, else the Deployment named like the app. Object(ns, kind, name)
// finds app again in any namespace app is served in.
func (s *Store) Workload(app string) (kind, name string) {
	if w, ok := s.m.workload[app]; ok {
		return w.kind, w.name
	}
	return generator.KindDeployment, app
}

// Stats counts what the store holds.
type Stats struct {
	Apps    int // apps seen
	Values  int // (app, metric) values kept, fresh or not
	Metrics int // known metric names
}

// Stats counts what the store holds now.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Stats{Apps: len(s.apps), Values: s.values, Metrics: len(s.known)}
}

// inNamespace reports whether app is served in namespace: everywhere,
// unless Config.Run gives it a namespace of its own.
func (s *Store) inNamespace(app, namespace string) bool {
	ns, ok := s.m.namespace[app]
	return !ok || ns == namespace
}

// fresh reports whether c, app's value, is no older than the max age at
// now. Called under the lock.
func (s *Store) fresh(app string, c *cell, now int64) bool {
	return time.Duration(now-c.received) <= s.maxAgeOf(app)
}

// maxAgeOf is app's max age. Called under the lock.
func (s *Store) maxAgeOf(app string) time.Duration {
	if s.maxAge > 0 {
		return s.maxAge
	}
	interval := generator.DefaultInterval
	if seen := s.apps[app]; seen != nil && seen.interval > 0 {
		interval = seen.interval
	} else if configured, ok := s.m.interval[app]; ok && configured > 0 {
		interval = configured
	}
	return ageFactor * interval
}

func (c *cell) value(app, metric string) Value {
	return Value{App: app, Metric: metric, Text: c.text, Num: c.num, Time: time.Unix(0, c.at).UTC()}
}
