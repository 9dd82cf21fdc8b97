package deployments_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDockerfileMetricsAPI checks the metrics API bridge's image target:
// `docker build --target metrics-api .` builds the nested module
// cmd/metrics-api statically and ships only its binary, as non-root.
func TestDockerfileMetricsAPI(t *testing.T) {
	ins := parseDockerfileAll(t, filepath.Join(repoRoot, "Dockerfile"))
	stages := map[string][]instruction{}
	var order []string
	name := ""
	for _, in := range ins {
		if in.cmd == "FROM" {
			name = stageName(in)
			order = append(order, name)
		}
		stages[name] = append(stages[name], in)
	}
	build, final := stages["metrics-api-build"], stages["metrics-api"]
	if build == nil || final == nil {
		t.Fatalf("want stages metrics-api-build and metrics-api, have %q", order)
	}
	if last := order[len(order)-1]; strings.HasPrefix(last, otherTargets) {
		t.Errorf("the last stage is %q: the default image must stay the last stage (what a plain docker build builds)", last)
	}
	const out = "/out/metricsender-metrics-api"
	t.Run("static trimmed build of the nested module", func(t *testing.T) {
		line := goBuildLine(t, build)
		for _, want := range []string{"CGO_ENABLED=0 ", " -C cmd/metrics-api ", " -trimpath ", "-s -w", "-o " + out + " "} {
			if !strings.Contains(line+" ", want) {
				t.Errorf("go build line lacks %q: %s", want, line)
			}
		}
		var copies []string
		for _, in := range build {
			if in.cmd == "COPY" {
				copies = append(copies, in.args)
			}
		}
		if !slices.Contains(copies, "cmd/metrics-api/go.mod cmd/metrics-api/go.sum ./cmd/metrics-api/") {
			t.Errorf("COPY lines %q: want the nested module's go.mod and go.sum copied before its download", copies)
		}
	})
	t.Run("final stage", func(t *testing.T) {
		from := final[0].args
		if !strings.HasPrefix(from, "gcr.io/distroless/static") || !strings.Contains(from, ":nonroot ") {
			t.Errorf("image %q: want gcr.io/distroless/static*:nonroot", from)
		}
		cp := strings.Fields(lastInstruction(t, final, "COPY").args)
		if len(cp) != 3 || cp[0] != "--from=metrics-api-build" || cp[1] != out {
			t.Fatalf("COPY %q: want COPY --from=metrics-api-build %s <dest>", cp, out)
		}
		entry := jsonArgs(t, lastInstruction(t, final, "ENTRYPOINT"))
		if len(entry) != 1 || entry[0] != "metricsender-metrics-api" || cp[2] != "/usr/local/bin/metricsender-metrics-api" {
			t.Errorf("ENTRYPOINT %q from %s: want the binary on PATH", entry, cp[2])
		}
		if user := lastInstruction(t, final, "USER").args; user != "65532:65532" {
			t.Errorf("USER %s, want 65532:65532", user)
		}
	})
}
