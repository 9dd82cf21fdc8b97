package deployments_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The Dockerfile's build line (-trimpath, CGO_ENABLED=0, -ldflags) shares no
// build cache with the test binaries: run inside `go test` it compiled every
// dependency a second time (issue 21). .ci/run runs it once, with
// TestDockerfileBuildLine, and names the binary in dockerfileBinaryEnv.
const (
	// dockerfileBinaryEnv names a binary of the Dockerfile's build line,
	// built with VERSION=dockerfileTestVersion.
	dockerfileBinaryEnv = "METRICSENDER_DOCKERFILE_BINARY"
	// dockerfileBuildToEnv asks TestDockerfileBuildLine to build it there.
	dockerfileBuildToEnv  = "METRICSENDER_DOCKERFILE_BUILD_TO"
	dockerfileTestVersion = "test-1.2.3"
)

// TestDockerfileBuildLine runs the Dockerfile's `go build` line, parsed from
// the Dockerfile, in the .dockerignore-filtered build context, and writes the
// binary to $METRICSENDER_DOCKERFILE_BUILD_TO. .ci/run runs it alone, then
// hands the binary to TestProgram in METRICSENDER_DOCKERFILE_BINARY.
func TestDockerfileBuildLine(t *testing.T) {
	out := os.Getenv(dockerfileBuildToEnv)
	if out == "" {
		t.Skipf("%s is not set: nothing to build (.ci/run sets it, then %s)", dockerfileBuildToEnv, dockerfileBinaryEnv)
	}
	out, err := filepath.Abs(out)
	if err != nil {
		t.Fatalf("%s: %v", dockerfileBuildToEnv, err)
	}
	buildLikeDockerfile(t, parseDockerfile(t, filepath.Join(repoRoot, "Dockerfile")), dockerfileTestVersion, out)
}

// programBinary returns the binary TestProgram checks, and whether it is the
// Dockerfile's: $METRICSENDER_DOCKERFILE_BINARY when set. Otherwise (a plain
// `go test`) it builds the same package, in the same filtered context, with
// the test binaries' own flags, so it reuses their build cache; the checks
// that only the Dockerfile's flags make true then skip. With CI=true a
// missing binary fails instead: CI must check everything.
func programBinary(t *testing.T) (string, bool) {
	t.Helper()
	if bin := os.Getenv(dockerfileBinaryEnv); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%s: %v", dockerfileBinaryEnv, err)
		}
		return bin, true
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and %s is not set: build it with the Dockerfile's line as .ci/run does", dockerfileBinaryEnv)
	}
	bin := filepath.Join(t.TempDir(), "metricsender")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = buildContext(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in the .dockerignore-filtered context: %v\n%s", err, out)
	}
	return bin, false
}

// needDockerfileBinary skips, loudly, a check that holds only for the binary
// of the Dockerfile's build line.
func needDockerfileBinary(t *testing.T, dockerfileBuilt bool) {
	t.Helper()
	if !dockerfileBuilt {
		t.Skipf("SKIPPED: needs the binary of the Dockerfile's build line; set %s to one built with VERSION=%s (.ci/run does: %s=PATH go test -C deployments -run '^TestDockerfileBuildLine$' .)",
			dockerfileBinaryEnv, dockerfileTestVersion, dockerfileBuildToEnv)
	}
}
