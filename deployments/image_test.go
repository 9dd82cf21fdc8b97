package deployments_test

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// distrolessPath is PATH in the distroless static images.
const distrolessPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, filepath.Join(repoRoot, "Dockerfile"))
	final := finalStage(ins)
	t.Run("builder matches the go directive", func(t *testing.T) {
		gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
		if err != nil {
			t.Fatalf("read go.mod: %v", err)
		}
		m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
		if m == nil {
			t.Fatal("go.mod has no go directive")
		}
		from := ins[0]
		if from.cmd != "FROM" || !strings.HasPrefix(from.args, "golang:"+string(m[1])) {
			t.Errorf("first stage %q: want a golang:%s builder", from.args, m[1])
		}
	})
	t.Run("static trimmed stamped build", func(t *testing.T) {
		line := goBuildLine(t, ins)
		for _, want := range []string{"CGO_ENABLED=0 ", " -trimpath ", "-X github.com/labsea/metricsender/app.Version=${VERSION}", "-s -w", " ."} {
			if !strings.Contains(line+" ", want) {
				t.Errorf("go build line lacks %q: %s", want, line)
			}
		}
		var arg, build int
		for i, in := range ins {
			switch {
			case in.cmd == "ARG" && strings.HasPrefix(in.args, "VERSION="):
				arg = i
			case in.cmd == "RUN" && strings.Contains(in.args, "go build"):
				build = i
			}
		}
		if arg == 0 || arg > build {
			t.Error("want ARG VERSION=<default> in the builder stage before the go build")
		}
	})
	t.Run("modules in their own cached layer", func(t *testing.T) {
		order := []string{"COPY go.mod go.sum ./", "RUN go mod download", "COPY . ."}
		var got []string
		for _, in := range ins {
			if s := in.cmd + " " + in.args; slices.Contains(order, s) {
				got = append(got, s)
			}
		}
		if !slices.Equal(got, order) {
			t.Errorf("layers %q, want %q in that order", got, order)
		}
	})
	t.Run("final stage", func(t *testing.T) {
		if len(final) == 0 || len(final) == len(ins) {
			t.Fatal("want a multi-stage build")
		}
		from := final[0].args
		if !strings.HasPrefix(from, "gcr.io/distroless/static") || !strings.HasSuffix(from, ":nonroot") {
			t.Errorf("final image %q: want gcr.io/distroless/static*:nonroot", from)
		}
		cp := lastInstruction(t, final, "COPY")
		fields := strings.Fields(cp.args)
		if len(fields) != 3 || !strings.HasPrefix(fields[0], "--from=") || fields[1] != builderOut {
			t.Fatalf("COPY %s: want COPY --from=<builder> %s <dest>", cp.args, builderOut)
		}
		dest := fields[2]
		entry := jsonArgs(t, lastInstruction(t, final, "ENTRYPOINT"))
		if len(entry) != 1 || entry[0] != path.Base(dest) {
			t.Errorf("ENTRYPOINT %q: want [%q], the binary's name", entry, path.Base(dest))
		}
		if !slices.Contains(strings.Split(distrolessPath, ":"), path.Dir(dest)) {
			t.Errorf("%s is not on the image's PATH", path.Dir(dest))
		}
		if got := jsonArgs(t, lastInstruction(t, final, "CMD")); !slices.Equal(got, []string{"send"}) {
			t.Errorf("CMD %q, want [\"send\"]", got)
		}
		if got, want := lastInstruction(t, final, "USER").args, strconv.Itoa(imageUser)+":"+strconv.Itoa(imageUser); got != want {
			t.Errorf("USER %s, want %s (numeric, so runAsNonRoot can verify it)", got, want)
		}
		if got := lastInstruction(t, final, "EXPOSE").args; got != strconv.Itoa(httpPort) {
			t.Errorf("EXPOSE %s, want %d", got, httpPort)
		}
	})
}

func TestDockerignore(t *testing.T) {
	ignore := parseDockerignore(t, filepath.Join(repoRoot, ".dockerignore"))
	tests := []struct {
		path     string
		excluded bool
	}{
		{"go.mod", false},
		{"go.sum", false},
		{"main.go", false},
		{"app/send.go", false},
		{"generator/config.go", false},
		{".git/HEAD", true},
		{"bin/metricsender", true},
		{"app/send_test.go", true},
		{"codec/testdata/golden.json", true},
		{"deployments/manifests_test.go", true},
		{"metricsender.test", true},
		{"README.md", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := ignore.excluded(tt.path); got != tt.excluded {
				t.Errorf("excluded(%s) = %v, want %v", tt.path, got, tt.excluded)
			}
		})
	}
}
