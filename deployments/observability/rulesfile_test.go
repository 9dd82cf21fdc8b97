package observability_test

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite prometheusrule.yaml from rules.yaml and docs/dashboard.png from a live run")

const (
	rulesPath          = "rules.yaml"
	prometheusRulePath = "prometheusrule.yaml"
	dashboardPath      = "dashboard.json"
)

// prometheusRule is the Prometheus Operator's PrometheusRule, as far as
// we write and read it.
type prometheusRule struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels,omitempty"`
	} `yaml:"metadata"`
	Spec ruleFile `yaml:"spec"`
}

const prometheusRuleHeader = `# Generated from rules.yaml, the one source of the alerts (docker compose's
# Prometheus loads that file itself). Do not edit: change rules.yaml and run
#   go test -C deployments ./observability -run TestPrometheusRuleIsRulesFile -update
`

// TestPrometheusRuleIsRulesFile: the PrometheusRule's spec.groups equal
// the rules file compose loads, rule by rule (-update rewrites it).
func TestPrometheusRuleIsRulesFile(t *testing.T) {
	rf := readRules(t, rulesPath)
	if *update {
		var pr prometheusRule
		pr.APIVersion, pr.Kind = "monitoring.coreos.com/v1", "PrometheusRule"
		pr.Metadata.Name = "metricsender"
		pr.Metadata.Labels = map[string]string{"app.kubernetes.io/name": "metricsender"}
		pr.Spec = rf
		var buf bytes.Buffer
		buf.WriteString(prometheusRuleHeader)
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(pr); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(prometheusRulePath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(prometheusRulePath)
	if err != nil {
		t.Fatal(err)
	}
	var pr prometheusRule
	if err := yaml.Unmarshal(b, &pr); err != nil {
		t.Fatalf("%s: %v", prometheusRulePath, err)
	}
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" {
		t.Errorf("%s is %s %s, want monitoring.coreos.com/v1 PrometheusRule", prometheusRulePath, pr.APIVersion, pr.Kind)
	}
	if !reflect.DeepEqual(pr.Spec, rf) {
		t.Errorf("%s spec.groups differ from %s; regenerate: go test -C deployments ./observability -run TestPrometheusRuleIsRulesFile -update", prometheusRulePath, rulesPath)
	}
}

// TestRulesArePageable: every alert waits (for:), says how bad it is, and
// explains itself; a file with no alerts fails too.
func TestRulesArePageable(t *testing.T) {
	rf := readRules(t, rulesPath)
	var alerts int
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			t.Run(r.Alert, func(t *testing.T) {
				if r.For == "" {
					t.Error("no for:")
				}
				if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
					t.Errorf("severity %q, want critical, warning or info", s)
				}
				for _, a := range []string{"summary", "description"} {
					if strings.TrimSpace(r.Annotations[a]) == "" {
						t.Errorf("no %s annotation", a)
					}
				}
			})
		}
	}
	if alerts == 0 {
		t.Fatalf("%s has no alerts", rulesPath)
	}
}

// TestQueriesParse: every rule and panel query is PromQL Prometheus'
// parser accepts (which metrics they read is checked against running
// binaries in TestLive).
func TestQueriesParse(t *testing.T) {
	qs := append(ruleQueries(rulesPath, readRules(t, rulesPath)), panelQueries(dashboardPath, readDashboard(t, dashboardPath), grafanaVars("1m"))...)
	if len(qs) == 0 {
		t.Fatal("no queries found")
	}
	all := map[string]bool{}
	for _, q := range qs {
		if e, err := parserFor().ParseExpr(q.expr); err == nil {
			for _, n := range selectedMetrics(e) {
				all[n] = true
			}
		}
	}
	for _, p := range checkQueries(qs, all) { // names are TestLive's business: only parse errors remain
		t.Error(p)
	}
}
