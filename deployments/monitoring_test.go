package deployments_test

import (
	"slices"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// monitoringFixture is a component with a ServiceMonitor and a
// PrometheusRule, so the monitoring.coreos.com/v1 path of the rendering and
// of checkMonitoring runs before any real component uses those kinds.
const monitoringFixture = "testdata/monitoring"

// TestMonitoringFixture renders the fixture in an overlay of the base, as
// an observability component is applied: its objects decode strictly into
// the Prometheus Operator's types and pass checkMonitoring.
func TestMonitoringFixture(t *testing.T) {
	objs := render(t, ".", monitoringFixture)
	object[*monitoringv1.ServiceMonitor](t, objs, senderName)
	object[*monitoringv1.PrometheusRule](t, objs, senderName)
	checkMonitoring(t, objs)
}

// checkMonitoring checks the Prometheus Operator objects of a render
// (TestKustomizations runs it on every one): each ServiceMonitor selects a
// Service of the same render and scrapes a port that Service names, and
// each rule is an alert or a recording with an expression.
func checkMonitoring(t *testing.T, objs objects) {
	t.Helper()
	services := all[*corev1.Service](objs)
	for _, sm := range all[*monitoringv1.ServiceMonitor](objs) {
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		if err != nil || sel.Empty() {
			t.Errorf("servicemonitor %s: selector %v: want a non-empty, valid one (%v)", sm.Name, sm.Spec.Selector, err)
			continue
		}
		var ports []string
		for _, svc := range services {
			if sel.Matches(labels.Set(svc.Labels)) {
				for _, p := range svc.Spec.Ports {
					ports = append(ports, p.Name)
				}
			}
		}
		if len(ports) == 0 {
			t.Errorf("servicemonitor %s: selector %v selects no Service of the render", sm.Name, sel)
		}
		if len(sm.Spec.Endpoints) == 0 {
			t.Errorf("servicemonitor %s has no endpoints", sm.Name)
		}
		for _, ep := range sm.Spec.Endpoints {
			if ep.Port == "" || !slices.Contains(ports, ep.Port) {
				t.Errorf("servicemonitor %s: endpoint port %q is not a port name of the selected Services %v", sm.Name, ep.Port, ports)
			}
		}
	}
	for _, pr := range all[*monitoringv1.PrometheusRule](objs) {
		if len(pr.Spec.Groups) == 0 {
			t.Errorf("prometheusrule %s has no groups", pr.Name)
		}
		for _, g := range pr.Spec.Groups {
			if g.Name == "" || len(g.Rules) == 0 {
				t.Errorf("prometheusrule %s: group %q: want a name and rules", pr.Name, g.Name)
			}
			for _, r := range g.Rules {
				if (r.Alert == "") == (r.Record == "") || r.Expr.String() == "" {
					t.Errorf("prometheusrule %s: rule %+v: want alert or record, and an expr", pr.Name, r)
				}
			}
		}
	}
}
