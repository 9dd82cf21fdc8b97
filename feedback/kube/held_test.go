package kube

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/syncbuf"
)

// listRecorder keeps what it is told, refusing the apps in refuse.
type listRecorder struct {
	got    []string
	refuse string
}

func (l *listRecorder) Observe(app string, ob generator.Observation) error {
	if app == l.refuse {
		return errors.New("unknown deployment")
	}
	l.got = append(l.got, app)
	return nil
}

func TestHeldRecorder(t *testing.T) {
	tests := []struct {
		name          string
		before, after []string
		refuse        string
		want          []string
		wantLog       string
	}{
		{"held in order, then forwarded", []string{"a", "b", "a"}, []string{"c"}, "", []string{"a", "b", "a", "c"}, ""},
		{"nothing held", nil, []string{"c"}, "", []string{"c"}, ""},
		{"a held one refused: logged, the rest recorded", []string{"a", "gone", "b"}, nil, "gone", []string{"a", "b"},
			`msg="feedback kubernetes: an observation of the first list was not recorded" app=gone error="unknown deployment"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &Held{}
			ob := generator.Observation{Source: "kubernetes", Replicas: 2, HasReplicas: true}
			for _, app := range tc.before {
				if err := h.Observe(app, ob); err != nil {
					t.Fatalf("Observe before set: %v", err)
				}
			}
			rec := &listRecorder{refuse: tc.refuse}
			var logs syncbuf.Buffer
			h.Set(rec, slog.New(slog.NewTextHandler(&logs, nil)))
			for _, app := range tc.after {
				if err := h.Observe(app, ob); err != nil {
					t.Fatalf("Observe after set: %v", err)
				}
			}
			if !slices.Equal(rec.got, tc.want) {
				t.Errorf("recorded %v, want %v", rec.got, tc.want)
			}
			if tc.wantLog != "" && !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log lacks %s:\n%s", tc.wantLog, logs.String())
			}
		})
	}
}
