// Package observability_test checks the observability component: the
// rules and the dashboard's queries against Prometheus' own PromQL parser
// and against what running binaries export, the files the Kubernetes
// component and docker compose share, and the dashboard's rendering.
package observability_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

// query is one PromQL expression and where it comes from, for messages.
type query struct {
	where string // "rules.yaml: alert X" or "dashboard.json: panel \"T\" target A"
	expr  string
}

// ruleFile is a Prometheus rules file (rule_files:), as far as we read it.
type ruleFile struct {
	Groups []ruleGroup `yaml:"groups" json:"groups"`
}

type ruleGroup struct {
	Name  string `yaml:"name" json:"name"`
	Rules []rule `yaml:"rules" json:"rules"`
}

type rule struct {
	Alert       string            `yaml:"alert,omitempty" json:"alert,omitempty"`
	Record      string            `yaml:"record,omitempty" json:"record,omitempty"`
	Expr        string            `yaml:"expr" json:"expr"`
	For         string            `yaml:"for,omitempty" json:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty" json:"annotations,omitempty"`
}

// dashboard is the part of Grafana's dashboard JSON the tests read.
type dashboard struct {
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource *datasourceRef  `json:"datasource"`
	Targets    []target        `json:"targets"`
	FieldCfg   json.RawMessage `json:"fieldConfig"`
}

type target struct {
	RefID        string         `json:"refId"`
	Expr         string         `json:"expr"`
	LegendFormat string         `json:"legendFormat"`
	Datasource   *datasourceRef `json:"datasource"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Query    any    `json:"query"`
	AllValue string `json:"allValue"`
}

func readRules(t *testing.T, path string) ruleFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rf
}

func readDashboard(t *testing.T, path string) dashboard {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: not valid dashboard JSON: %v", path, err)
	}
	return d
}

// ruleQueries lists the expression of every rule of rf.
func ruleQueries(file string, rf ruleFile) []query {
	var qs []query
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			name := "alert " + r.Alert
			if r.Record != "" {
				name = "record " + r.Record
			}
			qs = append(qs, query{where: fmt.Sprintf("%s: group %s: %s", file, g.Name, name), expr: r.Expr})
		}
	}
	return qs
}

// panelQueries lists every target of every panel of d, with the
// dashboard's template variables replaced by vars (see substitute).
func panelQueries(file string, d dashboard, vars map[string]string) []query {
	var qs []query
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			qs = append(qs, query{where: fmt.Sprintf("%s: panel %q target %s", file, p.Title, tg.RefID), expr: substitute(tg.Expr, vars)})
		}
	}
	return qs
}

// grafanaVars are what Grafana puts for the dashboard's variables when
// the query runs: $app is "All" (the variable's allValue, a regex), and
// $__rate_interval at least four scrape intervals.
func grafanaVars(rateInterval string) map[string]string {
	return map[string]string{"app": ".*", "__rate_interval": rateInterval, "datasource": "prometheus"}
}

// substitute replaces Grafana's $name and ${name} forms of each variable,
// longest name first so $__rate_interval is not read as $__rate.
func substitute(expr string, vars map[string]string) string {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	for _, n := range names {
		expr = strings.ReplaceAll(expr, "${"+n+"}", vars[n])
		expr = strings.ReplaceAll(expr, "$"+n, vars[n])
	}
	return expr
}

// checkQueries parses each query with Prometheus' own parser and checks
// that every metric it selects is in exported (the names a scrape of the
// binaries showed, a histogram's as _bucket, _sum and _count). It returns
// one problem a line, each naming the query's place; none means all good.
func checkQueries(qs []query, exported map[string]bool) []string {
	p := parserFor()
	var problems []string
	for _, q := range qs {
		if strings.Contains(q.expr, "$") {
			problems = append(problems, fmt.Sprintf("%s: template variable left in %q", q.where, q.expr))
			continue
		}
		expr, err := p.ParseExpr(q.expr)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", q.where, err))
			continue
		}
		for _, name := range selectedMetrics(expr) {
			if !exported[name] {
				problems = append(problems, fmt.Sprintf("%s: metric %s is not exported by send, receive or operator", q.where, name))
			}
		}
	}
	return problems
}

// selectedMetrics returns the metric names of expr's selectors (vector
// selectors, also those inside range selectors and subqueries), sorted.
func selectedMetrics(expr parser.Expr) []string {
	var names []string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			if name == "" {
				for _, m := range vs.LabelMatchers {
					if m.Name == "__name__" {
						name = m.Value
					}
				}
			}
			names = append(names, name)
		}
		return nil
	})
	slices.Sort(names)
	return slices.Compact(names)
}

// parserFor is the parser the checks use: Prometheus' defaults, as the
// pinned Prometheus runs them.
func parserFor() parser.Parser { return parser.NewParser(parser.Options{}) }
