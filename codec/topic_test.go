package codec_test

import (
	"testing"

	"github.com/labsea/metricsender/codec"
)

func TestTopicMatch(t *testing.T) {
	cases := []struct {
		pattern, topic string
		want           bool
	}{
		{"Metrics.*", "Metrics.app1", true},
		{"Metrics.*", "Metrics", false},
		{"Metrics.*", "Metrics.a.b", false},
		{"Metrics.*", "metrics.app1", false},
		{"Metrics.*", "Metrics.", true}, // one empty word
		{"Metrics.app1", "Metrics.app1", true},
		{"Metrics.app1", "Metrics.app2", false},
		{"Metrics.app1", "Metrics.app1.x", false},
		{"Metrics.#", "Metrics", true},
		{"Metrics.#", "Metrics.a", true},
		{"Metrics.#", "Metrics.a.b.c", true},
		{"Metrics.#", "Other.a", false},
		{"#", "", true},
		{"#", "a.b", true},
		{"*", "", false},
		{"*", "a", true},
		{"*", "a.b", false},
		{"", "", true},
		{"", "a", false},
		{"a", "", false},
		{"#.a", "a", true},
		{"#.a", "x.y.a", true},
		{"#.a", "x.a.b", false},
		{"a.#.b", "a.b", true},
		{"a.#.b", "a.x.y.b", true},
		{"a.#.b", "a.x.y.c", false},
		{"a.*.b", "a..b", true},
		{"a.*.b", "a.b", false},
		{"#.#", "a.b.c", true},
		{"#.#", "", true},
		{"*.#.*", "a", false},
		{"*.#.*", "a.b", true},
		{"*.#.*", "a.b.c.d", true},
		{"#.b.#.d", "a.b.c.b.x.d", true},
		{"#.b.#.d", "a.b.c.b.x.e", false},
		{"*.*", "a.", true},
		{"a.*", "a.b.", false},
	}
	for _, tc := range cases {
		t.Run(tc.pattern+" vs "+tc.topic, func(t *testing.T) {
			if got := codec.TopicMatch(tc.pattern, tc.topic); got != tc.want {
				t.Errorf("TopicMatch(%q, %q) = %v, want %v", tc.pattern, tc.topic, got, tc.want)
			}
		})
	}
}
