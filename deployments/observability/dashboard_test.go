package observability_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestDashboardJSON: the file is JSON, every panel reads the
// ${datasource} variable and has queries, and the variables the queries
// use are defined (datasource: a Prometheus datasource; app: with "All"
// as a regex, so the per-app panels work with every app).
func TestDashboardJSON(t *testing.T) {
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("%s is not valid JSON", dashboardPath)
	}
	d := readDashboard(t, dashboardPath)
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if v, ok := vars["datasource"]; !ok || v.Type != "datasource" || v.Query != "prometheus" {
		t.Errorf("no datasource variable of type datasource over prometheus: %+v", v)
	}
	if v, ok := vars["app"]; !ok || v.AllValue != ".*" {
		t.Errorf("no app variable with allValue .*: %+v", v)
	}
	var panels int
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		panels++
		if p.Title == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %+v, want prometheus ${datasource}", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no targets", p.Title)
		}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" {
				t.Errorf("panel %q: target %+v without expr or refId", p.Title, tg)
			}
			if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q target %s: datasource %+v, want ${datasource}", p.Title, tg.RefID, tg.Datasource)
			}
			if strings.Contains(tg.Expr, "$app") && !strings.Contains(tg.Expr, `app=~"$app"`) {
				t.Errorf("panel %q target %s: $app must be matched as a regex (app=~\"$app\"), it can be All or several: %s", p.Title, tg.RefID, tg.Expr)
			}
		}
	}
	if panels == 0 {
		t.Fatal("the dashboard has no panels")
	}
}

// TestDashboardCoversTheAlerts: each metric an alert reads is on some
// panel too, so what pages can be looked at.
func TestDashboardCoversTheAlerts(t *testing.T) {
	onPanels := map[string]bool{}
	for _, q := range panelQueries(dashboardPath, readDashboard(t, dashboardPath), grafanaVars("1m")) {
		if e, err := parserFor().ParseExpr(q.expr); err == nil {
			for _, n := range selectedMetrics(e) {
				onPanels[n] = true
			}
		}
	}
	for _, q := range ruleQueries(rulesPath, readRules(t, rulesPath)) {
		e, err := parserFor().ParseExpr(q.expr)
		if err != nil {
			continue // TestQueriesParse reports it
		}
		for _, n := range selectedMetrics(e) {
			if !onPanels[n] && n != "metricsender_decode_errors_total" && n != "metricsender_feedback_errors_total" {
				t.Errorf("%s reads %s, which no panel shows", q.where, n)
			}
		}
	}
}
