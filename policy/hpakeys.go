package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/labsea/metricsender/generator"
)

// ErrUnknownKey is returned by HPAConfig.Set for a key it does not know.
var ErrUnknownKey = errors.New("unknown setting")

// Set applies one setting given as text, by its spec key:
//   - metric: the metric's name; source: pods (value per replica, the
//     default) or external (the app's total, an External AverageValue
//     target); target: a number or quantity; min, max, tolerance;
//     stabilization: the controller's scale-down window (a duration);
//     sync: the controller's sync period, for once-per-message callers
//     (HPAConfig.Sync; default 0, each decision one sync).
//   - behavior: default (the HPA has `behavior: {}`: the API's default
//     policies) or none (no behavior, the default: the controller's older
//     rules). Any of the keys below implies behavior, its other rules kept
//     at their defaults.
//   - up, down: the policies, joined by +, each N pods or N% per period:
//     4pods/15s+100%/15s.
//   - upSelect, downSelect: max (the default), min or disabled.
//   - upWindow, downWindow: the stabilization windows (0s and, unset, the
//     stabilization key's value).
//
// The error states the problem, not the key (callers name it: the spec key
// or the flag); ErrUnknownKey for a key not listed above. Nothing is
// validated across keys: New does that.
func (c *HPAConfig) Set(key, text string) error {
	switch key {
	case "metric":
		c.Metric = text
	case "source":
		c.Source = Source(strings.ToLower(text))
		if c.Source != SourcePods && c.Source != SourceExternal {
			return fmt.Errorf("want pods or external, got %q", text)
		}
	case "target", "min", "max", "tolerance":
		f, err := generator.ParseNumber(text)
		if err != nil {
			return err
		}
		switch key {
		case "target":
			c.Target = f
		case "min":
			c.Min = f
		case "max":
			c.Max = f
		default:
			c.Tolerance = f
		}
	case "stabilization", "sync":
		d, err := time.ParseDuration(text)
		if err != nil {
			return fmt.Errorf("want a duration, got %q", text)
		}
		if key == "sync" {
			c.Sync = d
		} else {
			c.Stabilization = d
		}
	case "behavior":
		switch text {
		case "default":
			if c.Behavior == nil {
				c.Behavior = DefaultBehavior()
			}
		case "none":
			c.Behavior = nil
		default:
			return fmt.Errorf("want default or none, got %q", text)
		}
	case "up", "down":
		ps, err := parsePolicies(text)
		if err != nil {
			return err
		}
		c.rules(key).Policies = ps
	case "upSelect", "downSelect":
		s, ok := map[string]Select{"max": SelectMax, "min": SelectMin, "disabled": SelectDisabled}[strings.ToLower(text)]
		if !ok {
			return fmt.Errorf("want max, min or disabled, got %q", text)
		}
		c.rules(strings.TrimSuffix(key, "Select")).Select = s
	case "upWindow", "downWindow":
		d, err := time.ParseDuration(text)
		if err != nil {
			return fmt.Errorf("want a duration, got %q", text)
		}
		c.rules(strings.TrimSuffix(key, "Window")).Window = &d
	default:
		return ErrUnknownKey
	}
	return nil
}

// rules is the direction's rules, behavior made present.
func (c *HPAConfig) rules(direction string) *Rules {
	if c.Behavior == nil {
		c.Behavior = DefaultBehavior()
	}
	if direction == "up" {
		return &c.Behavior.ScaleUp
	}
	return &c.Behavior.ScaleDown
}

// parsePolicies reads "4pods/15s+100%/15s".
func parsePolicies(text string) ([]ScalingPolicy, error) {
	var ps []ScalingPolicy
	for _, part := range strings.Split(text, "+") {
		amount, period, ok := strings.Cut(part, "/")
		p := ScalingPolicy{}
		var num string
		switch {
		case !ok:
		case strings.HasSuffix(amount, "%"):
			p.Percent, num = true, strings.TrimSuffix(amount, "%")
		case strings.HasSuffix(amount, "pods"):
			num = strings.TrimSuffix(amount, "pods")
		case strings.HasSuffix(amount, "pod"):
			num = strings.TrimSuffix(amount, "pod")
		}
		v, errV := strconv.Atoi(num)
		d, errD := time.ParseDuration(period)
		if !ok || errV != nil || errD != nil {
			return nil, fmt.Errorf("policy %q: want Npods/PERIOD or N%%/PERIOD (e.g. 4pods/15s, 100%%/15s)", part)
		}
		p.Value, p.Period = v, d
		ps = append(ps, p)
	}
	return ps, nil
}
