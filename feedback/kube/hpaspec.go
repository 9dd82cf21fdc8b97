package kube

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/labsea/metricsender/policy"
)

// hpaDefaults are the controller-wide settings an HPA's spec does not
// carry: kube-controller-manager's flags.
type hpaDefaults struct {
	tolerance     float64       // --horizontal-pod-autoscaler-tolerance (0.1)
	stabilization time.Duration // --horizontal-pod-autoscaler-downscale-stabilization (5m)
}

// bridgeLabel is the label the metrics-api bridge puts on every app's
// series (app=<name>): an External metric's selector picks an app with it.
const bridgeLabel = "app"

// hpaConfig is the stand-in's configuration of the HPA h, which targets
// app's workload w (its containers; nil when the workload is not listed):
// the one metric of its spec that app sends, min and max, behavior and
// tolerance. sends are the metrics app sends. The error says, for the log
// and the report, why the judge cannot follow h for app; it never guesses.
//
// Metrics:
//   - External, AverageValue target, selecting app=<app>: source external
//     (desired = ceil(total / averageValue));
//   - Object on deployments/<app>, AverageValue target: the same formula;
//   - Pods, AverageValue; Resource, AverageValue or Utilization (of the
//     pod's summed requests): source pods, the app's value taken as every
//     pod's.
//
// Not followed: a Value target (the controller multiplies by the ready
// pods), ContainerResource, a spec with another metric beside the app's
// (the controller takes the highest proposal of all), minReplicas 0, and
// tolerances that differ by direction.
func hpaConfig(h *autoscalingv2.HorizontalPodAutoscaler, app string, sends []string, w *workload, def hpaDefaults) (policy.HPAConfig, error) {
	c := policy.DefaultHPAConfig()
	c.Tolerance, c.Stabilization = def.tolerance, def.stabilization
	c.Min, c.Max = 1, float64(h.Spec.MaxReplicas)
	if m := h.Spec.MinReplicas; m != nil {
		c.Min = float64(*m)
	}
	if c.Min < 1 {
		return c, fmt.Errorf("minReplicas %g: scaling to zero is not followed", c.Min)
	}
	metrics := h.Spec.Metrics
	if len(metrics) == 0 { // the API server's default
		u := int32(80)
		metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &u}}}}
	}
	var names []string
	i := -1
	for j, m := range metrics {
		name := metricName(m)
		names = append(names, string(m.Type)+" "+name)
		if slices.Contains(sends, name) && i < 0 {
			i = j
		}
	}
	switch {
	case i < 0:
		return c, fmt.Errorf("none of its metrics (%s) is one app %s sends (%s)", strings.Join(names, ", "), app, strings.Join(sends, ", "))
	case len(metrics) > 1:
		return c, fmt.Errorf("it scales on %d metrics (%s): the controller takes the highest proposal of them, the judge follows one", len(metrics), strings.Join(names, ", "))
	}
	if err := setMetric(&c, metrics[i], app, w); err != nil {
		return c, fmt.Errorf("metric %s %s: %w", metrics[i].Type, metricName(metrics[i]), err)
	}
	if err := setBehavior(&c, h.Spec.Behavior); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// metricName is the name m scales on.
func metricName(m autoscalingv2.MetricSpec) string {
	switch {
	case m.External != nil:
		return m.External.Metric.Name
	case m.Object != nil:
		return m.Object.Metric.Name
	case m.Pods != nil:
		return m.Pods.Metric.Name
	case m.Resource != nil:
		return string(m.Resource.Name)
	case m.ContainerResource != nil:
		return string(m.ContainerResource.Name)
	}
	return ""
}

// setMetric sets c's metric, source and target from m.
func setMetric(c *policy.HPAConfig, m autoscalingv2.MetricSpec, app string, w *workload) error {
	c.Metric = metricName(m)
	var t autoscalingv2.MetricTarget
	switch {
	case m.External != nil:
		if err := selectsApp(m.External.Metric.Selector, app); err != nil {
			return err
		}
		c.Source, t = policy.SourceExternal, m.External.Target
	case m.Object != nil:
		o := m.Object.DescribedObject
		if o.Kind != "Deployment" || o.Name != app || (o.APIVersion != "" && o.APIVersion != "apps/v1") {
			return fmt.Errorf("describes %s %s: the bridge serves app %s as deployments/%s", o.Kind, o.Name, app, app)
		}
		c.Source, t = policy.SourceExternal, m.Object.Target
	case m.Pods != nil:
		c.Source, t = policy.SourcePods, m.Pods.Target
	case m.Resource != nil:
		c.Source, t = policy.SourcePods, m.Resource.Target
		if t.Type == autoscalingv2.UtilizationMetricType && t.AverageUtilization != nil {
			req, err := podRequest(w, m.Resource.Name)
			if err != nil {
				return err
			}
			c.Target = req * float64(*t.AverageUtilization) / 100
			return nil
		}
	default:
		return errors.New("not followed (External, Object, Pods and Resource are)")
	}
	if t.Type != autoscalingv2.AverageValueMetricType || t.AverageValue == nil {
		return fmt.Errorf("target type %s: not followed (the controller scales a Value target by the ready pods); use AverageValue", t.Type)
	}
	c.Target = t.AverageValue.AsApproximateFloat64()
	return nil
}

// selectsApp checks that an External metric's selector picks the series
// the bridge labels app=<app>, and no other app's: without it the
// controller sums every app's value.
func selectsApp(sel *metav1.LabelSelector, app string) error {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return fmt.Errorf("selector: %w", err)
	}
	if v, ok := s.RequiresExactMatch(bridgeLabel); !ok || v != app || !s.Matches(labels.Set{bridgeLabel: app}) {
		return fmt.Errorf("selector %q: want %s=%s, the series the bridge serves for app %s (without it the controller sums every app's)",
			s.String(), bridgeLabel, app, app)
	}
	return nil
}

// podRequest is the sum of the containers' requests of res, as the
// controller divides a pod's usage by it; an error when a container has
// none (the controller fails then too).
func podRequest(w *workload, res corev1.ResourceName) (float64, error) {
	if w == nil {
		return 0, fmt.Errorf("utilization of %s: the workload is not listed, so its requests are unknown", res)
	}
	var sum float64
	for _, c := range w.containers {
		q, ok := c.Resources.Requests[res]
		if !ok {
			return 0, fmt.Errorf("utilization of %s: container %q has no %s request (the controller fails too)", res, c.Name, res)
		}
		sum += q.AsApproximateFloat64()
	}
	if sum <= 0 {
		return 0, fmt.Errorf("utilization of %s: the pod requests none", res)
	}
	return sum, nil
}

// setBehavior sets c's behavior and tolerance from the spec's; nil keeps
// the controller's rules for an HPA without one.
func setBehavior(c *policy.HPAConfig, b *autoscalingv2.HorizontalPodAutoscalerBehavior) error {
	if b == nil {
		return nil
	}
	c.Behavior = policy.DefaultBehavior()
	c.Behavior.ScaleDown.Window = nil // the controller's stabilization unless the spec says
	up, down := c.Tolerance, c.Tolerance
	for _, d := range []struct {
		name  string
		spec  *autoscalingv2.HPAScalingRules
		rules *policy.Rules
		tol   *float64
	}{{"scaleUp", b.ScaleUp, &c.Behavior.ScaleUp, &up}, {"scaleDown", b.ScaleDown, &c.Behavior.ScaleDown, &down}} {
		s := d.spec
		if s == nil {
			continue
		}
		if s.StabilizationWindowSeconds != nil {
			w := time.Duration(*s.StabilizationWindowSeconds) * time.Second
			d.rules.Window = &w
		}
		if s.SelectPolicy != nil {
			d.rules.Select = policy.Select(*s.SelectPolicy)
		}
		if len(s.Policies) > 0 {
			d.rules.Policies = nil
			for _, p := range s.Policies {
				if p.Type != autoscalingv2.PodsScalingPolicy && p.Type != autoscalingv2.PercentScalingPolicy {
					return fmt.Errorf("behavior.%s: policy type %q: want Pods or Percent", d.name, p.Type)
				}
				d.rules.Policies = append(d.rules.Policies, policy.ScalingPolicy{Percent: p.Type == autoscalingv2.PercentScalingPolicy,
					Value: int(p.Value), Period: time.Duration(p.PeriodSeconds) * time.Second})
			}
		}
		if s.Tolerance != nil {
			*d.tol = s.Tolerance.AsApproximateFloat64()
		}
	}
	if up != down {
		return fmt.Errorf("behavior: tolerance %g up, %g down: one tolerance for both directions is followed", up, down)
	}
	c.Tolerance = up
	return nil
}
