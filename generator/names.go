package generator

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on names, from the wire: a deployment name is one word of the
// routing key Metrics.{name} (at most 255 bytes in AMQP); metric names
// become headers.
const (
	topicPrefix     = "Metrics."
	maxTopicBytes   = 255
	maxMetricBytes  = 128
	reservedMetric  = "iswire."
	maxCount        = 100_000
	maxDeployments  = 1_000_000
	maxMetricsTotal = 2_000_000
)

// nameProblem says what is wrong with a deployment name, or "".
func nameProblem(name string) string {
	if name == "" {
		return "empty name"
	}
	if !utf8.ValidString(name) {
		return "not valid UTF-8"
	}
	for _, r := range name {
		switch {
		case r == '.' || r == '*' || r == '#' || r == '>':
			return fmt.Sprintf("%q may not contain %q: a name is one routing-key word (no '.', '*', '#', '>' or whitespace)", name, r)
		case unicode.IsSpace(r):
			return fmt.Sprintf("%q may not contain whitespace: a name is one routing-key word (no '.', '*', '#', '>' or whitespace)", name)
		case !unicode.IsPrint(r):
			return fmt.Sprintf("%q may not contain the control character %U", name, r)
		}
	}
	return topicProblem(name)
}

// topicProblem says whether Metrics.{name} is too long, or "".
func topicProblem(name string) string {
	if n := len(topicPrefix) + len(name); n > maxTopicBytes {
		return fmt.Sprintf("too long: topic %s{name} would be %d bytes, at most %d", topicPrefix, n, maxTopicBytes)
	}
	return ""
}

// metricNameProblem says what is wrong with a metric name, or "".
func metricNameProblem(name string) string {
	switch {
	case name == "":
		return "empty metric name"
	case len(name) > maxMetricBytes:
		return fmt.Sprintf("metric name is %d bytes, at most %d", len(name), maxMetricBytes)
	case !utf8.ValidString(name):
		return "metric name is not valid UTF-8"
	case strings.HasPrefix(name, reservedMetric):
		return fmt.Sprintf("metric name may not start with %q (reserved for the codec)", reservedMetric)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("metric name may not contain the non-printable character %U", r)
		}
	}
	return ""
}

// valueProblem says what is wrong with a value sent as written, or "".
func valueProblem(text string) string {
	if text == "" {
		return "empty value"
	}
	if !utf8.ValidString(text) {
		return "value is not valid UTF-8"
	}
	for _, r := range text {
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("value may not contain the non-printable character %U", r)
		}
	}
	return ""
}

// uriProblem says what is wrong with a broker URI, or "". The message never
// holds the password.
func uriProblem(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		// url's message quotes the URI, password and all: say it in our words.
		return fmt.Sprintf("not a valid URI: %q", MaskURI(uri))
	}
	switch u.Scheme {
	case "amqp", "amqps", "nats":
		return ""
	case "":
		return fmt.Sprintf("missing scheme (amqp://, amqps:// or nats://): %q", MaskURI(uri))
	}
	return fmt.Sprintf("unsupported scheme %q (want amqp, amqps or nats)", u.Scheme)
}

// exchangeProblem says what is wrong with an exchange name, or "".
func exchangeProblem(name string) string {
	if name == "" {
		return "empty exchange name"
	}
	if len(name) > 255 {
		return fmt.Sprintf("exchange name is %d bytes, at most 255", len(name))
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '_' || r == '.' || r == ':'
		if !ok {
			return fmt.Sprintf("exchange name %q may contain only letters, digits, '-', '_', '.' and ':'", name)
		}
	}
	return ""
}
