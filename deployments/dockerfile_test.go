package deployments_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The build output path inside the builder stage; the final stage copies it.
const builderOut = "/out/metricsender"

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY...
	args string
	line int
}

// parseDockerfile reads the instructions of the default image of a
// Dockerfile (the stages of its other targets, named metrics-api*, left
// out): comments and blank lines dropped, backslash continuations joined.
func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	var out []instruction
	other := false
	for _, in := range parseDockerfileAll(t, path) {
		if in.cmd == "FROM" {
			other = strings.HasPrefix(stageName(in), otherTargets)
		}
		if !other {
			out = append(out, in)
		}
	}
	return out
}

// otherTargets prefixes the names of the stages that build images other
// than the default one (the metrics API bridge's).
const otherTargets = "metrics-api"

// stageName is the name of the stage a FROM starts ("" for none).
func stageName(from instruction) string {
	f := strings.Fields(from.args)
	if len(f) == 3 && strings.EqualFold(f[1], "AS") {
		return f[2]
	}
	return ""
}

// parseDockerfileAll reads the instructions of every stage of a Dockerfile.
func parseDockerfileAll(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open dockerfile: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	var (
		out     []instruction
		pending strings.Builder
		start   int
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if pending.Len() == 0 {
			start = n
		}
		cont := strings.HasSuffix(line, `\`)
		pending.WriteString(strings.TrimSuffix(line, `\`))
		if cont {
			pending.WriteString(" ")
			continue
		}
		cmd, args, _ := strings.Cut(pending.String(), " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		pending.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read dockerfile: %v", err)
	}
	return out
}

// finalStage returns the instructions after the last FROM.
func finalStage(ins []instruction) []instruction {
	for i := len(ins) - 1; i >= 0; i-- {
		if ins[i].cmd == "FROM" {
			return ins[i:]
		}
	}
	return nil
}

// goBuildLine returns the single RUN instruction that runs `go build`.
func goBuildLine(t *testing.T, ins []instruction) string {
	t.Helper()
	var found []string
	for _, in := range ins {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			found = append(found, in.args)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one RUN ... go build in the Dockerfile, found %d", len(found))
	}
	return found[0]
}

// jsonArgs decodes the exec (JSON array) form of ENTRYPOINT or CMD.
func jsonArgs(t *testing.T, in instruction) []string {
	t.Helper()
	var args []string
	if err := json.Unmarshal([]byte(in.args), &args); err != nil {
		t.Fatalf("line %d: %s %s: want the exec form [\"...\"] (no shell in distroless): %v", in.line, in.cmd, in.args, err)
	}
	return args
}

// lastInstruction returns the last instruction named cmd in ins.
func lastInstruction(t *testing.T, ins []instruction, cmd string) instruction {
	t.Helper()
	for i := len(ins) - 1; i >= 0; i-- {
		if ins[i].cmd == cmd {
			return ins[i]
		}
	}
	t.Fatalf("no %s in the final stage", cmd)
	return instruction{}
}

// dockerignore is a parsed .dockerignore: later rules win, "!" re-includes.
type dockerignore []struct {
	re      *regexp.Regexp
	include bool
}

func parseDockerignore(t *testing.T, path string) dockerignore {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read .dockerignore: %v", err)
	}
	var d dockerignore
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		include := strings.HasPrefix(line, "!")
		pattern := filepath.ToSlash(filepath.Clean(strings.TrimPrefix(strings.TrimPrefix(line, "!"), "/")))
		d = append(d, struct {
			re      *regexp.Regexp
			include bool
		}{globRegexp(pattern), include})
	}
	return d
}

// globRegexp translates a .dockerignore pattern (Go filepath.Match syntax plus
// "**" for any number of directories) to an anchored regexp.
func globRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case strings.HasPrefix(pattern[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// excluded tells whether the slash-separated relative path is left out of
// the build context. As in Docker, a rule matching a parent directory
// matches everything under it.
func (d dockerignore) excluded(rel string) bool {
	out := false
	for _, r := range d {
		for p := rel; p != "."; p = filepath.ToSlash(filepath.Dir(p)) {
			if r.re.MatchString(p) {
				out = !r.include
				break
			}
		}
	}
	return out
}

// buildContext copies the repository into a temporary directory the way
// `docker build .` sends it: without what .dockerignore leaves out.
func buildContext(t *testing.T) string {
	t.Helper()
	ignore := parseDockerignore(t, filepath.Join(repoRoot, ".dockerignore"))
	dst := t.TempDir()
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(repoRoot, path)
		if err != nil || rel == "." {
			return err
		}
		if ignore.excluded(filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return copyFile(path, target)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copy build context: %v", err)
	}
	return dst
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// buildLikeDockerfile runs the Dockerfile's `go build` line verbatim with sh,
// in a copy of the build context, with VERSION set as `--build-arg` would,
// writing the binary to bin (an absolute path).
func buildLikeDockerfile(t *testing.T, ins []instruction, version, bin string) {
	t.Helper()
	line := goBuildLine(t, ins)
	if strings.Count(line, "-o "+builderOut+" ") != 1 {
		t.Fatalf("the go build line must write -o %s: %s", builderOut, line)
	}
	cmd := exec.Command("sh", "-c", strings.Replace(line, "-o "+builderOut+" ", "-o "+bin+" ", 1))
	cmd.Dir = buildContext(t)
	cmd.Env = append(os.Environ(), "VERSION="+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's go build failed in the .dockerignore-filtered context: %v\n%s\n%s", err, line, out)
	}
}
