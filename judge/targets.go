package judge

import "github.com/labsea/metricsender/generator"

// CanRequest tells whether metric of d can open a request, from the config
// alone: whether its target (d's `targets:`, else the default) is not
// "none". replicas always has an observed value to compare with; an
// allocation gets one from `state:` or from feedback at any time, so it
// cannot be ruled out at start. Whether a request opens is decided at run
// time (Sent); this is what the Tracker's rules say before it. Telemetry
// asks it to show the operator's series at 0 from the start.
func CanRequest(d generator.Deployment, metric string) bool {
	return rules{targets: d.Targets}.target(metric) != "none"
}
