package observability_test

import (
	"strings"
	"testing"
)

// TestCheckQueriesReportsProblems feeds the checker broken rules and
// panels, through the same readers the real files go through, and wants
// each problem found and placed.
func TestCheckQueriesReportsProblems(t *testing.T) {
	exported := map[string]bool{
		"metricsender_ready": true, "metricsender_tick_lag_seconds_bucket": true,
		"metricsender_tick_lag_seconds_sum": true, "metricsender_tick_lag_seconds_count": true,
	}
	rules := func(expr string) []query {
		return ruleQueries("rules.yaml", ruleFile{Groups: []ruleGroup{{Name: "g", Rules: []rule{{Alert: "Broken", Expr: expr}}}}})
	}
	panels := func(expr string) []query {
		d := dashboard{Panels: []panel{{Title: "Broken panel", Targets: []target{{RefID: "A", Expr: expr}}}}}
		return panelQueries("dashboard.json", d, grafanaVars("1m"))
	}
	cases := []struct {
		name  string
		qs    []query
		wants []string // each must occur in one problem
	}{
		{"a PromQL typo in a rule", rules("sum(rate(metricsender_ready[5m])"),
			[]string{"rules.yaml: group g: alert Broken", "unclosed left parenthesis"}},
		{"a PromQL typo in a panel", panels(`histogram_quantile(0.99, sum by (le) (rate(metricsender_tick_lag_seconds_bucket[$__rate_interval]))) >`),
			[]string{`dashboard.json: panel "Broken panel" target A`, "parse error"}},
		{"a metric the binaries do not export, in a rule", rules("metricsender_redy == 0"),
			[]string{"alert Broken", "metric metricsender_redy is not exported"}},
		{"a metric the binaries do not export, in a panel", panels(`rate(metricsender_tick_lag_seconds_total[$__rate_interval])`),
			[]string{`panel "Broken panel"`, "metric metricsender_tick_lag_seconds_total is not exported"}},
		{"a histogram read without its suffix", rules("rate(metricsender_tick_lag_seconds[5m]) > 0"),
			[]string{"metric metricsender_tick_lag_seconds is not exported"}},
		{"a variable the substitution does not know", panels(`metricsender_ready{app=~"$team"}`),
			[]string{"template variable left"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			problems := checkQueries(tc.qs, exported)
			if len(problems) != 1 {
				t.Fatalf("want one problem, got %d: %q", len(problems), problems)
			}
			for _, want := range tc.wants {
				if !strings.Contains(problems[0], want) {
					t.Errorf("problem %q does not say %q", problems[0], want)
				}
			}
		})
	}
	t.Run("good queries pass", func(t *testing.T) {
		qs := append(rules("max_over_time(metricsender_ready[5m]) == 0"),
			panels(`histogram_quantile(0.5, sum by (le) (rate(metricsender_tick_lag_seconds_bucket{app=~"$app"}[$__rate_interval])))`)...)
		if problems := checkQueries(qs, exported); len(problems) > 0 {
			t.Fatalf("unexpected problems: %q", problems)
		}
	})
}
