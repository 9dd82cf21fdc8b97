package generator_test

// metricYAML is a config whose only metric, m, is defined by spec (line 4).
func metricYAML(spec string) string {
	return "deployments:\n  - name: a\n    metrics:\n      m: " + spec + "\n"
}

// badModels are metric models with known problems (see badConfigs).
var badModels = []struct {
	name, yaml string
	want       []string
}{
	{"unknown model", metricYAML("{unifrom: {min: 1, max: 2}}"),
		[]string{"bad.yaml:4:11: deployments[0].metrics.m.unifrom: unknown key (did you mean \"uniform\"?)"}},
	{"two models", metricYAML("{sine: {min: 1, max: 2, period: 1m}, ramp: {from: 1, to: 2, over: 1m}}"),
		[]string{"bad.yaml:4:7: deployments[0].metrics.m: one model per metric, got sine, ramp"}},
	{"empty mapping", metricYAML("{}"),
		[]string{"bad.yaml:4:7: deployments[0].metrics.m: empty mapping: want a list, a value or one of: choice, weights, value, uniform, walk, sine, ramp, spike, replay, expr, vars, min, max, format, decimals"}},
	{"uniform min above max, bad step", metricYAML("{uniform: {min: 5, max: 1}}"),
		[]string{"bad.yaml:4:29: deployments[0].metrics.m.uniform.max: must be >= min (5), got 1"}},
	{"uniform zero step", metricYAML("{uniform: {min: 1, max: 5, step: 0}}"),
		[]string{"bad.yaml:4:37: deployments[0].metrics.m.uniform.step: must be > 0, got 0"}},
	{"uniform not numbers", metricYAML("{uniform: {min: low, max: 1x, step: 1m}}"),
		[]string{
			`bad.yaml:4:21: deployments[0].metrics.m.uniform.min: not a number or Kubernetes quantity: "low"`,
			`bad.yaml:4:31: deployments[0].metrics.m.uniform.max: not a number or Kubernetes quantity: "1x"`,
		}},
	{"uniform unknown and missing parameters", metricYAML("{uniform: {min: 1, maximum: 2}}"),
		[]string{
			"bad.yaml:4:11: deployments[0].metrics.m.uniform.max: missing",
			"bad.yaml:4:29: deployments[0].metrics.m.uniform.maximum: unknown key (want one of: min, max, step)",
		}},
	{"quantity finer than milli", metricYAML("{uniform: {min: 1u, max: 1}}"),
		[]string{`bad.yaml:4:21: deployments[0].metrics.m.uniform.min: finer than 1m is not supported: "1u"`}},
	{"walk start outside", metricYAML("{walk: {start: 3, min: 0, max: 2, step: 1}}"),
		[]string{"bad.yaml:4:18: deployments[0].metrics.m.walk.start: must be within [min, max] = [0, 2], got 3"}},
	{"walk missing step", metricYAML("{walk: {start: 1, min: 0, max: 2}}"),
		[]string{"bad.yaml:4:11: deployments[0].metrics.m.walk.step: missing"}},
	{"walk negative step", metricYAML("{walk: {start: 1, min: 0, max: 2, step: -100m}}"),
		[]string{"bad.yaml:4:44: deployments[0].metrics.m.walk.step: must be > 0, got -100m"}},
	{"sine period zero, bad phase", metricYAML("{sine: {min: 1, max: 2, period: 0s, phase: half}}"),
		[]string{
			"bad.yaml:4:34: deployments[0].metrics.m.sine.period: must be > 0, got 0s",
			`bad.yaml:4:46: deployments[0].metrics.m.sine.phase: not a duration (like 30s, 5m, 1h30m): "half"`,
		}},
	{"ramp over negative", metricYAML("{ramp: {from: 1, to: 10, over: -1m}}"),
		[]string{"bad.yaml:4:35: deployments[0].metrics.m.ramp.over: must be > 0, got -1m"}},
	{"spike for longer than every", metricYAML("{spike: {base: 1, peak: 2, every: 1m, for: 2m}}"),
		[]string{"bad.yaml:4:48: deployments[0].metrics.m.spike.for: must be <= every (1m), got 2m"}},
	{"spike every zero", metricYAML("{spike: {base: 1, peak: 2, every: 0s, for: 0s}}"),
		[]string{
			"bad.yaml:4:37: deployments[0].metrics.m.spike.every: must be > 0, got 0s",
			"bad.yaml:4:48: deployments[0].metrics.m.spike.for: must be > 0, got 0s",
		}},
	{"weights count", metricYAML("{choice: [a, b], weights: [1, 2, 3]}"),
		[]string{"bad.yaml:4:27: deployments[0].metrics.m.weights: 3 weights for 2 choices"}},
	{"weights negative and not numbers", metricYAML("{choice: [a, b], weights: [-1, x]}"),
		[]string{
			"bad.yaml:4:37: deployments[0].metrics.m.weights[0]: must be >= 0, got -1",
			`bad.yaml:4:41: deployments[0].metrics.m.weights[1]: not a number or Kubernetes quantity: "x"`,
		}},
	{"weights all zero", metricYAML("{choice: [a, b], weights: [0, 0]}"),
		[]string{"bad.yaml:4:27: deployments[0].metrics.m.weights: all weights are 0"}},
	{"weights without choice", metricYAML("{weights: [1]}"),
		[]string{"bad.yaml:4:11: deployments[0].metrics.m.weights: weights without choice"}},
	{"choice empty", metricYAML("{choice: []}"),
		[]string{"bad.yaml:4:11: deployments[0].metrics.m.choice: empty list"}},
	{"replay missing file", metricYAML("{replay: {file: traces/nope.csv, column: cpu}}"),
		[]string{"bad.yaml:4:20: deployments[0].metrics.m.replay.file: cannot read traces/nope.csv: open testdata/traces/nope.csv: no such file or directory"}},
	{"replay missing column", metricYAML("{replay: {file: traces/good.csv, column: gpu}}"),
		[]string{`bad.yaml:4:43: deployments[0].metrics.m.replay.column: traces/good.csv: no such column "gpu" (columns: minute, cpu, memory)`}},
	{"replay without rows", metricYAML("{replay: {file: traces/header-only.csv, column: cpu}}"),
		[]string{"bad.yaml:4:20: deployments[0].metrics.m.replay.file: traces/header-only.csv: no data rows after the header"}},
	{"replay empty cell", metricYAML("{replay: {file: traces/empty-cell.csv, column: cpu}}"),
		[]string{`bad.yaml:4:20: deployments[0].metrics.m.replay.file: traces/empty-cell.csv: row 3, column "cpu": empty value`}},
	{"value null", metricYAML("{value: ~}"),
		[]string{"bad.yaml:4:11: deployments[0].metrics.m.value: want a value, got nothing"}},
	{"merge keys", "base: &b {cpu: [1]}\n" + okDeployments,
		[]string{"bad.yaml:1:1: base: unknown key (want one of: connection, interval, seed, spread, faults, tolerance, kubernetes, deployments)"}},
}
