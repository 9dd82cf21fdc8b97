package telemetry

import (
	"maps"
	"slices"
	"sync"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/judge"
)

// The label values send knows before its first tick show at 0 from the
// first scrape, as Prometheus advises: rate() and increase() then see the
// first increment, and an alert can tell "never started" from "not
// exported". They are the deployments this sender sends (its shard's),
// followed through reloads, and the metrics that can open a request to
// the operator under test. Families whose label values are fixed words
// (publish errors, reloads, feedback errors, fault kinds) list them where
// they are made.

// knownSeries is what of the running config the zero series follow.
type knownSeries struct {
	mu       sync.Mutex
	cfg      *generator.Config
	shard    generator.Shard
	reaction *Reaction // nil until Judged (without --feedback, for good)
}

// Configured shows, with per-deployment series on, the published and
// unroutable series of cfg's deployments that shard owns at 0, and keeps
// cfg for Judged. Call it once, before /metrics is served.
func (m *Send) Configured(cfg *generator.Config, shard generator.Shard) {
	m.known.mu.Lock()
	m.known.cfg, m.known.shard = cfg, shard
	m.known.mu.Unlock()
	if m.apps != nil {
		m.apps.show(ownNames(cfg, shard))
	}
}

// Applied follows a reload that applied cfg: a deployment res added shows
// at 0, one it removed goes away (Forget), and a metric that can now open
// a request shows in the operator's series at 0. res names only this
// shard's deployments (Schedule.Apply).
func (m *Send) Applied(cfg *generator.Config, res generator.ApplyResult) {
	if m.apps != nil && len(res.Added) > 0 {
		m.apps.show(res.Added)
	}
	m.Forget(res.Removed)
	m.known.mu.Lock()
	defer m.known.mu.Unlock()
	m.known.cfg = cfg
	if m.known.reaction != nil {
		m.known.reaction.zero(requestMetrics(cfg, m.known.shard))
	}
}

// Judged shows r's series (operator_requests_total by result,
// operator_reaction_seconds) at 0 for every metric that can open a
// request, now and after each reload, and returns r (for
// judge.TrackerConfig.Hooks).
func (m *Send) Judged(r *Reaction) *Reaction {
	m.known.mu.Lock()
	defer m.known.mu.Unlock()
	m.known.reaction = r
	if m.known.cfg != nil {
		r.zero(requestMetrics(m.known.cfg, m.known.shard))
	}
	return r
}

// requestResults are the results operator_requests_total counts (see
// Reaction.Applied and Superseded).
var requestResults = []string{"applied", "superseded"}

// zero makes the series of metrics exist: at 0, or as they are.
func (r *Reaction) zero(metrics []string) {
	for _, metric := range metrics {
		for _, result := range requestResults {
			r.requests.WithLabelValues(metric, result)
		}
		r.reaction.WithLabelValues(metric)
	}
}

// requestMetrics are the metrics of shard's deployments in cfg that can
// open a request to the operator under test, sorted: the judge says which
// (judge.CanRequest). A metric whose values are not numbers opens none and
// stays at 0.
func requestMetrics(cfg *generator.Config, shard generator.Shard) []string {
	seen := make(map[string]bool)
	for _, d := range cfg.Deployments {
		if !shard.Owns(d.Name) {
			continue
		}
		for _, ms := range d.Metrics {
			if judge.CanRequest(d, ms.Name) {
				seen[ms.Name] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// ownNames are the names of cfg's deployments that shard owns, in order.
func ownNames(cfg *generator.Config, shard generator.Shard) []string {
	names := make([]string, 0, len(cfg.Deployments))
	for _, d := range cfg.Deployments {
		if shard.Owns(d.Name) {
			names = append(names, d.Name)
		}
	}
	return names
}
