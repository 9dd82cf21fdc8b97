package latest

import (
	"errors"
	"fmt"
	"time"

	"github.com/labsea/metricsender/generator"
)

// Config configures a Store.
type Config struct {
	// MaxAge, when > 0, is the age past which every value is absent.
	// 0 means three times the interval each app is seen at.
	MaxAge time.Duration
	// Run is the sender's config; nil for none. It gives each app its
	// namespace and workload (`kubernetes:`), its interval until one is
	// measured, and the metric names known before any message arrives
	// (asked for, they are an empty answer, not an unknown metric).
	Run *generator.Config
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("MaxAge %s: must be >= 0", c.MaxAge))
	}
	return errors.Join(errs...)
}

// ageFactor times the interval an app is seen at is its default max age:
// one lost message is not an outage, three in a row are.
const ageFactor = 3

// objectKey names a workload in a namespace ("" for any namespace).
type objectKey struct{ namespace, kind, name string }

// mapping is what Config.Run says about apps; read-only after New.
type mapping struct {
	namespace map[string]string        // app -> its only namespace
	interval  map[string]time.Duration // app -> its configured interval
	objects   map[objectKey]string     // workload -> app
	workload  map[string]objectKey     // app -> its workload, when mapped
	metrics   []string                 // every metric name of the config
}

func newMapping(run *generator.Config) mapping {
	m := mapping{namespace: map[string]string{}, interval: map[string]time.Duration{}, objects: map[objectKey]string{}, workload: map[string]objectKey{}}
	if run == nil {
		return m
	}
	names := map[string]bool{}
	for _, d := range run.Deployments {
		m.interval[d.Name] = run.IntervalOf(d)
		for _, spec := range d.Metrics {
			if !names[spec.Name] {
				names[spec.Name] = true
				m.metrics = append(m.metrics, spec.Name)
			}
		}
		k := d.Kubernetes
		if k == nil {
			continue
		}
		if k.Namespace != "" {
			m.namespace[d.Name] = k.Namespace
		}
		kind := k.Kind
		if kind == "" {
			kind = generator.KindDeployment
		}
		name := k.Name
		if name == "" {
			name = d.Name
		}
		m.objects[objectKey{k.Namespace, kind, name}] = d.Name
		m.workload[d.Name] = objectKey{k.Namespace, kind, name}
	}
	return m
}
