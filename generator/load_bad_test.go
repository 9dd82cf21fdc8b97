package generator_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/labsea/metricsender/generator"
)

// okDeployments completes a config whose problem is elsewhere.
const okDeployments = `deployments:
  - name: app1
    metrics:
      cpu: [0.5]
`

// badConfigs are files with known problems and the exact messages Parse
// must give for them, all of them, in document order.
var badConfigs = []struct {
	name, yaml string
	want       []string
}{
	{"alias to a node that contains it", "a: &m\n  - b: *m\n" + okDeployments,
		[]string{"bad.yaml:1:1: aliases expand the document by more than 1000000 nodes (or an alias names a node that contains it)"}},
	{"billion laughs", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" + okDeployments,
		[]string{"bad.yaml:1:1: aliases expand the document by more than 1000000 nodes (or an alias names a node that contains it)"}},
	{"unknown top-level key", "intervl: 60s\n" + okDeployments,
		[]string{"bad.yaml:1:1: intervl: unknown key (did you mean \"interval\"?)"}},
	{"keys are case-sensitive", "Interval: 60s\n" + okDeployments,
		[]string{"bad.yaml:1:1: Interval: unknown key (keys are case-sensitive: did you mean \"interval\"?)"}},
	{"unknown deployment key", "deployments:\n  - name: a\n    metric:\n      cpu: [1]\n",
		[]string{
			"bad.yaml:2:5: deployments[0].metrics: missing",
			"bad.yaml:3:5: deployments[0].metric: unknown key (did you mean \"metrics\"?)",
		}},
	{"unknown connection key", "connection:\n  url: amqp://h\n" + okDeployments,
		[]string{"bad.yaml:2:3: connection.url: unknown key (did you mean \"uri\"?)"}},
	{"missing deployments", "interval: 10s\n",
		[]string{"bad.yaml:1:1: deployments: missing: the file must list deployments"}},
	{"empty deployments", "deployments: []\n",
		[]string{"bad.yaml:1:1: deployments: empty list"}},
	{"deployments not a list", "deployments:\n  name: a\n",
		[]string{"bad.yaml:1:1: deployments: want a list, got a mapping"}},
	{"empty document", "# nothing\n",
		[]string{"bad.yaml:1:1: empty document: want a mapping with deployments"}},
	{"root is a list", "- a\n- b\n",
		[]string{"bad.yaml:1:1: want a mapping, got a list"}},
	{"yaml syntax error", "deployments:\n  - name: a\n    metrics: {cpu: [1}\n",
		[]string{"bad.yaml:3:1: YAML syntax: did not find expected ',' or ']'"}},
	{"two documents", okDeployments + "---\ninterval: 1s\n",
		[]string{"bad.yaml:5:1: a second YAML document: want exactly one"}},
	{"duplicate key", "interval: 1s\ninterval: 2s\n" + okDeployments,
		[]string{"bad.yaml:2:1: interval: duplicate key (first at line 1)"}},
	{"empty metric list", "deployments:\n  - name: a\n    metrics:\n      cpu: []\n",
		[]string{"bad.yaml:4:7: deployments[0].metrics.cpu: empty list"}},
	{"no metrics", "deployments:\n  - name: a\n    metrics: {}\n",
		[]string{"bad.yaml:3:5: deployments[0].metrics: no metrics"}},
	{"missing name and metrics", "deployments:\n  - count: 2\n",
		[]string{
			"bad.yaml:2:5: deployments[0].name: missing",
			"bad.yaml:2:5: deployments[0].metrics: missing",
		}},
	{"duplicate names", okDeployments + "  - name: app1\n    metrics: {cpu: [1]}\n",
		[]string{`bad.yaml:5:5: deployments[1].name: duplicate name "app1" (deployments[0] has it too)`}},
	{"duplicate after count expansion", "deployments:\n  - name: web\n    count: 3\n    metrics: {cpu: [1]}\n  - name: web-1\n    metrics: {cpu: [1]}\n",
		[]string{`bad.yaml:5:5: deployments[1].name: duplicate name "web-1" (deployments[0] has it too)`}},
	{"names with dot and space", "deployments:\n  - name: a.b\n    metrics: {cpu: [1]}\n  - name: a b\n    metrics: {cpu: [1]}\n",
		[]string{
			`bad.yaml:2:5: deployments[0].name: "a.b" may not contain '.': a name is one routing-key word (no '.', '*', '#', '>' or whitespace)`,
			`bad.yaml:4:5: deployments[1].name: "a b" may not contain whitespace: a name is one routing-key word (no '.', '*', '#', '>' or whitespace)`,
		}},
	{"names with wildcards", "deployments:\n  - name: 'a*'\n    metrics: {cpu: [1]}\n  - name: 'a>'\n    metrics: {cpu: [1]}\n  - name: '#'\n    metrics: {cpu: [1]}\n",
		[]string{
			`bad.yaml:2:5: deployments[0].name: "a*" may not contain '*': a name is one routing-key word (no '.', '*', '#', '>' or whitespace)`,
			`bad.yaml:4:5: deployments[1].name: "a>" may not contain '>': a name is one routing-key word (no '.', '*', '#', '>' or whitespace)`,
			`bad.yaml:6:5: deployments[2].name: "#" may not contain '#': a name is one routing-key word (no '.', '*', '#', '>' or whitespace)`,
		}},
	{"empty name", "deployments:\n  - name: ''\n    metrics: {cpu: [1]}\n",
		[]string{"bad.yaml:2:5: deployments[0].name: empty name"}},
	{"name too long", "deployments:\n  - name: " + strings.Repeat("x", 248) + "\n    metrics: {cpu: [1]}\n",
		[]string{"bad.yaml:2:5: deployments[0].name: too long: topic Metrics.{name} would be 256 bytes, at most 255"}},
	{"name too long after count", "deployments:\n  - name: " + strings.Repeat("x", 245) + "\n    count: 11\n    metrics: {cpu: [1]}\n",
		[]string{"bad.yaml:2:5: deployments[0].name: too long: topic Metrics.{name} would be 256 bytes, at most 255"}},
	{"count zero and not a number", "deployments:\n  - name: a\n    count: 0\n    metrics: {cpu: [1]}\n  - name: b\n    count: many\n    metrics: {cpu: [1]}\n",
		[]string{
			"bad.yaml:3:5: deployments[0].count: must be between 1 and 100000, got 0",
			`bad.yaml:6:5: deployments[1].count: want an integer, got "many"`,
		}},
	{"interval without unit", "interval: 60\n" + okDeployments,
		[]string{`bad.yaml:1:1: interval: not a duration (like 30s, 5m, 1h30m): "60"`}},
	{"interval zero and negative", "interval: 0s\ndeployments:\n  - name: a\n    interval: -5s\n    metrics: {cpu: [1]}\n",
		[]string{
			"bad.yaml:1:1: interval: must be > 0, got 0s",
			"bad.yaml:4:5: deployments[0].interval: must be > 0, got -5s",
		}},
	{"uri scheme", "connection:\n  uri: http://u:p@h/\n" + okDeployments,
		[]string{`bad.yaml:2:3: connection.uri: unsupported scheme "http" (want amqp, amqps or nats)`}},
	{"uri unparsable, password masked", "connection:\n  uri: \"amqp://user:s3cr%zz@host:5672/\"\n" + okDeployments,
		[]string{`bad.yaml:2:3: connection.uri: not a valid URI: "amqp://user:***@host:5672/"`}},
	{"uri without scheme", "connection:\n  uri: rabbit:5672\n" + okDeployments,
		[]string{`bad.yaml:2:3: connection.uri: unsupported scheme "rabbit" (want amqp, amqps or nats)`}},
	{"bad exchange", "connection:\n  exchange: 'a b'\n" + okDeployments,
		[]string{`bad.yaml:2:3: connection.exchange: exchange name "a b" may contain only letters, digits, '-', '_', '.' and ':'`}},
	{"seed and spread", "seed: 1.5\nspread: yes\n" + okDeployments,
		[]string{
			`bad.yaml:1:1: seed: want an integer (int64), got "1.5"`,
			`bad.yaml:2:1: spread: want true or false, got "yes"`,
		}},
	{"metric names", "deployments:\n  - name: a\n    metrics:\n      iswire.x: [1]\n      " + strings.Repeat("m", 129) + ": [1]\n      '': [1]\n",
		[]string{
			`bad.yaml:4:7: deployments[0].metrics.iswire.x: metric name may not start with "iswire." (reserved for the codec)`,
			"bad.yaml:5:7: deployments[0].metrics." + strings.Repeat("m", 129) + ": metric name is 129 bytes, at most 128",
			"bad.yaml:6:7: deployments[0].metrics.: empty metric name",
		}},
	{"non-scalar and null in a list", "deployments:\n  - name: a\n    metrics:\n      cpu: [0.5, [1], {a: 1}, ~]\n",
		[]string{
			"bad.yaml:4:18: deployments[0].metrics.cpu[1]: want a value, got a list (a list holds values only)",
			"bad.yaml:4:23: deployments[0].metrics.cpu[2]: want a value, got a mapping (a list holds values only)",
			"bad.yaml:4:31: deployments[0].metrics.cpu[3]: want a value, got nothing",
		}},
	{"metric without value", "deployments:\n  - name: a\n    metrics:\n      cpu:\n",
		[]string{"bad.yaml:4:7: deployments[0].metrics.cpu: want a value, got nothing"}},
	{"three problems, three errors", "interval: soon\ndeployments:\n  - name: a.b\n    metrics:\n      cpu: []\n",
		[]string{
			`bad.yaml:1:1: interval: not a duration (like 30s, 5m, 1h30m): "soon"`,
			`bad.yaml:3:5: deployments[0].name: "a.b" may not contain '.': a name is one routing-key word (no '.', '*', '#', '>' or whitespace)`,
			"bad.yaml:5:7: deployments[0].metrics.cpu: empty list",
		}},
}

func TestParseBadConfigs(t *testing.T) {
	for _, tc := range slices.Concat(badConfigs, badModels, badStates, badExprs, badKubes) {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := generator.Parse("testdata/bad.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded (%d deployments), want errors:\n%s", len(cfg.Deployments), strings.Join(tc.want, "\n"))
			}
			fes := generator.FieldErrors(err)
			got := make([]string, len(fes))
			for i, fe := range fes {
				got[i] = strings.TrimPrefix(fe.Error(), "testdata/")
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n got: %q\nwant: %q", got, tc.want)
			}
			if want := strings.Join(fesText(fes), "\n"); err.Error() != want {
				t.Errorf("err.Error() = %q, want the joined FieldErrors %q", err.Error(), want)
			}
		})
	}
}

func fesText(fes []*generator.FieldError) []string {
	out := make([]string, len(fes))
	for i, fe := range fes {
		out[i] = fe.Error()
	}
	return out
}
