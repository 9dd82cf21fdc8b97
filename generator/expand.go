package generator

import (
	"fmt"
	"strconv"
)

// expand turns the parsed entries into deployments: `count: n` makes n
// copies named {name}-0 .. {name}-(n-1), each with its own models. Names
// are checked after expansion: valid routing-key words, short enough, and
// unique across the file.
func (p *parser) expand(parsed []parsedDeployment) []Deployment {
	n := 0
	for _, d := range parsed {
		n += max(d.count, 1)
	}
	seen := make(map[string]int, min(n, maxDeployments)) // name -> index of the entry that made it
	out := make([]Deployment, 0, min(n, maxDeployments))
	total, totalMetrics := 0, 0
	for _, d := range parsed {
		nameField := func() string { return join(deploymentField(d.index), "name") }
		if msg := nameProblem(d.name); msg != "" {
			p.failAt(d.namePos, nameField(), "%s", msg)
			continue
		}
		n := max(d.count, 1)
		longest := d.name
		if d.count > 0 {
			longest = d.name + "-" + strconv.Itoa(n-1)
		}
		if msg := topicProblem(longest); msg != "" {
			p.failAt(d.namePos, nameField(), "%s", msg)
			continue
		}
		total += n
		totalMetrics += n * len(d.metrics)
		if total > maxDeployments || totalMetrics > maxMetricsTotal {
			p.failAt(d.namePos, nameField(), "too many deployments or metrics after count expansion (at most %d deployments, %d metrics in all)", maxDeployments, maxMetricsTotal)
			return out
		}
		var dup string
		dups := 0
		for i := range n {
			name := d.name
			if d.count > 0 {
				name = d.name + "-" + strconv.Itoa(i)
			}
			if first, ok := seen[name]; ok {
				if dups == 0 {
					dup = fmt.Sprintf("duplicate name %q (%s has it too)", name, deploymentField(first))
				}
				dups++
				continue
			}
			seen[name] = d.index
			metrics := d.metrics
			if i > 0 {
				metrics = cloneSpecs(d.metrics)
			}
			out = append(out, Deployment{Name: name, Interval: d.interval, Metrics: metrics, Faults: d.faults, State: d.state,
				Targets: d.targets, Tolerance: d.tolerance, Kubernetes: d.kube})
		}
		if dups > 1 {
			dup += fmt.Sprintf(" and %d more", dups-1)
		}
		if dups > 0 {
			p.failAt(d.namePos, nameField(), "%s", dup)
		}
	}
	return out
}

// cloneSpecs copies specs with fresh models (see Cloner); Spec values are
// read-only and shared.
func cloneSpecs(specs []MetricSpec) []MetricSpec {
	out := make([]MetricSpec, len(specs))
	for i, s := range specs {
		out[i] = MetricSpec{Name: s.Name, Model: CloneModel(s.Model), Spec: s.Spec}
	}
	return out
}
